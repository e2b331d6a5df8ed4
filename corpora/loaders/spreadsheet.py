"""A hardened reader of published tables: an xlsx workbook or a CSV, row by row.

xlsx: openpyxl in read-only (streaming) mode; openpyxl parses the sheet XML through defusedxml, which is
checked before a file is opened (hostile XML: entities, DTDs, refused), and the workbook is refused when
it is not a real xlsx or too large once decompressed. CSV: UTF-8 (BOM allowed), delimiter ``,`` ``;`` or
tab chosen from the first 64 KiB. Every failure is a French :class:`~corpora.errors.InputError`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from corpora.errors import CorruptFile, EncodingProblem, InputError, InputTooLarge
from corpora.io import os_reason

MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024


def _check_xlsx(path: Path) -> None:
    """Refuse what is not a sane xlsx before openpyxl parses it."""
    try:
        from openpyxl import xml as openpyxl_xml
    except ImportError as exc:  # pragma: no cover - pinned dependency
        raise InputError("Lecture xlsx impossible : le paquet openpyxl n'est pas installé.") from exc
    if not openpyxl_xml.DEFUSEDXML:
        raise InputError(
            "Lecture xlsx refusée : defusedxml n'est pas actif pour openpyxl (protection contre le XML hostile)."
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise CorruptFile(
            f"{path} n'est pas un classeur xlsx lisible (archive zip tronquée, corrompue ou autre format)."
        ) from exc
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise CorruptFile(f"{path} est une archive zip mais pas un classeur xlsx.")
    if total > MAX_XLSX_UNCOMPRESSED:
        raise InputTooLarge(f"{path} est trop volumineux une fois décompressé ({total // 2**20} Mio).")


def _xlsx_rows(path: Path) -> Iterator[Sequence[Any]]:
    _check_xlsx(path)
    import openpyxl  # heavy-ish; only when an xlsx is read

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on hostile or broken files
        raise CorruptFile(f"{path} n'est pas un classeur xlsx lisible ({type(exc).__name__}).") from exc
    try:
        ws = wb.active if wb.active is not None else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise CorruptFile(f"{path} : feuille illisible ({type(exc).__name__}).") from exc
            yield row
    finally:
        wb.close()


def _csv_rows(path: Path) -> Iterator[Sequence[Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Impossible de lire {path} : {os_reason(exc)}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EncodingProblem(
            f"{path} n'est pas encodé en UTF-8 (octet invalide en position {exc.start}) ; "
            "réenregistrez le CSV en UTF-8."
        ) from exc
    if "\x00" in text[:4096]:
        raise CorruptFile(f"{path} est un fichier binaire, pas un CSV.")
    first = text[:65536]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d])
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise CorruptFile(f"{path} n'est pas un CSV lisible ({exc}).") from exc


def table_rows(path: Path, what: str = "la table") -> Iterator[Sequence[Any]]:
    """The rows of an xlsx (first or active sheet) or CSV file, as sequences of cell values.

    ``what`` names the table in the error for an unknown format (``"la table EPAR"``).
    """
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"} or (suffix != ".csv" and zipfile.is_zipfile(path)):
        return _xlsx_rows(path)
    if suffix in {".csv", ".txt", ".tsv"}:
        return _csv_rows(path)
    raise InputError(f"{path} : format non reconnu pour {what} (attendu : .xlsx ou .csv).")
