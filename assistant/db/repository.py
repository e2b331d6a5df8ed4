"""Persistence functions (keyword-only). The caller owns the session and the transaction.

Upserts are done by id with the dialect's ``INSERT … ON CONFLICT DO UPDATE`` (SQLite and
PostgreSQL), so ingesting the same records twice leaves the database unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from assistant.db.models import DossierRow, IngestRunRow, OutcomeRow, utcnow
from corpora.model import Dossier, Record

_DOSSIER = DossierRow.__table__  # type: ignore[attr-defined]
_OUTCOME = OutcomeRow.__table__  # type: ignore[attr-defined]


def _dossier_values(dossier: Dossier, now: datetime) -> dict[str, Any]:
    return {
        "id": dossier.id,
        "type": dossier.type,
        "title": dossier.title,
        "text": dossier.text,
        "received_at": dossier.received_at,
        "language": dossier.language,
        "source": dossier.source,
        "fields": dossier.fields.model_dump(mode="json", exclude_none=True),
        "created_at": now,
        "updated_at": now,
    }


def _upsert(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: str,
            keep: tuple[str, ...] = ()) -> None:
    """Insert ``rows`` or update them on ``key`` conflict (columns in ``keep`` are not overwritten)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        stmt = insert(table)
        update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != key and c.name not in keep}
        session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=update), list(rows))
        return
    # Other dialects: portable, slower path.
    for row in rows:
        exists = session.execute(sa.select(table.c[key]).where(table.c[key] == row[key])).first()
        if exists:
            values = {k: v for k, v in row.items() if k != key and k not in keep}
            session.execute(sa.update(table).where(table.c[key] == row[key]).values(**values))
        else:
            session.execute(sa.insert(table).values(**row))


def upsert_dossiers(*, session: Session, records: Iterable[Record]) -> int:
    """Upsert dossiers and their outcomes by id; return the number of distinct dossiers written.

    A record whose outcome is ``None`` leaves any outcome already stored untouched. When the
    same id appears twice, the last record wins.
    """
    now = utcnow()
    dossiers: dict[str, dict[str, Any]] = {}
    outcomes: dict[str, dict[str, Any]] = {}
    for record in records:
        dossiers[record.dossier.id] = _dossier_values(record.dossier, now)
        if record.outcome is not None:
            outcomes[record.dossier.id] = {
                "dossier_id": record.dossier.id, "data": to_jsonable_python(dict(record.outcome)),
                "recorded_at": now,
            }
    _upsert(session, _DOSSIER, list(dossiers.values()), "id", keep=("created_at",))
    _upsert(session, _OUTCOME, list(outcomes.values()), "dossier_id")
    return len(dossiers)


def upsert_dossier(*, session: Session, record: Record) -> None:
    """Upsert one dossier (and its outcome when given) by id."""
    upsert_dossiers(session=session, records=[record])


def row_to_dossier(row: DossierRow) -> Dossier:
    return Dossier.model_validate(
        {
            "id": row.id, "type": row.type, "title": row.title, "text": row.text,
            "received_at": row.received_at, "language": row.language, "source": row.source,
            "fields": row.fields or {},
        }
    )


def get_dossier(*, session: Session, id: str) -> Dossier | None:
    row = session.get(DossierRow, id)
    return None if row is None else row_to_dossier(row)


def get_outcome(*, session: Session, dossier_id: str) -> dict[str, Any] | None:
    row = session.get(OutcomeRow, dossier_id)
    return None if row is None else dict(row.data)


def _filtered(stmt: Any, type: str | None, source: str | None) -> Any:
    if type:
        stmt = stmt.where(_DOSSIER.c.type == type)
    if source:
        stmt = stmt.where(_DOSSIER.c.source == source)
    return stmt


def list_dossiers(
    *, session: Session, type: str | None = None, source: str | None = None,
    offset: int = 0, limit: int = 50,
) -> list[Dossier]:
    """Dossiers ordered by id (stable pagination), optionally filtered by type and source."""
    stmt = _filtered(sa.select(DossierRow), type, source).order_by(_DOSSIER.c.id).offset(offset).limit(limit)
    return [row_to_dossier(row) for row in session.execute(stmt).scalars()]


def count_dossiers(*, session: Session, type: str | None = None, source: str | None = None) -> int:
    stmt = _filtered(sa.select(sa.func.count()).select_from(_DOSSIER), type, source)
    return int(session.execute(stmt).scalar_one())


def count_by(*, session: Session, column: str) -> dict[str, int]:
    """Number of dossiers per value of ``column`` (``type`` or ``source``)."""
    col = _DOSSIER.c[column]
    rows = session.execute(sa.select(col, sa.func.count()).group_by(col).order_by(col)).all()
    return {str(value): int(n) for value, n in rows}


def count_outcomes(*, session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(_OUTCOME)).scalar_one())


def create_ingest_run(*, session: Session, source: str, files: Sequence[str] = ()) -> IngestRunRow:
    """Record the start of an ingest (status ``running``); the caller commits."""
    run = IngestRunRow(source=source, files=[str(f) for f in files], status="running", started_at=utcnow())
    session.add(run)
    session.flush()
    return run


def finish_ingest_run(
    *, session: Session, run_id: int, read: int, written: int, skipped: Mapping[str, int],
    status: str = "completed", error: str | None = None, files: Sequence[str] | None = None,
) -> IngestRunRow:
    """Record the end of an ingest: counts, reasons of skips, timing and status."""
    run = session.get(IngestRunRow, run_id)
    if run is None:
        raise LookupError(f"ingest run {run_id} not found")
    finished = utcnow()
    started = run.started_at
    run.read = read
    run.written = written
    run.skipped = {str(k): int(v) for k, v in skipped.items()}
    run.status = status
    run.error = error
    run.finished_at = finished
    run.seconds = round((finished - started).total_seconds(), 3)
    if files is not None:
        run.files = [str(f) for f in files]
    session.add(run)
    session.flush()
    return run


def list_ingest_runs(*, session: Session, limit: int = 10) -> list[IngestRunRow]:
    stmt = sa.select(IngestRunRow).order_by(IngestRunRow.id.desc()).limit(limit)  # type: ignore[union-attr]
    return list(session.execute(stmt).scalars())
