"""Stored assessments: every triage made through the API (and ``store_results`` for batches).

Framework-free; the caller owns the session (and, for ``store_assessment``, the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
from assistant.settings import Settings
from corpora.errors import InputError, NotFound

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


def _row_values(result: Mapping[str, Any], dossier: Mapping[str, Any] | None) -> dict[str, Any]:
    for key in ("id", "type", "risk_level"):
        if not result.get(key):
            raise InputError(f"Résultat de triage incomplet : clé « {key} » absente.")
    mode = result.get("processing_mode") or {}
    score = result.get("risk_score")
    return {
        "dossier_id": str(result["id"]),
        "dossier_type": str(result["type"]),
        "risk_level": str(result["risk_level"]),
        "risk_score": float(score) if score is not None else None,
        "needs_review": bool(result.get("needs_review")),
        "processing_mode_code": mode.get("code") if isinstance(mode, Mapping) else None,
        "result": to_jsonable_python(dict(result)),
        "dossier": to_jsonable_python(dict(dossier)) if dossier is not None else None,
        "model_version": result.get("model_version"),
        "referentiel_version": result.get("referentiel_version"),
    }


def store_assessment(*, session: Session, result: Mapping[str, Any],
                     dossier: Mapping[str, Any] | None = None, actor: HasLogin | Actor | None = None) -> int:
    """Insert one triage result (and optionally the dossier as assessed) with its ``triage`` audit event.

    Returns the assessment id. ``actor`` is who asked for the triage (``None``: the system).
    """
    with database_errors(session):
        row = AssessmentRow(**_row_values(result, dossier))
        session.add(row)
        session.flush()
        assert row.id is not None
    mode = result.get("processing_mode") or {}
    audit.record(session, "triage", actor=actor, dossier_id=row.dossier_id, payload={
        "assessment_id": row.id, "type": row.dossier_type, "risk_level": row.risk_level,
        "risk_score": row.risk_score, "needs_review": row.needs_review, "processing_mode": row.processing_mode_code,
        "deadline_days": mode.get("deadline_days") if isinstance(mode, Mapping) else None,
        "criteria": [c.get("code") for c in result.get("criteria") or [] if isinstance(c, Mapping)],
    }, versions=audit.current_versions(model=row.model_version, referentiel=row.referentiel_version))
    return row.id


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


def store_results(settings: Settings, results: Iterable[Mapping[str, Any]],
                  actor: HasLogin | Actor | None = None) -> int:
    """Store triage results (e.g. those of ``gdr triage``) in one transaction; return how many."""
    from assistant.db.engine import check_schema, make_engine

    engine = make_engine(settings)
    try:
        check_schema(engine)
        n = 0
        with Session(engine) as session, session.begin():
            for result in results:
                store_assessment(session=session, result=result, actor=actor)
                n += 1
        return n
    finally:
        engine.dispose()
