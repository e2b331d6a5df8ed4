"""Records from JSON Lines files in the convert format (``gdr corpora convert``, the sample)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from corpora.io import iter_jsonl
from corpora.loaders.base import LoadReport
from corpora.model import Record, record_from_json


def iter_record_file(path: Path, report: LoadReport, limit: int | None = None) -> Iterator[Record]:
    """Stream the records of one file; unreadable or invalid lines are counted with a French reason."""
    report.add_file(path)
    for _line, obj, error in iter_jsonl(path):
        if limit is not None and report.written >= limit:
            return
        if obj is None:
            report.skip(f"ligne illisible ({error})")
            continue
        try:
            record = record_from_json(obj)
        except ValidationError as exc:
            loc = ".".join(str(x) for x in exc.errors()[0].get("loc", ())) or "ligne"
            report.skip(f"dossier invalide (champ {loc})")
            continue
        report.ok()
        yield record
