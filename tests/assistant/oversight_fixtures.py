"""Small helpers for the oversight tests: stored proposals shaped like real triage results.

A proposal is stored through the real service (``store_assessment``) with the processing mode the
real policy gives for its type and level; only the classifier run is skipped, to keep tests fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from assistant.db.engine import make_engine
from assistant.db.models import AssessmentRow
from assistant.services.assessments import store_assessment
from assistant.settings import Settings
from classifier.assess import FINAL_LEVEL_RULE
from classifier.policy import processing_mode
from classifier.result import TriageResult


def triage_result(dossier_id: str, dossier_type: str, level: str, score: float = 0.5,
                  criteria: tuple[str, ...] = ()) -> TriageResult:
    """A result as the classifier writes it (criteria fired without evidence, no precedents)."""
    return TriageResult.model_validate({
        "id": dossier_id, "type": dossier_type, "risk_level": level, "risk_score": score, "needs_review": False,
        "processing_mode": processing_mode(dossier_type, level),
        "criteria": [{"code": c, "label": c, "evidence": [], "reference": ""} for c in criteria],
        "context": [],
        "explanation": {"niveau_plancher_criteres": level, "niveau_modele": None, "regle": FINAL_LEVEL_RULE,
                        "criteres_declenches": [], "contributions_modele": [], "probabilites": {}},
        "precedents": [], "guidelines": [], "warnings": [],
        "model_version": "test-model-1", "referentiel_version": "test-ref-1"})


@contextmanager
def session_on(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def store_proposal(session: Session, dossier_id: str, dossier_type: str, level: str, *, score: float = 0.5,
                   dossier: dict[str, Any] | None = None, criteria: tuple[str, ...] = (),
                   created_at: datetime | None = None) -> int:
    """Store one proposal (and its triage audit event); the caller commits."""
    assessment_id = store_assessment(session=session, result=triage_result(dossier_id, dossier_type, level, score,
                                                                          criteria), dossier=dossier)
    if created_at is not None:
        row = session.get(AssessmentRow, assessment_id)
        assert row is not None
        row.created_at = created_at
        session.flush()
    return assessment_id
