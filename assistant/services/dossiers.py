"""Read dossiers from the database for the API and the CLI (framework-free)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from corpora.errors import InputError, NotFound, StoreError
from corpora.model import DOSSIER_TYPES, Dossier

if TYPE_CHECKING:
    from assistant.services.audit import HasLogin

MAX_PAGE = 500


class DossierSummary(BaseModel):
    id: str
    type: str
    title: str
    source: str
    language: str
    received_at: date | None = None


class DossierPage(BaseModel):
    items: list[DossierSummary]
    total: int = Field(..., description="number of dossiers matching the filters")
    offset: int
    limit: int


class DossierDetail(Dossier):
    """A dossier; ``outcome`` is only filled when explicitly asked for (it is kept apart)."""

    outcome: dict[str, Any] | None = None


class DatabaseStatus(BaseModel):
    url: str
    revision: str | None
    head: str | None
    up_to_date: bool
    dossiers: int = 0
    outcomes: int = 0
    by_type: dict[str, int] = Field(default_factory=dict)
    by_source: dict[str, int] = Field(default_factory=dict)
    ingest_runs: list[dict[str, Any]] = Field(default_factory=list)


@contextmanager
def database_errors(session: Session) -> Iterator[None]:
    """Turn driver errors into one French StoreError (missing tables, unreachable server…)."""
    try:
        yield
    except SQLAlchemyError as exc:
        lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        detail = lines[0] if lines else type(exc).__name__
        if "no such table" in detail or "does not exist" in detail:
            raise StoreError(
                "La base de données n'est pas initialisée : lancez « gdr db upgrade » puis « gdr ingest »."
            ) from exc
        from assistant.db.engine import safe_url

        url = safe_url(str(session.get_bind().engine.url))
        raise StoreError(f"Base de données inaccessible ({url}) : {detail}") from exc


def get_dossier(*, session: Session, dossier_id: str, include_outcome: bool = False,
                viewer: HasLogin | None = None) -> DossierDetail:
    """One dossier (404 ``dossier_not_found``); with ``viewer``, the view is audited (the caller commits)."""
    from assistant.db import repository as repo

    with database_errors(session):
        dossier = repo.get_dossier(session=session, id=dossier_id)
        if dossier is None:
            raise NotFound(f"Dossier introuvable : {dossier_id}", code="dossier_not_found")
        outcome = repo.get_outcome(session=session, dossier_id=dossier_id) if include_outcome else None
    if viewer is not None:
        from assistant.services import audit

        audit.record(session, "dossier_view", actor=viewer, dossier_id=dossier_id,
                     payload={"what": "dossier", "outcome": include_outcome})
    return DossierDetail(**dossier.model_dump(), outcome=outcome)


def list_dossiers(
    *, session: Session, type: str | None = None, source: str | None = None,
    offset: int = 0, limit: int = 50,
) -> DossierPage:
    from assistant.db import repository as repo

    if type is not None and type not in DOSSIER_TYPES:
        raise InputError(f"Type de dossier inconnu : {type} (attendu : {', '.join(DOSSIER_TYPES)}).")
    if offset < 0:
        raise InputError("Le décalage (offset) doit être positif ou nul.")
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"La taille de page (limit) doit être comprise entre 1 et {MAX_PAGE}.")
    with database_errors(session):
        total = repo.count_dossiers(session=session, type=type, source=source)
        rows = repo.list_dossiers(session=session, type=type, source=source, offset=offset, limit=limit)
    items = [DossierSummary.model_validate(d.model_dump()) for d in rows]
    return DossierPage(items=items, total=total, offset=offset, limit=limit)


def database_status(*, session: Session, url: str, runs: int = 5) -> DatabaseStatus:
    """Revision, counts per type and source, and the last ingest runs."""
    from alembic.runtime.migration import MigrationContext

    from assistant.db import repository as repo
    from assistant.db.engine import head_revision

    head = head_revision()
    with database_errors(session):
        revision = MigrationContext.configure(session.connection()).get_current_revision()
        status = DatabaseStatus(url=url, revision=revision, head=head, up_to_date=revision == head)
        if revision is None:
            return status
        status.by_type = repo.count_by(session=session, column="type")
        status.by_source = repo.count_by(session=session, column="source")
        status.dossiers = sum(status.by_type.values())
        status.outcomes = repo.count_outcomes(session=session)
        status.ingest_runs = [
            {
                "id": r.id, "source": r.source, "status": r.status, "read": r.read, "written": r.written,
                "skipped": r.skipped, "started_at": r.started_at.isoformat(), "seconds": r.seconds,
                "error": r.error,
            }
            for r in repo.list_ingest_runs(session=session, limit=runs)
        ]
    return status


def taken_id(*, session: Session, dossier: Dossier) -> str | None:
    """Why a submitted dossier may not use its ``id`` (French), or ``None``.

    An id that names a stored dossier (a corpus dossier loaded by ``gdr ingest``) is refused unless the
    submission is that very dossier (same type, source and text): otherwise a new proposal would be filed
    under, and replace in the queue, the proposal of another dossier.
    """
    from assistant.db.models import DossierRow

    row = session.get(DossierRow, dossier.id)
    if row is None or (row.type, row.source, row.text) == (dossier.type, dossier.source, dossier.text):
        return None
    return (f"Identifiant déjà pris : « {dossier.id} » désigne un dossier enregistré ({row.type.upper()}, source "
            f"{row.source}) dont le contenu diffère. Retirez « id » pour qu'un identifiant soit attribué, ou "
            "choisissez-en un autre ; rien n'a été enregistré.")
