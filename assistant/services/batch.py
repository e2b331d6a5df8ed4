"""Batch triage: a CSV, JSON Lines file, zip, folder or several files → one result or one error per row.

Used by ``POST /triage/batch`` (NDJSON stream) and ``gdr triage`` (files and folders). Reading is
:mod:`corpora.batch`; this module adds the settings' limits, feeds the dossiers to the triage
service as one stream (models and index opened once), and puts each row's error back in its
place between the results, so the output follows the input order.

Output rows (:class:`BatchRow`): a triage result (contract of ``gdr triage --json``, with the
``intake`` block) at its ``row`` (1-based position in the batch) and ``where`` (file and line),
or the row's French error; as JSON, ``{"row", "where", **result}`` or ``{"row", "where",
"error"}``. Errors about the batch as a whole (corrupt
zip, CSV without a text column, empty batch…) raise before the first row.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.services.resources import Resources
from assistant.settings import Settings
from classifier.result import TriageResult
from corpora.batch import BatchEntry, iter_batch
from corpora.errors import GdrError, InputError, InputTooLarge
from corpora.io import os_reason
from corpora.model import IntakeItem
from corpora.normalise import fr_int

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from assistant.services.audit import Actor, HasLogin

# File kinds ``gdr triage`` reads through the intake parsers (the others keep their own reader).
INTAKE_SUFFIXES = (".pdf", ".docx", ".xml", ".csv", ".tsv", ".zip")
# Files read whole, as one upload to ``POST /triage`` (same ids, refusals and warnings).
UPLOAD_SUFFIXES = (".txt", ".md", ".json")
# Files read row by row (bounded by settings.intake: rows, text length); the others are one upload each.
BATCH_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".tsv", ".zip")
_SKIP = (".", "~$", "__MACOSX")


def upload_entries(settings: Settings, data: bytes, *, filename: str | None = None,
                   declared_type: str | None = None, declared_format: str | None = None,
                   media_type: str | None = None) -> Iterator[BatchEntry]:
    """Entries of an uploaded batch; a batch-level problem raises before the first entry."""
    from assistant.services.intake import injection_patterns, intake_limits

    if data and len(data) > settings.api.max_upload_bytes:
        raise InputTooLarge(f"Lot trop volumineux : {fr_int(len(data))} octets (maximum "
                            f"{fr_int(settings.api.max_upload_bytes)}).")
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
    from corpora.limits import check_text_length

    suffix = path.suffix.lower()
    limits = intake_limits(settings)
    if suffix not in BATCH_SUFFIXES:
        # One file, one dossier (or a JSON list): the same size limit as an upload to the API.
        size = path.stat().st_size
        if size > settings.api.max_upload_bytes:
            raise InputTooLarge(f"{path} : fichier trop volumineux : {fr_int(size)} octets (maximum "
                                f"{fr_int(settings.api.max_upload_bytes)}).")
    if suffix in UPLOAD_SUFFIXES:
        yield from _upload_file_entries(settings, path, default_type if suffix in (".txt", ".md") else None)
        return
    if suffix not in INTAKE_SUFFIXES:
        if suffix not in (".jsonl", ".ndjson"):
            raise InputError(f"{path} : format non reconnu (attendu : .jsonl, .json, .txt, .md, .pdf, .docx, .xml, "
                             ".csv ou .zip).")
        for item in read_inputs([path], default_type):
            if isinstance(item, Skipped):
                yield BatchEntry(0, item.where, error=item.reason)
                continue
            try:
                check_text_length(item.text, limits, str(path))
            except GdrError as exc:
                yield BatchEntry(0, str(path), error=exc.message)
                continue
            yield BatchEntry(0, str(path), item=IntakeItem(item))
        return
    size = path.stat().st_size
    if size > max(limits.max_zip_total_bytes, limits.max_document_bytes):
        raise InputTooLarge(f"{path} : fichier trop volumineux ({size // 2**20} Mio).")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Impossible de lire {path} : {os_reason(exc)}.") from None
    for entry in iter_batch(data, filename=path.name, declared_type=default_type if suffix in (".csv", ".tsv")
                            else None, limits=limits, injection_patterns=injection_patterns()):
        if entry.where == path.name:
            entry.where = str(path)
        elif entry.where.startswith(path.name):
            entry.where = f"{path.parent / path.name}{entry.where[len(path.name):]}"
        else:
            entry.where = f"{path}, {entry.where}"
        yield entry


def _upload_file_entries(settings: Settings, path: Path, declared_type: str | None) -> Iterator[BatchEntry]:
    """A .txt/.md narrative or a .json file read exactly as ``POST /triage`` reads it (ids ``intake:…``).

    Empty, binary (NUL bytes), undecodable or malformed files raise (a named file stops the command);
    a dossier in neither French nor English is an error on its row, as in a JSON Lines file.
    """
    from assistant.services.intake import read_upload
    from assistant.services.triage import check_language

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Impossible de lire {path} : {os_reason(exc)}.") from None
    items = read_upload(settings, data, filename=path.name, declared_type=declared_type)
    for i, item in enumerate(items, 1):
        where = str(path) if len(items) == 1 else f"{path}, dossier {i}"
        reason = check_language(item.dossier)
        yield BatchEntry(0, where, error=reason) if reason else BatchEntry(0, where, item=item)


@dataclass
class BatchRow:
    """One row of a batch: its triage result, or the French error that kept it from being triaged."""

    row: int
    where: str
    result: TriageResult | None = None
    error: str | None = None

    def as_json(self, locate: bool = True) -> dict[str, Any]:
        """``{"row", "where", **result}`` (the result alone without ``locate``), or ``{"row", "where", "error"}``."""
        if self.result is None:
            return {"row": self.row, "where": self.where, "error": self.error}
        data = self.result.model_dump(mode="json")
        return {"row": self.row, "where": self.where, **data} if locate else data


def triage_entries(settings: Settings, entries: Iterable[BatchEntry], *, with_precedents: bool = True,
                   workers: int = 1, store: Callable[[BatchRow, IntakeItem], None] | None = None,
                   resources: Resources | None = None) -> Iterator[BatchRow]:
    """Triage the entries' dossiers as one stream; yield results and error rows in input order.

    ``store`` (optional) is called with each finished row and its intake item (see
    :func:`triage_and_store_entries`). ``resources``: the application's (see :func:`triage_dossiers`).
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

    for done, result in enumerate(triage_dossiers(settings, dossiers(), with_precedents=with_precedents,
                                                  workers=workers, resources=resources)):
        while errors and errors[0][0] <= done:
            yield error_row(errors.popleft()[1])
        entry = items.popleft()
        assert entry.item is not None
        row = BatchRow(entry.row, entry.where, annotate(result, entry.item))
        if store is not None:
            store(row, entry.item)
        yield row
    while errors:
        yield error_row(errors.popleft()[1])


def triage_and_store_entries(settings: Settings, engine: Engine, entries: Iterable[BatchEntry], *,
                             with_precedents: bool = False, resources: Resources | None = None,
                             actor: HasLogin | Actor | None = None) -> Iterator[BatchRow]:
    """What ``POST /triage/batch`` does: each triaged row is stored as an assessment (``assessment_id``).

    ``actor`` (who sent the batch) is recorded with each row in the audit log.
    One transaction per row: a failing row never leaves half a record, and the rows before it stay stored.
    """
    from sqlalchemy.orm import Session

    from assistant.services.assessments import store_assessment
    from assistant.services.pseudonyms import pseudonymise_item, store_mapping

    mappings: dict[int, dict[str, str]] = {}  # row → placeholder map, until the row is stored

    def pseudonymised(rows: Iterable[BatchEntry]) -> Iterator[BatchEntry]:
        from assistant.services.dossiers import taken_id

        for entry in rows:
            if entry.item is not None:
                with Session(engine) as session:
                    why = taken_id(session=session, dossier=entry.item.dossier)
                if why is not None:
                    yield BatchEntry(entry.row, entry.where, error=why)
                    continue
                try:
                    done = pseudonymise_item(settings, entry.item)
                except GdrError as exc:
                    yield BatchEntry(entry.row, entry.where, error=exc.message)
                    continue
                mappings[entry.row] = done.mapping
                entry = BatchEntry(entry.row, entry.where, item=done.item)
            yield entry

    def store(row: BatchRow, item: IntakeItem) -> None:
        assert row.result is not None
        with Session(engine) as session, session.begin():
            row.result.assessment_id = store_assessment(session=session, result=row.result, dossier=item.dossier,
                                                        actor=actor, position=(row.row, row.where),
                                                        duplicates=settings.duplicates)
            store_mapping(settings, session, assessment_id=row.result.assessment_id, dossier_id=row.result.id,
                          mapping=mappings.pop(row.row, {}))

    return triage_entries(settings, pseudonymised(entries), with_precedents=with_precedents, store=store,
                          resources=resources)


def error_row(entry: BatchEntry) -> BatchRow:
    return BatchRow(entry.row, entry.where, error=entry.error)
