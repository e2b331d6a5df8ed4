"""Work queue: dossiers awaiting a decision, with their regulatory clock (framework-free).

A dossier is pending when its latest proposal (assessment) has no decision yet. Its clock runs from
day 0 (the dossier's reception date, else the day it was assessed) along the milestones of
``classifier/policy.yaml`` (``regulatory_clock``): PV 15 calendar days for a serious case and 90
otherwise, AEC the SUSAR clocks or the Part I timetable, AMM the procedure's clock. The queue shows the
next milestone not yet past (the last one once all are past: then the dossier is overdue), ordered by
level (critique first), then by days left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from assistant.db.models import AssessmentRow, DecisionRow, DossierRow
from assistant.services.dossiers import database_errors
from assistant.settings import OversightSettings
from corpora.errors import InputError
from corpora.model import DOSSIER_TYPES

MAX_QUEUE = 5000


class Milestone(BaseModel):
    label: str
    due: date
    reference: str


class QueueItem(BaseModel):
    """One pending dossier: its proposal and where it stands on its regulatory clock."""

    dossier_id: str
    dossier_type: str
    title: str
    risk_level: str
    risk_score: float | None = None
    needs_review: bool
    processing_mode: str | None = None
    processing_mode_label: str | None = None
    assessment_id: int
    assessed_at: datetime
    day0: date
    day0_source: str = Field(..., description="réception (date du dossier) ou évaluation (date du triage)")
    clock: str = Field(..., description="règle de l'horloge réglementaire appliquée")
    step: str = Field(..., description="prochaine étape (la dernière si toutes sont dépassées)")
    reference: str
    deadline: date
    days_left: int = Field(..., description="jours calendaires jusqu'à l'échéance de l'étape (négatif : retard)")
    overdue: bool
    due_soon: bool
    milestones: list[Milestone]


class Queue(BaseModel):
    today: date
    total: int = Field(..., description="dossiers en attente correspondant aux filtres")
    overdue: int
    due_soon: int
    items: list[QueueItem]


def today_in(timezone: str) -> date:
    """Today's calendar date where the clocks are counted (UTC when the zone is unknown)."""
    from datetime import UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return datetime.now(ZoneInfo(timezone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return datetime.now(UTC).date()


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _findings_of(text: str, language: str | None) -> Callable[[], Iterable[str]]:
    def findings() -> Iterable[str]:
        from classifier.extraction import extract

        return {f.code for f in extract(text, language) if f.affirmed}

    return findings


def _item(assessment: AssessmentRow, dossier: DossierRow | None, today: date, due_soon_days: int,
          timezone: str) -> QueueItem:
    from classifier.levels import normalise_level
    from classifier.policy import load_policy, regulatory_clock

    assessed = assessment.dossier or {}
    result = assessment.result or {}
    received = _as_date(assessed.get("received_at")) or (dossier.received_at if dossier else None)
    if received is not None:
        day0, source = received, "réception"
    else:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            day0 = assessment.created_at.astimezone(ZoneInfo(timezone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            day0 = assessment.created_at.date()
        source = "évaluation"
    fields = assessed.get("fields") or (dossier.fields if dossier else {}) or {}
    text = str(assessed.get("text") or (dossier.text if dossier else "") or "")
    language = assessed.get("language") or (dossier.language if dossier else None)
    criteria = [str(c.get("code")) for c in result.get("criteria") or [] if isinstance(c, dict)]
    level = normalise_level(assessment.risk_level)
    clock = regulatory_clock(assessment.dossier_type, level, criteria=criteria, fields=fields,
                             findings=_findings_of(text, language))
    milestones = [Milestone(label=s.label, due=day0 + timedelta(days=s.day), reference=s.reference)
                  for s in clock.steps]
    current = next((m for m in milestones if m.due >= today), milestones[-1])
    days_left = (current.due - today).days
    mode = result.get("processing_mode") or {}
    label = mode.get("label") if isinstance(mode, dict) else None
    if label is None and assessment.processing_mode_code:
        label = next((m.label for m in load_policy()[assessment.dossier_type].values()
                      if m.code == assessment.processing_mode_code), None)
    assert assessment.id is not None
    return QueueItem(
        dossier_id=assessment.dossier_id, dossier_type=assessment.dossier_type,
        title=str(assessed.get("title") or (dossier.title if dossier else "") or assessment.dossier_id),
        risk_level=level, risk_score=assessment.risk_score, needs_review=assessment.needs_review,
        processing_mode=assessment.processing_mode_code, processing_mode_label=label,
        assessment_id=assessment.id, assessed_at=assessment.created_at, day0=day0, day0_source=source,
        clock=clock.rule, step=current.label, reference=current.reference, deadline=current.due,
        days_left=days_left, overdue=days_left < 0, due_soon=0 <= days_left <= due_soon_days,
        milestones=milestones)


def sort_key(item: QueueItem) -> tuple[int, int, date, str]:
    """Level first (critique first), then days left (most urgent first), then day 0 and id."""
    from classifier.levels import level_rank

    return (-level_rank(item.risk_level), item.days_left, item.day0, item.dossier_id)


def pending_queue(session: Session, *, oversight: OversightSettings | None = None, today: date | None = None,
                  dossier_type: str | None = None, level: str | None = None, limit: int | None = None) -> Queue:
    """Dossiers whose latest proposal awaits a decision, most urgent first."""
    from classifier.levels import normalise_level

    if dossier_type is not None and dossier_type not in DOSSIER_TYPES:
        raise InputError(f"Type de dossier inconnu : {dossier_type} (attendu : {', '.join(DOSSIER_TYPES)}).")
    if level is not None:
        from assistant.services.decisions import check_level

        level = check_level(level)
    if limit is not None and not 1 <= limit <= MAX_QUEUE:
        raise InputError(f"limit doit être compris entre 1 et {MAX_QUEUE} (reçu : {limit}).")
    oversight = oversight or OversightSettings()
    today = today or today_in(oversight.timezone)
    assessments = AssessmentRow.__table__  # type: ignore[attr-defined]
    decisions = DecisionRow.__table__  # type: ignore[attr-defined]
    dossiers = DossierRow.__table__  # type: ignore[attr-defined]
    latest = sa.select(sa.func.max(assessments.c.id).label("id")).group_by(assessments.c.dossier_id).subquery()
    stmt: Any = (
        sa.select(AssessmentRow, DossierRow)
        .join(latest, latest.c.id == assessments.c.id)
        .outerjoin(decisions, decisions.c.assessment_id == assessments.c.id)
        .outerjoin(dossiers, dossiers.c.id == assessments.c.dossier_id)
        .where(decisions.c.id.is_(None))
    )
    if dossier_type is not None:
        stmt = stmt.where(assessments.c.dossier_type == dossier_type)
    if level is not None:
        stmt = stmt.where(assessments.c.risk_level == normalise_level(level))
    with database_errors(session):
        rows = session.execute(stmt).all()
    items = sorted((_item(a, d, today, oversight.due_soon_days, oversight.timezone) for a, d in rows), key=sort_key)
    return Queue(today=today, total=len(items), overdue=sum(i.overdue for i in items),
                 due_soon=sum(i.due_soon for i in items), items=items[:limit] if limit else items)
