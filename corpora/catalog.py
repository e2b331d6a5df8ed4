"""One entry point over every corpus folder: documents for retrieval, dossiers for triage.

Layout of a corpora dir (as ``../shared/corpora``; see ``corpora/sources.yaml``)::

    vaers/YYYYVAERSData.zip     → vaers (case; dossiers of type pv)
    bdpm/CIS_*.txt              → bdpm (product)
    has/CIS_HAS_{SMR,ASMR}_bdpm.txt → has-smr, has-asmr (opinion)
    ema/*.xlsx, ema/*.json      → ema-epar (case; dossiers of type amm), ema-referral, ema-psusa,
                                  ema-dhpc, ema-postauth, ema-orphan, ema-shortage
    ansm_interactions/*.json    → ansm-interaction (interaction)
    ctgov_stopped/*.tsv         → ctgov (trial)
    dossiers.jsonl              → sample (the bundled sample dir, ``corpora/sample``)

Every loader counts what it reads, writes and skips in a :class:`LoadReport`, one per source
(pass ``reports={}`` to collect them). Loader modules are imported only when their source is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from corpora.errors import InputError, UnknownSource
from corpora.loaders.base import LoadReport
from corpora.model import DOSSIER_TYPES, Document, Record

__all__ = [
    "REGISTRY",
    "SourceSpec",
    "available_sources",
    "check_sources",
    "iter_documents",
    "iter_records",
    "source_names",
    "vaers_zip_paths",
]

DocLoader = Callable[[Path, LoadReport, "int | None", "Sequence[int] | None"], Iterator[Document]]

_VAERS_ZIP_RE = re.compile(r"^(\d{4})VAERSDATA\.zip$", re.IGNORECASE)


@dataclass(frozen=True)
class SourceSpec:
    """A canonical source: where its files live and how to read them."""

    name: str
    folder: str  # relative to the corpora dir ("" = the dir itself)
    kind: str
    unit_fr: str  # what one document is, plural, for French summaries ("rapports", "avis SMR")
    marker: str  # glob that must match inside the folder for the source to be present
    load: DocLoader
    dossier_type: str | None = None  # sources that also give dossiers (pv, amm, aec; "*" = any)

    def present(self, corpora_dir: Path) -> bool:
        folder = Path(corpora_dir) / self.folder if self.folder else Path(corpora_dir)
        return folder.is_dir() and any(folder.glob(self.marker))

    def folder_path(self, corpora_dir: Path) -> Path:
        return Path(corpora_dir) / self.folder if self.folder else Path(corpora_dir)


# --------------------------------------------------------------------------- VAERS


def parse_years(value: str | None) -> list[int] | None:
    """VAERS years from ``"2003-2004"`` or ``"2001,2004"`` (ranges and lists mix); None when empty."""
    if not value:
        return None
    message = f"Années VAERS illisibles : « {value} » (ex. 2003-2004 ou 2001,2004)."
    years: list[int] = []
    try:
        for part in value.split(","):
            lo, sep, hi = part.strip().partition("-")
            if lo or sep:
                years.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    except ValueError:
        raise InputError(message) from None
    if not years or any(y < 1990 or y > 2100 for y in years):
        raise InputError(message)
    return sorted(set(years))


def vaers_zip_paths(corpora_dir: Path, years: Sequence[int] | None = None) -> list[Path]:
    """The ``YYYYVAERSData.zip`` files of ``<corpora_dir>/vaers`` (or of a ``vaers`` folder given
    directly), sorted by year, restricted to ``years`` when given."""
    folder = Path(corpora_dir)
    if (folder / "vaers").is_dir():
        folder = folder / "vaers"
    if not folder.is_dir():
        return []
    found: list[tuple[int, Path]] = []
    for p in folder.iterdir():
        m = _VAERS_ZIP_RE.match(p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p))
    wanted = set(years) if years is not None else None
    return [p for y, p in sorted(found) if wanted is None or y in wanted]


def _vaers_records(corpora_dir: Path, report: LoadReport, limit: int | None,
                   years: Sequence[int] | None) -> Iterator[Record]:
    from corpora.loaders.vaers import iter_vaers_records

    paths = vaers_zip_paths(corpora_dir, years)
    if not paths:
        raise InputError(f"Aucune archive VAERS (YYYYVAERSData.zip) dans {Path(corpora_dir) / 'vaers'}"
                         + (f" pour les années {', '.join(map(str, years))}." if years else "."))
    yield from iter_vaers_records(paths, report, limit)


def _vaers_docs(corpora_dir: Path, report: LoadReport, limit: int | None,
                years: Sequence[int] | None) -> Iterator[Document]:
    from corpora.loaders.vaers import vaers_record_to_document

    for record in _vaers_records(corpora_dir, report, limit, years):
        yield vaers_record_to_document(record)


# --------------------------------------------------------------------------- EMA


def _epar_path(ema_dir: Path) -> Path:
    for pattern in ("*european_public_assessment_reports*.xlsx", "*european_public_assessment_reports*.csv"):
        matches = sorted(ema_dir.glob(pattern))
        if matches:
            return matches[-1]
    raise InputError(f"Table EPAR introuvable dans {ema_dir}.")


def _epar_records(corpora_dir: Path, report: LoadReport, limit: int | None,
                  _years: Sequence[int] | None = None) -> Iterator[Record]:
    from corpora.loaders.ema_epar import iter_epar_records

    yield from iter_epar_records(_epar_path(Path(corpora_dir) / "ema"), report, limit)


def _epar_docs(corpora_dir: Path, report: LoadReport, limit: int | None,
               _years: Sequence[int] | None) -> Iterator[Document]:
    from corpora.loaders.ema_epar import epar_record_to_document

    for record in _epar_records(corpora_dir, report, limit):
        yield epar_record_to_document(record)


def _ema_json(source: str) -> DocLoader:
    def load(corpora_dir: Path, report: LoadReport, limit: int | None,
             _years: Sequence[int] | None) -> Iterator[Document]:
        from corpora.loaders.ema_json import EMA_JSON_SOURCES, iter_ema_json_documents

        path = Path(corpora_dir) / "ema" / EMA_JSON_SOURCES[source][0]
        if not path.is_file():
            raise InputError(f"Fichier EMA introuvable : {path}")
        yield from islice(iter_ema_json_documents(path, source, report), limit)

    return load


# --------------------------------------------------------------------------- French sources


def _bdpm_docs(corpora_dir: Path, report: LoadReport, limit: int | None,
               _years: Sequence[int] | None) -> Iterator[Document]:
    from corpora.loaders.bdpm import iter_bdpm_documents

    yield from iter_bdpm_documents(Path(corpora_dir) / "bdpm", report, limit)


def _has(kind: str) -> DocLoader:
    def load(corpora_dir: Path, report: LoadReport, limit: int | None,
             _years: Sequence[int] | None) -> Iterator[Document]:
        from corpora.loaders.bdpm import load_product_names
        from corpora.loaders.has import iter_has_documents

        bdpm_dir = Path(corpora_dir) / "bdpm"
        names = load_product_names(bdpm_dir) if (bdpm_dir / "CIS_bdpm.txt").is_file() else None
        yield from iter_has_documents(Path(corpora_dir) / "has", kind, report,  # type: ignore[arg-type]
                                      product_names=names, limit=limit)

    return load


def _ansm_docs(corpora_dir: Path, report: LoadReport, limit: int | None,
               _years: Sequence[int] | None) -> Iterator[Document]:
    from corpora.loaders.ansm import iter_ansm_documents

    yield from iter_ansm_documents(Path(corpora_dir) / "ansm_interactions", report, limit)


def _ctgov_docs(corpora_dir: Path, report: LoadReport, limit: int | None,
                _years: Sequence[int] | None) -> Iterator[Document]:
    from corpora.loaders.ctgov import iter_ctgov_documents

    yield from iter_ctgov_documents(Path(corpora_dir) / "ctgov_stopped", report, limit)


# --------------------------------------------------------------------------- sample


def _sample_records(corpora_dir: Path, report: LoadReport, limit: int | None,
                    _years: Sequence[int] | None = None) -> Iterator[Record]:
    from corpora.loaders.sample import iter_sample_records

    yield from islice(iter_sample_records(Path(corpora_dir) / "dossiers.jsonl", report), limit)


def _sample_docs(corpora_dir: Path, report: LoadReport, limit: int | None,
                 _years: Sequence[int] | None) -> Iterator[Document]:
    from corpora.loaders.sample import sample_record_to_document

    for record in _sample_records(corpora_dir, report, limit):
        yield sample_record_to_document(record)


# --------------------------------------------------------------------------- registry

_SPECS: tuple[SourceSpec, ...] = (
    SourceSpec("vaers", "vaers", "case", "rapports", "*VAERSData.zip", _vaers_docs, "pv"),
    SourceSpec("bdpm", "bdpm", "product", "produits", "CIS_bdpm.txt", _bdpm_docs),
    SourceSpec("has-smr", "has", "opinion", "avis SMR", "CIS_HAS_SMR_bdpm.txt", _has("smr")),
    SourceSpec("has-asmr", "has", "opinion", "avis ASMR", "CIS_HAS_ASMR_bdpm.txt", _has("asmr")),
    SourceSpec("ema-epar", "ema", "case", "EPAR humains", "*european_public_assessment_reports*",
               _epar_docs, "amm"),
    SourceSpec("ema-referral", "ema", "referral", "saisines (referrals)", "medicines_output_referrals_en.json",
               _ema_json("ema-referral")),
    SourceSpec("ema-psusa", "ema", "psusa", "PSUSA",
               "medicines_output_periodic_safety_update_report_single_assessments_en.json",
               _ema_json("ema-psusa")),
    SourceSpec("ema-dhpc", "ema", "dhpc", "DHPC", "medicines_output_dhpc_en.json", _ema_json("ema-dhpc")),
    SourceSpec("ema-postauth", "ema", "opinion", "avis post-autorisation",
               "medicines_output_post_authorisation_en.json", _ema_json("ema-postauth")),
    SourceSpec("ema-orphan", "ema", "product", "désignations orphelines",
               "medicines_output_orphan_designations_en.json", _ema_json("ema-orphan")),
    SourceSpec("ema-shortage", "ema", "product", "pénuries", "medicines_output_shortages_en.json",
               _ema_json("ema-shortage")),
    SourceSpec("ansm-interaction", "ansm_interactions", "interaction", "interactions", "thesaurus*.json",
               _ansm_docs),
    SourceSpec("ctgov", "ctgov_stopped", "trial", "essais arrêtés", "stopped_predictions*.tsv", _ctgov_docs),
    SourceSpec("sample", "", "case", "dossiers fictifs", "dossiers.jsonl", _sample_docs, "*"),
)

REGISTRY: dict[str, SourceSpec] = {}
for _spec in _SPECS:
    if _spec.name in REGISTRY:  # pragma: no cover - guarded at import, a programming error
        raise RuntimeError(f"duplicate source {_spec.name}")
    REGISTRY[_spec.name] = _spec

_RECORD_LOADERS: dict[str, Callable[..., Iterator[Record]]] = {
    "vaers": _vaers_records,
    "ema-epar": _epar_records,
    "sample": _sample_records,
}


def source_names() -> list[str]:
    return list(REGISTRY)


def check_sources(sources: Sequence[str] | None) -> list[str]:
    """Validate source names; unknown → :class:`UnknownSource` listing the valid ones (French)."""
    if sources is None:
        return list(REGISTRY)
    unknown = [s for s in sources if s not in REGISTRY]
    if unknown:
        raise UnknownSource(
            f"Source inconnue : {', '.join(unknown)}. Sources valides : {', '.join(REGISTRY)}."
        )
    return list(dict.fromkeys(sources))


def available_sources(corpora_dir: Path) -> list[str]:
    """The sources whose files are present in ``corpora_dir``, in registry order."""
    return [name for name, spec in REGISTRY.items() if spec.present(Path(corpora_dir))]


def _selected(corpora_dir: Path, sources: Sequence[str] | None) -> list[SourceSpec]:
    corpora_dir = Path(corpora_dir)
    if not corpora_dir.is_dir():
        raise InputError(f"Dossier des corpus introuvable : {corpora_dir}")
    names = check_sources(sources)
    specs = []
    for name in names:
        spec = REGISTRY[name]
        if spec.present(corpora_dir):
            specs.append(spec)
        elif sources is not None:
            raise InputError(
                f"Source {name} absente de {corpora_dir} (attendu : {spec.folder or '.'}/{spec.marker})."
            )
    return specs


def iter_documents(
    corpora_dir: Path,
    sources: Sequence[str] | None = None,
    limit: int | None = None,
    reports: dict[str, LoadReport] | None = None,
    vaers_years: Sequence[int] | None = None,
) -> Iterator[Document]:
    """Documents of every source present in ``corpora_dir`` (or of ``sources``), source after source.

    ``limit`` = at most N documents *per source*. ``reports`` (a dict) receives one
    :class:`LoadReport` per source read. ``vaers_years`` restricts VAERS to those years.
    Asking explicitly for a source whose files are absent is an :class:`InputError`.
    """
    if limit is not None and limit < 0:
        raise InputError("La limite doit être un entier positif.")
    for spec in _selected(Path(corpora_dir), sources):
        report = LoadReport(source=spec.name)
        if reports is not None:
            reports[spec.name] = report
        if limit == 0:
            continue
        yield from islice(spec.load(Path(corpora_dir), report, limit, vaers_years), limit)
        report.finish()


def iter_records(
    corpora_dir: Path,
    types: Sequence[str] | None = None,
    limit: int | None = None,
    reports: dict[str, LoadReport] | None = None,
    vaers_years: Sequence[int] | None = None,
) -> Iterator[Record]:
    """Dossiers with their recorded outcome: VAERS → ``pv``, human EPARs → ``amm``, the sample → all
    types (filtered by ``types``). ``limit`` = at most N records per source."""
    wanted = set(types) if types is not None else set(DOSSIER_TYPES)
    bad = wanted - set(DOSSIER_TYPES)
    if bad:
        raise InputError(
            f"Type de dossier inconnu : {', '.join(sorted(bad))}. Types valides : {', '.join(DOSSIER_TYPES)}."
        )
    corpora_dir = Path(corpora_dir)
    for name, loader in _RECORD_LOADERS.items():
        spec = REGISTRY[name]
        if not spec.present(corpora_dir) or (spec.dossier_type != "*" and spec.dossier_type not in wanted):
            continue
        report = LoadReport(source=name)
        if reports is not None:
            reports[name] = report
        if limit == 0:
            continue
        # The sample mixes types: filter here, and let the loader run unbounded (42 lines).
        inner_limit = limit if spec.dossier_type != "*" else None
        records = loader(corpora_dir, report, inner_limit, vaers_years)
        yield from islice((r for r in records if r.dossier.type in wanted), limit)
        report.finish()
