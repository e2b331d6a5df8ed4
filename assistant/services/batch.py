"""Batch triage: a CSV, JSON Lines file, zip, folder or several files → one result or one error per row.

Used by ``POST /triage/batch`` (NDJSON stream) and ``gdr triage`` (files and folders). Reading is
:mod:`corpora.batch`; this module adds the settings' limits, feeds the dossiers to the triage
service as one stream (models and index opened once), and puts each row's error back in its
place between the results, so the output follows the input order.

Output rows: a triage result (contract of ``gdr triage --json``) with ``row`` (1-based position
in the batch), ``where`` (file and line) and the ``intake`` block; or an error row
``{"row", "where", "error"}`` with a French message. Errors about the batch as a whole (corrupt
zip, CSV without a text column, empty batch…) raise before the first row.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from corpora.batch import BatchEntry, iter_batch
from corpora.errors import GdrError, InputError, InputTooLarge
from corpora.model import IntakeItem

# File kinds ``gdr triage`` reads through the intake parsers (the others keep their own reader).
INTAKE_SUFFIXES = (".pdf", ".docx", ".xml", ".csv", ".tsv", ".zip")
_SKIP = (".", "~$", "__MACOSX")


def upload_entries(settings: Settings, data: bytes, *, filename: str | None = None,
                   declared_type: str | None = None, declared_format: str | None = None,
                   media_type: str | None = None) -> Iterator[BatchEntry]:
    """Entries of an uploaded batch; a batch-level problem raises before the first entry."""
    from assistant.services.intake import injection_patterns, intake_limits

    if data and len(data) > settings.api.max_upload_bytes:
        raise InputTooLarge(f"Lot trop volumineux : {len(data):,} octets (maximum {settings.api.max_upload_bytes:,})."
                            .replace(",", " "))
    entries = iter_batch(data, filename=filename, declared_type=declared_type, declared_format=declared_format,
                         media_type=media_type, limits=intake_limits(settings),
                         injection_patterns=injection_patterns())
    return _peeked(entries)


def _peeked(entries: Iterator[BatchEntry]) -> Iterator[BatchEntry]:
    """Run the generator up to its first entry now (so batch-level errors raise here), then replay."""
    first = next(entries, None)

    def replay() -> Iterator[BatchEntry]:
        if first is not None:
            yield first
        yield from entries

    return replay()


def path_entries(settings: Settings, paths: Sequence[Path], default_type: str = "pv") -> Iterator[BatchEntry]:
    """Entries of files and folders for ``gdr triage``; each given file is checked before any output.

    A folder is a batch: each of its files (recursively, hidden ones skipped) is a row, and a file
    that cannot be read is an error on its row. A file given by name that cannot be read at all
    raises (exit code 2).
    """
    streams: list[Iterator[BatchEntry]] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise InputError(f"Fichier introuvable : {path}")
        if path.is_dir():
            streams.append(_folder_entries(settings, path, default_type))
        else:
            streams.append(_peeked(_file_entries(settings, path, default_type)))
    return _numbered(stream for stream in streams)


def _numbered(streams: Iterable[Iterator[BatchEntry]]) -> Iterator[BatchEntry]:
    n = 0
    for stream in streams:
        for entry in stream:
            n += 1
            entry.row = n
            yield entry


def _folder_entries(settings: Settings, folder: Path, default_type: str) -> Iterator[BatchEntry]:
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not any(part.startswith(_SKIP) for part in p.relative_to(folder).parts))
    if not files:
        raise InputError(f"Dossier vide : {folder} ne contient aucun fichier à trier.")
    for path in files:
        try:
            yield from list(_file_entries(settings, path, default_type))
        except GdrError as exc:
            yield BatchEntry(0, str(path), error=exc.message)


def _file_entries(settings: Settings, path: Path, default_type: str) -> Iterator[BatchEntry]:
    from assistant.services.intake import injection_patterns, intake_limits
    from assistant.services.triage import Skipped, read_inputs

    suffix = path.suffix.lower()
    if suffix not in INTAKE_SUFFIXES:
        if suffix not in (".jsonl", ".json", ".ndjson", ".txt", ".md"):
            raise InputError(f"{path} : format non reconnu (attendu : .jsonl, .json, .txt, .md, .pdf, .docx, .xml, "
                             ".csv ou .zip).")
        for item in read_inputs([path], default_type):
            if isinstance(item, Skipped):
                yield BatchEntry(0, item.where, error=item.reason)
            else:
                yield BatchEntry(0, str(path), item=IntakeItem(item))
        return
    limits = intake_limits(settings)
    size = path.stat().st_size
    if size > max(limits.max_zip_total_bytes, limits.max_document_bytes):
        raise InputTooLarge(f"{path} : fichier trop volumineux ({size // 2**20} Mio).")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Impossible de lire {path} : {exc.strerror or exc}") from None
    for entry in iter_batch(data, filename=path.name, declared_type=default_type if suffix in (".csv", ".tsv")
                            else None, limits=limits, injection_patterns=injection_patterns()):
        if entry.where == path.name:
            entry.where = str(path)
        elif entry.where.startswith(path.name):
            entry.where = f"{path.parent / path.name}{entry.where[len(path.name):]}"
        else:
            entry.where = f"{path}, {entry.where}"
        yield entry


def triage_entries(settings: Settings, entries: Iterable[BatchEntry], *, with_precedents: bool = True,
                   workers: int = 1, locate: bool = True,
                   store: Callable[[dict[str, Any], IntakeItem], None] | None = None) -> Iterator[dict[str, Any]]:
    """Triage the entries' dossiers as one stream; yield results and error rows in input order.

    ``locate`` puts ``row`` and ``where`` on the results too (error rows always carry them).
    ``store`` (optional) is called with each finished result and its intake item (the API stores
    assessments that way, one transaction per row, so a failing row never leaves half a record).
    """
    from assistant.services.intake import annotate
    from assistant.services.triage import triage_dossiers

    errors: deque[tuple[int, BatchEntry]] = deque()  # (dossiers seen before it, entry)
    items: deque[BatchEntry] = deque()
    seen = 0

    def dossiers() -> Iterator[Any]:
        nonlocal seen
        for entry in entries:
            if entry.item is None:
                errors.append((seen, entry))
                continue
            items.append(entry)
            seen += 1
            yield entry.item.dossier

    for done, row in enumerate(triage_dossiers(settings, dossiers(), with_precedents=with_precedents,
                                               workers=workers)):
        while errors and errors[0][0] <= done:
            yield error_row(errors.popleft()[1])
        entry = items.popleft()
        assert entry.item is not None
        annotate(row, entry.item)
        out = {"row": entry.row, "where": entry.where, **row} if locate else row
        if store is not None:
            store(out, entry.item)
        yield out
    while errors:
        yield error_row(errors.popleft()[1])


def error_row(entry: BatchEntry) -> dict[str, Any]:
    return {"row": entry.row, "where": entry.where, "error": entry.error}
