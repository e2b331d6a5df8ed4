"""Corpus services used by the CLI (and later the API): converting published files to dossier JSON Lines.

``convert`` reads a source's published files, writes one JSON line per dossier
(:func:`corpora.model.record_to_json`: dossier keys plus ``outcome``) atomically, and returns the
:class:`LoadReport`. Errors are domain errors with French messages; nothing half-written is left.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from corpora.errors import InputError, UnknownSource
from corpora.io import atomic_writer, dump_json_line, os_reason
from corpora.loaders.base import LoadReport
from corpora.model import Record, record_to_json
from corpora.normalise import fr_decimal

# SOURCE argument of ``gdr corpora convert`` → (canonical source of the report, French description)
CONVERT_SOURCES: dict[str, tuple[str, str]] = {
    "vaers": ("vaers", "archives YYYYVAERSData.zip, un dossier, ou les trois CSV VAERS"),
    "ema": ("ema-epar", "table EMA des EPAR (.xlsx « Medicines output » ou CSV aux mêmes en-têtes)"),
    "sample": ("sample", "échantillon fictif intégré (corpora/sample/dossiers.jsonl) ou un fichier JSONL de ce format"),
}


def _records(source: str, paths: Sequence[Path], report: LoadReport, limit: int | None) -> Iterator[Record]:
    if source == "vaers":
        from corpora.loaders.vaers import iter_vaers_records

        yield from iter_vaers_records(paths, report, limit=limit)
    elif source == "ema":
        from corpora.loaders.ema_epar import iter_epar_records

        if len(paths) != 1:
            raise InputError("La source ema attend un seul fichier (la table EPAR .xlsx ou .csv).")
        yield from iter_epar_records(paths[0], report, limit=limit)
    elif source == "sample":
        from corpora.loaders.sample import iter_sample_records

        targets: list[Path | None] = list(paths) or [None]
        for target in targets:
            if target is not None and not target.exists():
                raise InputError(f"Fichier introuvable : {target}")
            for record in iter_sample_records(target, report):
                yield record
                if limit is not None and report.written >= limit:
                    return


class NothingWritten(InputError):
    """A conversion that read its input and kept none of it: bad input as a whole (exit code 2)."""

    def __init__(self, report: LoadReport) -> None:
        if not report.read:
            super().__init__("Aucun dossier lu dans l'entrée : rien n'a été écrit.")
            return
        reasons = "; ".join(f"{n} × {reason}" for reason, n in
                            sorted(report.skipped.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
        super().__init__(f"Aucun dossier écrit, {report.read} lu(s) et tous ignorés — {reasons}. "
                         "Rien n'a été écrit.")


def check_source(source: str) -> str:
    """Return the canonical source name for a ``convert`` SOURCE argument, or raise UnknownSource."""
    key = source.strip().lower()
    if key not in CONVERT_SOURCES:
        known = ", ".join(CONVERT_SOURCES)
        raise UnknownSource(f"Source inconnue : « {source} » (sources possibles : {known}).")
    return key


def convert(
    source: str,
    paths: Sequence[Path],
    out: Path | str,
    *,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
    stdout: IO[str] | None = None,
    to: str = "jsonl",
) -> LoadReport:
    """Convert ``paths`` of ``source`` to JSON Lines at ``out`` (``"-"`` = ``stdout``); return the report.

    ``to="e2b"`` writes ICH E2B(R3) ICSRs instead (one ``MCCI_IN200100UV01`` batch; PV sources only;
    element paths in :mod:`corpora.e2b_export`).

    The output file is written atomically: on any error it is left untouched (or absent).
    ``progress`` is called with the number of lines written so far, every few hundred lines.
    """
    key = check_source(source)
    if to not in ("jsonl", "e2b"):
        raise InputError(f"Format de sortie inconnu : « {to} » (attendu : jsonl ou e2b).")
    if to == "e2b" and key == "ema":
        raise InputError("Les dossiers AMM de l'EMA ne sont pas des ICSR : --to e2b est réservé à vaers et sample.")
    if limit is not None and limit < 1:
        raise InputError("--limit doit être un entier positif.")
    if key != "sample" and not paths:
        raise InputError(f"Aucun fichier d'entrée indiqué pour la source {key} ({CONVERT_SOURCES[key][1]}).")
    for p in paths:
        if not Path(p).exists():
            raise InputError(f"Fichier ou dossier introuvable : {p}")
    report = LoadReport(source=CONVERT_SOURCES[key][0])
    records = _records(key, [Path(p) for p in paths], report, limit)

    def write_all(fh: IO[str]) -> None:
        from corpora.e2b_export import BATCH_HEAD, BATCH_TAIL, icsr_xml

        n = 0
        for record in records:
            if to == "e2b":
                if record.dossier.type != "pv":  # only PV dossiers are ICSRs: counted as ignored, with why
                    report.unwrite(f"dossier {record.dossier.type.upper()} : pas un ICSR (--to e2b n'écrit que "
                                   "la pharmacovigilance)")
                    continue
                if n == 0:  # the batch opens with its first ICSR: no ICSR, nothing written
                    fh.write(BATCH_HEAD)
                fh.write(icsr_xml(record))
            else:
                fh.write(dump_json_line(record_to_json(record)))
            fh.write("\n")
            n += 1
            if progress is not None and n % 500 == 0:
                progress(n)
        if to == "e2b" and n:
            fh.write(BATCH_TAIL)
        if progress is not None:
            progress(n)

    if str(out) == "-":
        # Read the first record before writing anything, so bad input leaves stdout empty.
        stream = stdout or sys.stdout
        first: list[Record] = []
        for record in records:
            first.append(record)
            break
        rest = records

        def chained() -> Iterator[Record]:
            yield from first
            yield from rest

        records = chained()
        write_all(stream)
        stream.flush()
        if report.written == 0:
            raise NothingWritten(report)
    else:
        target = Path(out)
        if target.is_dir():
            raise InputError(f"--out désigne un dossier : {target} ; indiquez un fichier .jsonl.")
        try:
            with atomic_writer(target) as fh:
                write_all(fh)
                if report.written == 0:  # raised inside: the empty file is never put in place
                    raise NothingWritten(report)
        except PermissionError as exc:
            raise InputError(f"Impossible d'écrire {target} : permission refusée.") from exc
        except OSError as exc:
            raise InputError(f"Impossible d'écrire {target} : {os_reason(exc)}.") from exc
    return report.finish()


def _fmt_int(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def summary_fr(report: LoadReport, out: Path | str) -> str:
    """One French summary line (plus one line per skip reason) for a finished conversion."""
    where = "la sortie standard" if str(out) == "-" else str(out)
    seconds = fr_decimal(report.seconds)
    lines = [
        f"Conversion {report.source} : {_fmt_int(report.read)} lu(s), {_fmt_int(report.written)} écrit(s), "
        f"{_fmt_int(report.skipped_total)} ignoré(s) en {seconds} s → {where}"
    ]
    for reason, count in sorted(report.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  ignoré(s) : {_fmt_int(count)} — {reason}")
    return "\n".join(lines)

