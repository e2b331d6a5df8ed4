"""Stored assessments: every triage made through the API (see ``triage.triage_and_store``).

Framework-free; the caller owns the session and the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from assistant.db.models import AssessmentRow
from assistant.services import audit
from assistant.services.audit import Actor, HasLogin
from assistant.services.dossiers import database_errors
from assistant.settings import DuplicatesSettings
from classifier.result import TriageResult
from corpora.errors import InputError, NotFound
from corpora.model import Dossier, dossier_from_json

MAX_LIST = 500


class AssessmentSummary(BaseModel):
    id: int
    dossier_id: str
    dossier_type: str
    risk_level: str
    risk_score: float | None = None
    needs_review: bool
    processing_mode_code: str | None = None
    model_version: str | None = None
    referentiel_version: str | None = None
    created_at: datetime


class AssessmentDetail(AssessmentSummary):
    result: dict[str, Any] = Field(..., description="the full triage JSON line")
    dossier: dict[str, Any] | None = Field(None, description="the dossier as it was assessed")


def store_assessment(*, session: Session, result: TriageResult, dossier: Dossier | Mapping[str, Any] | None = None,
                     actor: HasLogin | Actor | None = None, position: tuple[int, str] | None = None,
                     duplicates: DuplicatesSettings | None = None) -> int:
    """Insert one triage result (and optionally the dossier as assessed) with its ``triage`` audit event.

    A PV dossier is first compared with the stored assessments: its likely twins join
    ``result.duplicates`` (settings ``duplicates``, default ones when None), then its blocking keys
    are stored for the reports to come (:mod:`assistant.services.duplicates`).


    Returns the assessment id. ``dossier`` is the dossier as assessed (or its JSON); ``actor`` is who
    asked for the triage (``None``: the system).
    ``position``: a batch row's ``(row, where)``, stored with the result (``{"row", "where", …}``).
    """
    from assistant.services import duplicates as twins

    dup_settings = duplicates or DuplicatesSettings()
    as_dossier = _as_dossier(dossier)
    if as_dossier is not None:
        twins.add_stored(session, result, as_dossier, dup_settings)
    stored = result.model_dump(mode="json")
    if position is not None:
        stored = {"row": position[0], "where": position[1], **stored}
    with database_errors(session):
        row = AssessmentRow(
            dossier_id=result.id,
            dossier_type=result.type,
            risk_level=result.risk_level,
            risk_score=result.risk_score,
            needs_review=result.needs_review,
            processing_mode_code=result.processing_mode.code,
            result=stored,
            dossier=_dossier_json(dossier),
            model_version=result.model_version,
            referentiel_version=result.referentiel_version,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
    if as_dossier is not None and twins.applies(as_dossier, dup_settings):
        twins.register(session, row.id, as_dossier)
    audit.record(session, "triage", actor=actor, dossier_id=row.dossier_id, payload={
        "assessment_id": row.id, "type": row.dossier_type, "risk_level": row.risk_level,
        "risk_score": row.risk_score, "needs_review": row.needs_review, "processing_mode": row.processing_mode_code,
        "deadline_days": result.processing_mode.deadline_days,
        "criteria": [c.code for c in result.criteria],
        **({"duplicates": [{"id": d.id, "score": d.score} for d in result.duplicates]} if result.duplicates else {}),
    }, versions=audit.current_versions(model=row.model_version, referentiel=row.referentiel_version))
    return row.id


def _as_dossier(dossier: Dossier | Mapping[str, Any] | None) -> Dossier | None:
    if dossier is None or isinstance(dossier, Dossier):
        return dossier
    try:
        return dossier_from_json(dict(dossier))
    except ValueError:
        return None


def _dossier_json(dossier: Dossier | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if dossier is None:
        return None
    if isinstance(dossier, Dossier):
        return dossier.model_dump(mode="json")
    return dict(to_jsonable_python(dict(dossier)))


def _summary(row: AssessmentRow) -> AssessmentSummary:
    return AssessmentSummary.model_validate(row, from_attributes=True)


def list_assessments(*, session: Session, dossier_id: str | None = None, limit: int = 50) -> list[AssessmentSummary]:
    """Latest assessments first, optionally for one dossier."""
    if not 1 <= limit <= MAX_LIST:
        raise InputError(f"limit doit être compris entre 1 et {MAX_LIST} (reçu : {limit}).")
    stmt = sa.select(AssessmentRow).order_by(AssessmentRow.id.desc()).limit(limit)  # type: ignore[union-attr]
    if dossier_id is not None:
        stmt = stmt.where(AssessmentRow.dossier_id == dossier_id)  # type: ignore[arg-type]
    with database_errors(session):
        return [_summary(r) for r in session.execute(stmt).scalars()]


def get_assessment(*, session: Session, id: int, viewer: HasLogin | Actor | None = None) -> AssessmentDetail:
    """One stored assessment; with ``viewer``, the view is audited (the caller commits)."""
    with database_errors(session):
        row = session.get(AssessmentRow, id)
        if row is None:
            raise NotFound(f"Évaluation introuvable : {id}", code="assessment_not_found")
        detail = AssessmentDetail.model_validate(row, from_attributes=True)
    if viewer is not None:
        audit.record(session, "dossier_view", actor=viewer, dossier_id=detail.dossier_id,
                     payload={"what": "assessment", "assessment_id": detail.id})
    return detail
