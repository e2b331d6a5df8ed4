"""Decisions: the evaluator accepts or changes the proposal on a dossier (framework-free).

The proposal is the latest stored assessment of the dossier (its niveau de risque and mode de
traitement). A decision that differs from it needs a reason; every check runs before anything is
written, so a refused decision stores nothing. The decision keeps a copy of the proposal and its
versions (model, référentiel, policy) beside the evaluator's choice, and its audit event (``decision``
when it confirms the proposal, ``override`` when it changes it) is written in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from assistant.db.models import MAX_ID, AssessmentRow, DecisionRow, DossierRow
from assistant.services import audit
from assistant.services.audit import HasLogin, day_start
from assistant.services.dossiers import database_errors
from corpora.errors import Conflict, InputError, NotFound
from corpora.model import DOSSIER_TYPES

MAX_LIST = 1000
DEFAULT_MAX_REASON = 4000


class DecisionIn(BaseModel):
    """The evaluator's decision: the level (and mode) chosen, with a reason when it differs from the proposal."""

    risk_level: str = Field(..., description="faible, modéré, élevé ou critique")
    processing_mode: str | None = Field(
        None, description="code du mode de traitement (ex. PV-EVALUATION-APPROFONDIE) ; absent : celui de la "
        "proposition si le niveau est conservé, sinon celui que la politique associe au niveau choisi")
    reason: str | None = Field(None, description="motif, obligatoire quand la décision modifie la proposition")
    assessment_id: int | None = Field(
        None, ge=1, le=MAX_ID,
        description="la proposition lue par l'évaluateur : refus (409) si une proposition plus récente existe, "
        "(404) si ce n'est pas une proposition de ce dossier")


class Decision(BaseModel):
    """A stored decision with the proposal it answers."""

    id: int
    dossier_id: str
    assessment_id: int
    dossier_type: str
    proposed_level: str
    proposed_mode: str | None = None
    proposed_score: float | None = None
    risk_level: str
    processing_mode: str
    level_changed: bool
    mode_changed: bool
    reason: str | None = None
    decided_by: str
    decided_role: str | None = None
    decided_at: datetime
    proposed_at: datetime
    model_version: str | None = None
    referentiel_version: str | None = None
    policy_version: str | None = None

    @property
    def changed(self) -> bool:
        return self.level_changed or self.mode_changed


def _decision(row: DecisionRow) -> Decision:
    return Decision.model_validate(row, from_attributes=True)


def check_level(value: str) -> str:
    """The canonical level, or a French error (code ``unknown_level``)."""
    from classifier.levels import normalise_level
    from corpora.model import RISK_LEVELS

    try:
        return normalise_level(value)
    except ValueError:
        raise InputError(f"Niveau de risque inconnu : « {value} » (attendu : {', '.join(RISK_LEVELS)}).",
                         code="unknown_level") from None


def policy_modes(dossier_type: str) -> dict[str, str]:
    """``{level: mode code}`` of the processing-mode policy for ``dossier_type``."""
    from classifier.policy import load_policy

    return {level: mode.code for level, mode in load_policy()[dossier_type].items()}


def _check_mode(value: str, dossier_type: str) -> str:
    codes = list(dict.fromkeys(policy_modes(dossier_type).values()))
    code = value.strip().upper()
    if code not in codes:
        raise InputError(f"Mode de traitement inconnu pour un dossier {dossier_type.upper()} : « {value} » "
                         f"(modes possibles : {', '.join(codes)}).", code="unknown_processing_mode")
    return code


def latest_proposal(session: Session, dossier_id: str) -> AssessmentRow | None:
    """The latest stored assessment of the dossier (the proposal a decision answers)."""
    stmt = (sa.select(AssessmentRow).where(AssessmentRow.dossier_id == dossier_id)  # type: ignore[arg-type]
            .order_by(AssessmentRow.id.desc()).limit(1))  # type: ignore[union-attr]
    with database_errors(session):
        return session.execute(stmt).scalars().first()


def _dossier_known(session: Session, dossier_id: str) -> bool:
    with database_errors(session):
        return session.get(DossierRow, dossier_id) is not None


def _proposal_or_error(session: Session, dossier_id: str) -> AssessmentRow:
    proposal = latest_proposal(session, dossier_id)
    if proposal is not None:
        return proposal
    if _dossier_known(session, dossier_id):
        raise Conflict(f"Aucune proposition pour le dossier {dossier_id} : triez-le d'abord (POST /triage), "
                       "puis décidez sur la proposition.", code="no_proposal")
    raise NotFound(f"Dossier introuvable : {dossier_id}", code="dossier_not_found")


def _change_summary(proposal: AssessmentRow, level: str, mode: str) -> str:
    parts = []
    if level != proposal.risk_level:
        parts.append(f"niveau {proposal.risk_level} → {level}")
    if mode != proposal.processing_mode_code:
        parts.append(f"mode {proposal.processing_mode_code or 'aucun'} → {mode}")
    return " ; ".join(parts)


def decide(session: Session, *, dossier_id: str, request: DecisionIn, user: HasLogin,
           max_reason_length: int = DEFAULT_MAX_REASON) -> Decision:
    """Store the decision on the dossier's latest proposal (and its audit event); the caller commits.

    Refused, with nothing stored: unknown level or mode (400), a change without a reason (400
    ``reason_required``), an unknown dossier (404), a dossier never triaged (409 ``no_proposal``), a
    proposal that is no longer the latest (409 ``proposal_outdated``), a proposal of another dossier or none
    (404 ``proposal_unknown``).
    """
    from classifier.policy import policy_version

    level = check_level(request.risk_level)
    proposal = _proposal_or_error(session, dossier_id)
    if request.assessment_id is not None and request.assessment_id != proposal.id:
        read = session.get(AssessmentRow, request.assessment_id)
        if read is None or read.dossier_id != dossier_id:
            raise NotFound(f"La proposition n° {request.assessment_id} n'existe pas pour ce dossier (dernière : "
                           f"n° {proposal.id}) : rien n'a été enregistré.", code="proposal_unknown")
        raise Conflict(f"La proposition n° {request.assessment_id} n'est pas la dernière pour ce dossier "
                       f"(dernière : n° {proposal.id}, du {proposal.created_at:%Y-%m-%d %H:%M}) : relisez-la "
                       "avant de décider.", code="proposal_outdated")
    if request.processing_mode is not None and request.processing_mode.strip():
        mode = _check_mode(request.processing_mode, proposal.dossier_type)
    elif level == proposal.risk_level and proposal.processing_mode_code:
        mode = proposal.processing_mode_code
    else:
        mode = policy_modes(proposal.dossier_type)[level]
    level_changed = level != proposal.risk_level
    mode_changed = mode != proposal.processing_mode_code
    reason = (request.reason or "").strip() or None
    if (level_changed or mode_changed) and reason is None:
        change = _change_summary(proposal, level, mode)
        raise InputError(f"Motif obligatoire : la décision modifie la proposition ({change}). Indiquez la raison "
                         "dans « reason » ; rien n'a été enregistré.", code="reason_required")
    if reason is not None and len(reason) > max_reason_length:
        raise InputError(f"Motif trop long : {len(reason)} caractères (au plus {max_reason_length}).",
                         code="reason_too_long")
    assert proposal.id is not None  # a stored row
    row = DecisionRow(
        dossier_id=dossier_id, assessment_id=proposal.id, dossier_type=proposal.dossier_type,
        proposed_level=proposal.risk_level, proposed_mode=proposal.processing_mode_code,
        proposed_score=proposal.risk_score, risk_level=level, processing_mode=mode, level_changed=level_changed,
        mode_changed=mode_changed, reason=reason, decided_by=user.login, decided_role=user.role,
        proposed_at=proposal.created_at, model_version=proposal.model_version,
        referentiel_version=proposal.referentiel_version, policy_version=policy_version())
    with database_errors(session):
        session.add(row)
        session.flush()
    decision = _decision(row)
    audit.record(session, "override" if decision.changed else "decision", actor=user, dossier_id=dossier_id,
                 payload={"decision_id": decision.id, "assessment_id": proposal.id, "type": proposal.dossier_type,
                          "proposed_level": proposal.risk_level, "risk_level": level,
                          "proposed_mode": proposal.processing_mode_code, "processing_mode": mode,
                          "level_changed": level_changed, "mode_changed": mode_changed, "reason": reason},
                 versions=audit.current_versions(model=proposal.model_version,
                                                 referentiel=proposal.referentiel_version))
    return decision


def list_decisions(session: Session, *, dossier_id: str | None = None, dossier_type: str | None = None,
                   since: date | datetime | None = None, changed: bool | None = None,
                   limit: int = 100) -> list[Decision]:
    """Decisions, latest first; for an unknown dossier (never triaged nor ingested), 404."""
    if not 1 <= limit <= MAX_LIST:
        raise InputError(f"limit doit être compris entre 1 et {MAX_LIST} (reçu : {limit}).")
    if dossier_type is not None and dossier_type not in DOSSIER_TYPES:
        raise InputError(f"Type de dossier inconnu : {dossier_type} (attendu : {', '.join(DOSSIER_TYPES)}).")
    table = DecisionRow.__table__  # type: ignore[attr-defined]
    stmt: Any = sa.select(DecisionRow).order_by(table.c.id.desc()).limit(limit)
    if dossier_id is not None:
        stmt = stmt.where(table.c.dossier_id == dossier_id)
    if dossier_type is not None:
        stmt = stmt.where(table.c.dossier_type == dossier_type)
    if since is not None:
        stmt = stmt.where(table.c.decided_at >= day_start(since))
    if changed is not None:
        either = sa.or_(table.c.level_changed, table.c.mode_changed)
        stmt = stmt.where(either if changed else sa.not_(either))
    with database_errors(session):
        rows = [_decision(r) for r in session.execute(stmt).scalars()]
    if dossier_id is not None and not rows and latest_proposal(session, dossier_id) is None \
            and not _dossier_known(session, dossier_id):
        raise NotFound(f"Dossier introuvable : {dossier_id}", code="dossier_not_found")
    return rows
