"""Ingest dossiers (with their recorded outcomes) into the database.

Records are upserted by id in batches, each batch in its own transaction together with
its outcomes: an interrupted ingest leaves every committed batch whole, and running the
same ingest again converges to the same database (idempotent). Every ingest is recorded
in ``ingest_run`` (source, files, counts read / written / skipped with reasons, timing,
status ``running`` → ``completed`` or ``failed``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from corpora.errors import GdrError, InputError
from corpora.loaders.base import LoadReport
from corpora.loaders.jsonl import iter_record_file
from corpora.model import Record
from corpora.normalise import fr_decimal

if TYPE_CHECKING:
    from assistant.settings import Settings

DEFAULT_BATCH = 500


class IngestSummary(BaseModel):
    """What one ingest did (the ``ingest_run`` row as returned to callers)."""

    id: int
    source: str
    files: list[str]
    read: int
    written: int
    skipped: dict[str, int]
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None
    status: str
    error: str | None = None


def iter_converted_records(
    paths: Sequence[Path], report: LoadReport, limit: int | None = None
) -> Iterator[Record]:
    """Records from JSON Lines files written by ``gdr corpora convert`` (or the sample's format).

    Malformed or invalid lines are counted in ``report`` with a French reason and skipped.
    """
    if not paths:
        raise InputError("Aucun fichier JSONL indiqué.")
    for path in paths:
        p = Path(path)
        if p.is_dir():
            raise InputError(f"{p} est un dossier : indiquez un fichier JSONL.")
        yield from iter_record_file(p, report, limit)
        if limit is not None and report.written >= limit:
            return


def _batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(records)
    while batch := list(islice(it, size)):
        yield batch


def _summary(run: object) -> IngestSummary:
    return IngestSummary.model_validate(run, from_attributes=True)


def ingest_records(
    settings: Settings,
    records: Iterable[Record],
    source: str,
    *,
    report: LoadReport | Mapping[str, LoadReport] | None = None,
    files: Sequence[str | Path] = (),
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Upsert ``records`` into the database configured by ``settings``; return the run summary.

    ``report`` is the loader's report, when the records come from a loader (or a mapping source →
    report, filled while the records stream, as ``corpora.catalog.iter_records`` does): its read
    and skipped counts (with reasons) are recorded with the run. The schema is brought to the
    head revision first (Alembic). ``progress`` receives the number of dossiers written so far.
    """
    from assistant.db import repository as repo
    from assistant.db.engine import make_engine, unreachable, upgrade

    engine = make_engine(settings)
    try:
        upgrade(settings, engine=engine)
        with Session(engine) as session, session.begin():
            run_id = repo.create_ingest_run(session=session, source=source, files=[str(f) for f in files]).id
        assert run_id is not None
        written = 0
        seen = 0
        status, error = "completed", None
        try:
            for batch in _batches(records, max(1, batch_size)):
                seen += len(batch)
                with Session(engine) as session, session.begin():
                    written += repo.upsert_dossiers(session=session, records=batch)
                if progress is not None:
                    progress(written)
        except GdrError as exc:
            status, error = "failed", exc.message
            raise
        except SQLAlchemyError as exc:
            status, error = "failed", str(exc).splitlines()[0]
            raise unreachable(engine, exc) from exc
        except BaseException as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            skipped: Counter[str] = Counter()
            read = seen
            run_files = [str(f) for f in files]
            if report is not None:
                merged = _merge(report)
                skipped = merged.skipped
                # Read = records received + rows the loaders skipped (rows filtered out by type
                # are neither), so that read == written + skipped for a clean run.
                read = seen + sum(skipped.values())
                run_files = run_files or list(merged.files)
            try:
                with Session(engine) as session, session.begin():
                    run = repo.finish_ingest_run(
                        session=session, run_id=run_id, read=read, written=written, skipped=skipped,
                        status=status, error=error, files=run_files,
                    )
                    summary = _summary(run)
            except SQLAlchemyError as exc:
                if status == "completed":
                    raise unreachable(engine, exc) from exc
        return summary
    finally:
        engine.dispose()


def _merge(report: LoadReport | Mapping[str, LoadReport]) -> LoadReport:
    """One report from a loader's report or from several (skip reasons prefixed with the source)."""
    if isinstance(report, LoadReport):
        return report.finish()
    merged = LoadReport(source="+".join(report))
    for name, part in report.items():
        merged.merge(part.finish(), prefix=f"{name} : ")
    return merged


def ingest_corpora(
    settings: Settings, *, types: Sequence[str] | None = None, limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Ingest the dossiers of the corpora dir (``GDR_CORPORA_DIR``, else the bundled sample):
    VAERS → pv, human EPARs → amm, the sample → all types. ``limit`` = at most N per source."""
    from corpora.catalog import iter_records

    reports: dict[str, LoadReport] = {}
    corpora_dir = settings.effective_corpora_dir
    if not corpora_dir.is_dir():
        raise InputError(f"Dossier des corpus introuvable : {corpora_dir}")
    records = iter_records(corpora_dir, types=types, limit=limit, reports=reports)
    source = "corpora" if settings.uses_real_corpora else "sample"
    return ingest_records(settings, records, source, report=reports, files=[str(corpora_dir)],
                          progress=progress)


def ingest_sample(settings: Settings, *, path: Path | None = None, limit: int | None = None) -> IngestSummary:
    """Ingest the bundled fictitious sample (or a file in the same format)."""
    from corpora.loaders.sample import iter_sample_records

    report = LoadReport(source="sample")
    records: Iterable[Record] = iter_sample_records(path, report)
    if limit is not None:
        records = islice(records, limit)
    return ingest_records(settings, records, "sample", report=report)


def ingest_files(settings: Settings, paths: Sequence[Path], *, limit: int | None = None) -> IngestSummary:
    """Ingest converted JSON Lines files (``gdr corpora convert`` output)."""
    report = LoadReport(source="jsonl")
    for path in paths:
        if not Path(path).exists():
            raise InputError(f"Fichier introuvable : {path}")
    records = iter_converted_records(list(paths), report, limit=limit)
    return ingest_records(settings, records, "jsonl", report=report)


def summary_fr(summary: IngestSummary) -> str:
    """A French one-paragraph summary of an ingest run, for the CLI."""
    skipped_total = sum(summary.skipped.values())
    lines = [
        f"Ingestion n° {summary.id} ({summary.source}) : {summary.written} dossier(s) enregistré(s), "
        f"{summary.read} lu(s), {skipped_total} ignoré(s), en {fr_decimal(summary.seconds or 0, 2)} s."
    ]
    for reason, n in sorted(summary.skipped.items(), key=lambda kv: -kv[1]):
        lines.append(f"  ignoré(s) : {n} × {reason}")
    return "\n".join(lines)
