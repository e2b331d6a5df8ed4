"""Consistency monitor (framework-free): similar dossiers that received different decisions or levels.

« À situation égale, traitement égal. » Each dossier counts with its latest decision (level and mode
the evaluator kept, with the reason) or, with ``include_pending``, its latest proposal when it has
no decision yet. Dossiers of the same type are compared by the similarity of their situation
(``retrieval.consistency``: narrative and structured facts); a pair is reported when the two are at
least ``min_similarity`` alike and their levels or modes differ, with both justifications (reason,
criteria fired, proposal), so that a reviewer can align them. ``since`` keeps the pairs of which at
least one side was decided (or proposed) on or after that day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from assistant.db.models import AssessmentRow, DecisionRow, DossierRow
from assistant.services.audit import day_start
from assistant.services.dossiers import database_errors
from corpora.errors import InputError
from corpora.model import DOSSIER_TYPES
from corpora.normalise import fr_decimal

MAX_PAIRS = 500
DEFAULT_MIN_SIMILARITY = 0.5


class CriterionRef(BaseModel):
    code: str
    label: str


class ConsistencySide(BaseModel):
    """One dossier of a pair, with what was decided (or proposed) and why."""

    dossier_id: str
    title: str
    status: str = Field(..., description="« décision » (décidé par un évaluateur) ou « proposition » (en attente)")
    risk_level: str = Field(..., description="niveau retenu (décision) ou proposé (en attente)")
    processing_mode: str | None = None
    proposed_level: str
    proposed_score: float | None = None
    level_changed: bool = Field(False, description="la décision modifie le niveau proposé")
    reason: str | None = Field(None, description="motif de la décision")
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_id: int | None = None
    assessment_id: int
    assessed_at: datetime
    criteria: list[CriterionRef] = Field(..., description="critères du référentiel déclenchés dans la proposition")


class ConsistencyPair(BaseModel):
    dossier_type: str
    similarity: float = Field(..., description="similarité des situations (cosinus TF-IDF, 0 à 1)")
    differences: list[str] = Field(..., description="ce qui diffère : niveau, mode de traitement")
    a: ConsistencySide
    b: ConsistencySide


class ConsistencyReport(BaseModel):
    compared: int = Field(..., description="dossiers comparés (décidés, et en attente si demandé)")
    total: int = Field(..., description="paires divergentes trouvées")
    min_similarity: float
    items: list[ConsistencyPair]


def _criteria(result: dict[str, Any]) -> list[CriterionRef]:
    return [CriterionRef(code=str(c.get("code")), label=str(c.get("label") or c.get("code")))
            for c in result.get("criteria") or [] if isinstance(c, dict) and c.get("code")]


def _side(assessment: AssessmentRow, decision: DecisionRow | None, title: str) -> ConsistencySide:
    assert assessment.id is not None
    common: dict[str, Any] = {"dossier_id": assessment.dossier_id, "title": title, "assessment_id": assessment.id,
                              "assessed_at": assessment.created_at, "criteria": _criteria(assessment.result or {})}
    if decision is None:
        return ConsistencySide(status="proposition", risk_level=assessment.risk_level,
                               processing_mode=assessment.processing_mode_code, proposed_level=assessment.risk_level,
                               proposed_score=assessment.risk_score, **common)
    return ConsistencySide(status="décision", risk_level=decision.risk_level, processing_mode=decision.processing_mode,
                           proposed_level=decision.proposed_level, proposed_score=decision.proposed_score,
                           level_changed=decision.level_changed, reason=decision.reason,
                           decided_by=decision.decided_by, decided_at=decision.decided_at,
                           decision_id=decision.id, **common)


def _differences(a: ConsistencySide, b: ConsistencySide) -> list[str]:
    out = []
    if a.risk_level != b.risk_level:
        out.append(f"niveau : {a.risk_level} ≠ {b.risk_level}")
    if (a.processing_mode or "") != (b.processing_mode or ""):
        out.append(f"mode : {a.processing_mode or 'aucun'} ≠ {b.processing_mode or 'aucun'}")
    return out


def _load(session: Session, dossier_type: str | None,
          include_pending: bool) -> list[tuple[AssessmentRow, DecisionRow | None, dict[str, Any]]]:
    """Each dossier's latest decision (with the assessment it answers) or, if asked, its latest proposal."""
    assessments = AssessmentRow.__table__  # type: ignore[attr-defined]
    decisions = DecisionRow.__table__  # type: ignore[attr-defined]
    latest_decision = sa.select(sa.func.max(decisions.c.id)).group_by(decisions.c.dossier_id)
    stmt: Any = sa.select(DecisionRow).where(decisions.c.id.in_(latest_decision))
    if dossier_type is not None:
        stmt = stmt.where(decisions.c.dossier_type == dossier_type)
    with database_errors(session):
        decided = {d.dossier_id: d for d in session.execute(stmt).scalars()}
        wanted = [d.assessment_id for d in decided.values()]
        if include_pending:
            latest = sa.select(sa.func.max(assessments.c.id)).group_by(assessments.c.dossier_id)
            pending: Any = sa.select(assessments.c.id).where(assessments.c.id.in_(latest))
            if dossier_type is not None:
                pending = pending.where(assessments.c.dossier_type == dossier_type)
            wanted += [i for (i,) in session.execute(pending)]
        rows: dict[int, AssessmentRow] = {}
        for start in range(0, len(wanted), 900):
            part = sorted(set(wanted[start:start + 900]))
            for row in session.execute(sa.select(AssessmentRow).where(assessments.c.id.in_(part))).scalars():
                rows[int(row.id or 0)] = row
        missing = sorted({r.dossier_id for r in rows.values() if not r.dossier})
        stored: dict[str, DossierRow] = {}
        for start in range(0, len(missing), 900):
            ids = missing[start:start + 900]
            stored.update({d.id: d for d in session.execute(
                sa.select(DossierRow).where(DossierRow.__table__.c.id.in_(ids))).scalars()})  # type: ignore[attr-defined]
    out: list[tuple[AssessmentRow, DecisionRow | None, dict[str, Any]]] = []
    seen: set[str] = set()
    for decision in decided.values():
        answered = rows.get(decision.assessment_id)
        if answered is not None:
            out.append((answered, decision, _dossier_json(answered, stored)))
            seen.add(answered.dossier_id)
    for row in sorted(rows.values(), key=lambda r: r.id or 0):
        if row.dossier_id not in seen:
            out.append((row, None, _dossier_json(row, stored)))
            seen.add(row.dossier_id)
    return out


def _dossier_json(row: AssessmentRow, stored: dict[str, DossierRow]) -> dict[str, Any]:
    if row.dossier:
        return dict(row.dossier)
    d = stored.get(row.dossier_id)
    if d is None:
        return {"title": row.dossier_id}
    return {"title": d.title, "text": d.text, "fields": d.fields}


def consistency_pairs(session: Session, *, dossier_type: str | None = None, since: date | datetime | None = None,
                      min_similarity: float = DEFAULT_MIN_SIMILARITY, include_pending: bool = False,
                      limit: int = 50) -> ConsistencyReport:
    """Similar dossiers of the same type with different levels or modes, most similar first."""
    from retrieval.consistency import similar_pairs, situation_text

    if dossier_type is not None and dossier_type not in DOSSIER_TYPES:
        raise InputError(f"Type de dossier inconnu : {dossier_type} (attendu : {', '.join(DOSSIER_TYPES)}).",
                         code="unknown_type")
    if not 0.0 < min_similarity <= 1.0:
        raise InputError(f"La similarité minimale doit être comprise entre 0 (exclu) et 1 (reçu : {min_similarity}).",
                         code="bad_similarity")
    if not 1 <= limit <= MAX_PAIRS:
        raise InputError(f"limit doit être compris entre 1 et {MAX_PAIRS} (reçu : {limit}).")
    items = _load(session, dossier_type, include_pending)
    sides = [_side(a, d, str(dossier.get("title") or a.dossier_id)) for a, d, dossier in items]
    start = day_start(since)

    def recent(s: ConsistencySide) -> bool:
        return start is None or (s.decided_at or s.assessed_at) >= start

    pairs: list[ConsistencyPair] = []
    for dtype in sorted({a.dossier_type for a, _d, _x in items}):
        idx = [i for i, (a, _d, _x) in enumerate(items) if a.dossier_type == dtype]
        texts = [situation_text(items[i][2]) for i in idx]

        def keep(i: int, j: int, idx: list[int] = idx) -> bool:
            a, b = sides[idx[i]], sides[idx[j]]
            return bool(_differences(a, b)) and (recent(a) or recent(b))

        for i, j, sim in similar_pairs(texts, min_similarity, keep):
            a, b = sides[idx[i]], sides[idx[j]]
            pairs.append(ConsistencyPair(dossier_type=dtype, similarity=min(sim, 1.0),
                                         differences=_differences(a, b), a=a, b=b))
    pairs.sort(key=lambda p: (-p.similarity, p.a.dossier_id, p.b.dossier_id))
    return ConsistencyReport(compared=len(items), total=len(pairs), min_similarity=min_similarity,
                             items=pairs[:limit])


def summary_fr(pair: ConsistencyPair) -> list[str]:
    """French lines of ``gdr consistency`` for one pair."""
    similarity = fr_decimal(pair.similarity, 2)
    lines = [f"{pair.dossier_type.upper()} — similarité {similarity} — {' ; '.join(pair.differences)}"]
    for s in (pair.a, pair.b):
        who = f", par {s.decided_by} le {s.decided_at:%Y-%m-%d}" if s.decided_at and s.decided_by else ""
        lines.append(f"  {s.dossier_id} — {s.title[:70]}")
        score = f" (score {fr_decimal(s.proposed_score, 2)})" if s.proposed_score is not None else ""
        lines.append(f"    {s.status} : {s.risk_level} ({s.processing_mode or 'aucun mode'}){who} ; proposé : "
                     f"{s.proposed_level}{score}")
        if s.reason:
            lines.append(f"    motif : {s.reason}")
        if s.criteria:
            lines.append(f"    critères : {', '.join(f'{c.code} ({c.label})' for c in s.criteria[:6])}")
    return lines
