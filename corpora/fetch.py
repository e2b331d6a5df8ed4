"""Download the real public corpora from their publishers (or a mirror) and verify them.

The list of files, their official URLs and how to check them is data: ``corpora/sources.yaml``.
A *mirror* is a folder or an HTTP(S) base URL serving the same relative layout as
``../shared/corpora`` (``vaers/1990VAERSData.zip``, ``bdpm/CIS_bdpm.txt``…).

Each file is written to ``<dest>/<path>.part`` and renamed into place only once verified, so a
reader never sees a half-written file. An existing ``.part`` is resumed with an HTTP ``Range``
request when the server supports it. A file already in place that verifies is skipped.
Network failures become one French :class:`OfflineError`; nothing here prints: progress goes
through a callback.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import socket
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpora.errors import CorruptFile, InputError, OfflineError, UnknownSource
from corpora.io import os_reason
from corpora.normalise import fr_decimal

SOURCES_YAML = Path(__file__).resolve().parent / "sources.yaml"
DEFAULT_TIMEOUT_S = 15.0
_CHUNK = 1 << 16
_USER_AGENT = "gdr-sante-fetch/0.1 (+https://github.com/; open data download)"

# Canonical source names → folder group of sources.yaml.
SOURCE_GROUPS: dict[str, str] = {
    "vaers": "vaers", "bdpm": "bdpm", "has-smr": "has", "has-asmr": "has", "has": "has",
    "ema": "ema", "ema-epar": "ema", "ema-referral": "ema", "ema-psusa": "ema", "ema-dhpc": "ema",
    "ema-postauth": "ema", "ema-orphan": "ema", "ema-shortage": "ema",
    "ansm": "ansm_interactions", "ansm-interaction": "ansm_interactions", "ansm_interactions": "ansm_interactions",
    "ctgov": "ctgov_stopped", "ctgov_stopped": "ctgov_stopped",
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FileSpec:
    group: str
    path: str  # relative, with "/"
    url: str
    format: str
    encoding: str | None = None
    columns: int | None = None
    header: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    min_items: int | None = None
    sha256: str | None = None


@dataclass
class FileResult:
    path: str
    status: str  # "present" | "downloaded" | "copied" | "failed"
    origin: str | None = None
    bytes: int = 0
    error: str | None = None


@dataclass
class FetchReport:
    dest: str
    results: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out


# --------------------------------------------------------------------------- catalogue


def load_file_specs(path: Path = SOURCES_YAML) -> list[FileSpec]:
    """Expand ``sources.yaml`` into one :class:`FileSpec` per file (``{year}`` templates expanded)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CorruptFile(f"Catalogue des sources illisible : {path} ({exc}).") from exc
    specs: list[FileSpec] = []
    for group, info in (data.get("groups") or {}).items():
        years = info.get("years")
        year_list = list(range(int(years[0]), int(years[1]) + 1)) if years else [None]
        for entry in info.get("files") or []:
            for year in year_list if "{year}" in entry["path"] else [None]:
                def fill(value: str, _y: int | None = year) -> str:
                    return value.replace("{year}", str(_y)) if _y is not None else value

                specs.append(FileSpec(
                    group=group,
                    path=fill(entry["path"]),
                    url=fill(entry["url"]),
                    format=entry["format"],
                    encoding=entry.get("encoding"),
                    columns=entry.get("columns"),
                    header=tuple(entry.get("header") or ()),
                    members=tuple(fill(m) for m in entry.get("members") or ()),
                    min_items=entry.get("min_items"),
                    sha256=entry.get("sha256"),
                ))
    return specs


def select_specs(specs: Sequence[FileSpec], only: Sequence[str] | None) -> list[FileSpec]:
    """Files of the groups named by ``only`` (folder names or canonical source names)."""
    if not only:
        return list(specs)
    groups = set()
    for name in only:
        key = name.strip().lower()
        if key not in SOURCE_GROUPS:
            valid = sorted({*SOURCE_GROUPS.values(), *SOURCE_GROUPS})
            raise UnknownSource(f"Source inconnue : {name}. Sources valides : {', '.join(valid)}.")
        groups.add(SOURCE_GROUPS[key])
    return [s for s in specs if s.group in groups]


# --------------------------------------------------------------------------- verification


def verify_file(path: Path, spec: FileSpec) -> str | None:
    """``None`` when the file looks right for ``spec``; else a short French reason."""
    try:
        size = path.stat().st_size
    except OSError:
        return "fichier absent"
    if size == 0:
        return "fichier vide"
    if spec.sha256:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
        if digest.hexdigest() != spec.sha256.lower():
            return "empreinte SHA-256 différente de celle attendue"
    fmt = spec.format
    if fmt in ("zip", "xlsx"):
        try:
            with zipfile.ZipFile(path) as zf:
                bad = zf.testzip()
                names = {n.rsplit("/", 1)[-1].lower() for n in zf.namelist()}
                full = {n.lower() for n in zf.namelist()}
        except (zipfile.BadZipFile, OSError, EOFError):
            return "archive zip illisible (tronquée ou corrompue)"
        if bad is not None:
            return f"archive zip corrompue ({bad})"
        missing = [m for m in spec.members if m.lower() not in names]
        if missing:
            return f"membres absents de l'archive : {', '.join(missing)}"
        if fmt == "xlsx" and "xl/workbook.xml" not in full:
            return "classeur xlsx invalide (xl/workbook.xml absent)"
        return None
    if fmt == "json":
        try:
            with path.open(encoding="utf-8") as fh:
                data = json.load(fh)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "JSON invalide"
        items = data if isinstance(data, list) else data.get("data") if isinstance(data, dict) else None
        if spec.min_items is not None and (not isinstance(items, list) or len(items) < spec.min_items):
            return f"moins de {spec.min_items} éléments"
        return None
    if fmt in ("tsv", "csv"):
        encoding = spec.encoding or "utf-8"
        with path.open("rb") as fh:
            head = fh.read(256 * 1024)
        lines = [line for line in head.split(b"\n")[:-1] if line.strip()][:5] or [head]
        try:
            decoded = [line.decode(encoding).rstrip("\r") for line in lines]
        except UnicodeDecodeError:
            return f"encodage inattendu (attendu : {encoding})"
        if head.lstrip()[:1] == b"<":
            return "page HTML reçue à la place des données"
        sep = "\t" if fmt == "tsv" else ","
        if spec.header:
            first = [c.strip().lower() for c in decoded[0].split(sep)]
            missing = [h for h in spec.header if h.lower() not in first]
            if missing:
                return f"en-tête inattendu (colonnes absentes : {', '.join(missing)})"
        if spec.columns and any(len(line.split(sep)) < spec.columns for line in decoded):
            return f"moins de {spec.columns} colonnes par ligne"
        return None
    return None


# --------------------------------------------------------------------------- transfer


def _is_url(value: str) -> bool:
    return urllib.parse.urlsplit(value).scheme in ("http", "https")


def _network_reason(exc: BaseException) -> str:
    """A short French reason for a network failure."""
    reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return "nom d'hôte introuvable, pas de résolution DNS"
    if isinstance(reason, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(reason, TimeoutError):
        return "délai d'attente dépassé"
    if isinstance(reason, ConnectionError):
        return "connexion interrompue"
    if isinstance(reason, OSError) and (reason.errno or reason.strerror):
        return os_reason(reason)
    return str(reason) or exc.__class__.__name__


def _download(url: str, part: Path, timeout: float, progress: Progress | None, label: str) -> int:
    """Stream ``url`` into ``part`` (resuming it when possible); return the bytes written in total."""
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    if start:
        request.add_header("Range", f"bytes={start}-")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        resumed = start and getattr(response, "status", 200) == 206
        mode = "ab" if resumed else "wb"
        total = response.headers.get("Content-Length")
        expected = (int(total) + (start if resumed else 0)) if total and total.isdigit() else None
        written = start if resumed else 0
        next_report = written + 5 * 1024 * 1024
        with part.open(mode) as out:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                written += len(chunk)
                if progress and written >= next_report:
                    share = f" ({100 * written // expected} %)" if expected else ""
                    progress(f"  {label} : {fr_decimal(written / 1e6)} Mo{share}")
                    next_report = written + 5 * 1024 * 1024
    if expected is not None and written < expected:
        raise OSError(f"transfert incomplet ({written} octets sur {expected})")
    return written


def _copy(src: Path, part: Path) -> int:
    with src.open("rb") as fin, part.open("wb") as fout:
        shutil.copyfileobj(fin, fout, _CHUNK)
    return part.stat().st_size


def fetch_corpora(
    dest: Path,
    mirror: str | None = None,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    specs: Sequence[FileSpec] | None = None,
) -> FetchReport:
    """Fill ``dest`` with the corpora files (official URLs, or ``mirror``), verified and atomic.

    Raises :class:`OfflineError` as soon as the network (or the mirror server) cannot be reached,
    and :class:`InputError` for a bad mirror or destination. Per-file failures (HTTP 404, failed
    verification) are collected in the returned report.
    """
    dest = Path(dest)
    chosen = select_specs(specs if specs is not None else load_file_specs(), only)
    mirror_dir: Path | None = None
    mirror_url: str | None = None
    if mirror:
        if mirror.startswith("file://"):
            mirror_dir = Path(urllib.parse.unquote(urllib.parse.urlsplit(mirror).path))
        elif _is_url(mirror):
            mirror_url = mirror.rstrip("/") + "/"
        else:
            mirror_dir = Path(mirror)
        if mirror_dir is not None:
            if not mirror_dir.is_dir():
                raise InputError(f"Miroir introuvable : {mirror_dir} n'est pas un dossier.")
            with contextlib.suppress(OSError):
                if dest.resolve() == mirror_dir.resolve():
                    raise InputError("La destination est le miroir lui-même : choisissez un autre --dest.")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Impossible de créer le dossier de destination {dest} : {os_reason(exc)}") from exc

    report = FetchReport(dest=str(dest))
    total = len(chosen)
    for n, spec in enumerate(chosen, start=1):
        target = dest / spec.path
        label = f"[{n}/{total}] {spec.path}"
        if target.exists() and verify_file(target, spec) is None:
            report.results.append(FileResult(spec.path, "present", None, target.stat().st_size))
            if progress:
                progress(f"{label} : déjà présent et vérifié")
            continue
        part = target.with_name(target.name + ".part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"Impossible d'écrire dans {target.parent} : {os_reason(exc)}") from exc
        if mirror_dir is not None:
            src = mirror_dir / spec.path
            origin = str(src)
            if not src.is_file():
                report.results.append(FileResult(spec.path, "failed", origin, 0, "absent du miroir"))
                if progress:
                    progress(f"{label} : ÉCHEC (absent du miroir)")
                continue
            try:
                size = _copy(src, part)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    part.unlink()
                raise InputError(f"Copie impossible de {src} vers {part} : {os_reason(exc)}") from exc
            status = "copied"
        else:
            origin = (mirror_url + urllib.parse.quote(spec.path)) if mirror_url else spec.url
            if progress:
                progress(f"{label} : téléchargement depuis {origin}")
            try:
                size = _download(origin, part, timeout, progress, label)
            except urllib.error.HTTPError as exc:
                with contextlib.suppress(OSError):
                    part.unlink()
                reason = f"HTTP {exc.code} {exc.reason}"
                report.results.append(FileResult(spec.path, "failed", origin, 0, reason))
                if progress:
                    progress(f"{label} : ÉCHEC ({reason})")
                continue
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
                host = urllib.parse.urlsplit(origin).netloc
                where = "le miroir" if mirror_url else "la source officielle"
                hint = "" if mirror_url else (
                    " Relancez avec --mirror DOSSIER|URL (copie locale des corpus) ou vérifiez la connexion."
                )
                raise OfflineError(
                    f"Pas d'accès réseau : impossible de joindre {where} {host} ({_network_reason(exc)}).{hint}"
                ) from exc
            except OSError as exc:
                report.results.append(FileResult(spec.path, "failed", origin, 0, str(exc)))
                if progress:
                    progress(f"{label} : ÉCHEC ({exc})")
                continue
            status = "downloaded"
        problem = verify_file(part, spec)
        if problem is not None:
            with contextlib.suppress(OSError):
                part.unlink()
            report.results.append(FileResult(spec.path, "failed", origin, size, f"vérification : {problem}"))
            if progress:
                progress(f"{label} : ÉCHEC de la vérification ({problem})")
            continue
        os.replace(part, target)
        report.results.append(FileResult(spec.path, status, origin, size))
        if progress:
            progress(f"{label} : {'copié' if status == 'copied' else 'téléchargé'} et vérifié "
                     f"({fr_decimal(size / 1e6)} Mo)")
    return report


def report_as_dicts(report: FetchReport) -> list[dict[str, Any]]:
    return [r.__dict__ | {"dest": report.dest} for r in report.results]
