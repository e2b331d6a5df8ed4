"""Users' feedback: useful / not useful on an answer or a proposal, suggestions and problem reports.

Each feedback keeps its context (screen or route, dossier, proposal, answer, free context such as the
question) and the versions in use (application, référentiel, policy, and the model of the proposal).
Admins list and export them as CSV (``GET /feedback/export``, ``gdr feedback export``). Framework-free;
the caller owns the session and commits.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from assistant.db.models import MAX_ID, AssessmentRow, FeedbackRow
from assistant.services import audit
from assistant.services.audit import HasLogin, day_start
from assistant.services.dossiers import database_errors
from corpora.errors import InputError, InputTooLarge, NotFound

#: kinds of feedback and their French label
FEEDBACK_KINDS: dict[str, str] = {
    "utile": "Utile",
    "pas_utile": "Pas utile",
    "suggestion": "Suggestion",
    "probleme": "Problème",
}
_ALIASES = {"inutile": "pas_utile", "pas utile": "pas_utile", "pas-utile": "pas_utile", "probleme": "probleme",
            "bug": "probleme", "anomalie": "probleme"}
NEEDS_COMMENT = ("suggestion", "probleme")
MAX_COMMENT = 4000
MAX_CONTEXT_BYTES = 16 * 1024
MAX_LIST = 5000
CSV_COLUMNS = ("id", "date", "type", "auteur", "rôle", "écran", "dossier", "évaluation", "réponse", "commentaire",
               "contexte", "versions")


class FeedbackIn(BaseModel):
    """A feedback as sent by the UI or the API."""

    kind: str = Field(..., description="utile, pas_utile, suggestion ou probleme")
    comment: str | None = Field(None, description="commentaire (obligatoire pour une suggestion ou un problème)")
    screen: str | None = Field(None, description="écran ou route concerné (ex. « /chat », « file d'attente »)")
    dossier_id: str | None = None
    assessment_id: int | None = Field(None, ge=1, le=MAX_ID, description="la proposition (évaluation) jugée")
    answer_id: str | None = Field(None, description="la réponse de l'assistant jugée (identifiant du message)")
    context: dict[str, Any] | None = Field(None, description="contexte libre : question, extrait de réponse…")


class Feedback(BaseModel):
    id: int
    kind: str
    comment: str | None = None
    author: str
    role: str | None = None
    created_at: datetime
    screen: str | None = None
    dossier_id: str | None = None
    assessment_id: int | None = None
    answer_id: str | None = None
    context: dict[str, Any]
    versions: dict[str, Any]


def normalise_kind(value: str) -> str:
    """The canonical kind (accents and spaces tolerated), or a French error (code ``unknown_feedback_kind``)."""
    text = unicodedata.normalize("NFKD", value.strip().lower())
    plain = "".join(c for c in text if not unicodedata.combining(c))
    kind = plain if plain in FEEDBACK_KINDS else _ALIASES.get(plain)
    if kind is None:
        raise InputError(f"Type de retour inconnu : « {value} » (attendu : {', '.join(FEEDBACK_KINDS)}).",
                         code="unknown_feedback_kind")
    return kind


def submit(session: Session, *, request: FeedbackIn, user: HasLogin) -> Feedback:
    """Store a feedback with its context and versions (and its audit event); the caller commits."""
    kind = normalise_kind(request.kind)
    comment = (request.comment or "").strip() or None
    if kind in NEEDS_COMMENT and comment is None:
        raise InputError(f"Commentaire obligatoire pour un retour de type « {FEEDBACK_KINDS[kind]} » : décrivez "
                         "la suggestion ou le problème.", code="comment_required")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InputError(f"Commentaire trop long : {len(comment)} caractères (au plus {MAX_COMMENT}).",
                         code="comment_too_long")
    context = request.context or {}
    size = len(json.dumps(context, ensure_ascii=False, default=str).encode("utf-8"))
    if size > MAX_CONTEXT_BYTES:
        raise InputTooLarge(f"Contexte trop volumineux : {size} octets (au plus {MAX_CONTEXT_BYTES}).",
                            code="context_too_large")
    screen = (request.screen or "").strip()[:200] or None
    dossier_id, model_version = request.dossier_id, None
    if request.assessment_id is not None:
        with database_errors(session):
            proposal = session.get(AssessmentRow, request.assessment_id)
        if proposal is None:
            raise NotFound(f"Évaluation introuvable : {request.assessment_id}", code="assessment_not_found")
        dossier_id = dossier_id or proposal.dossier_id
        model_version = proposal.model_version
        context = {"proposed_level": proposal.risk_level, "proposed_mode": proposal.processing_mode_code, **context}
    row = FeedbackRow(kind=kind, comment=comment, author=user.login, role=user.role, screen=screen,
                      dossier_id=dossier_id, assessment_id=request.assessment_id,
                      answer_id=(request.answer_id or "").strip()[:128] or None,
                      context=audit.plain_json(context), versions=audit.current_versions(model=model_version))
    with database_errors(session):
        session.add(row)
        session.flush()
    feedback = Feedback.model_validate(row, from_attributes=True)
    audit.record(session, "feedback", actor=user, dossier_id=dossier_id, payload={
        "feedback_id": feedback.id, "kind": kind, "screen": screen, "assessment_id": request.assessment_id,
        "answer_id": feedback.answer_id}, versions=feedback.versions)
    return feedback


def list_feedback(session: Session, *, kind: str | None = None, since: date | datetime | None = None,
                  limit: int = 500) -> list[Feedback]:
    """Feedback, latest first."""
    if not 1 <= limit <= MAX_LIST:
        raise InputError(f"limit doit être compris entre 1 et {MAX_LIST} (reçu : {limit}).")
    table = FeedbackRow.__table__  # type: ignore[attr-defined]
    stmt: Any = sa.select(FeedbackRow).order_by(table.c.id.desc()).limit(limit)
    if kind is not None:
        stmt = stmt.where(table.c.kind == normalise_kind(kind))
    if since is not None:
        stmt = stmt.where(table.c.created_at >= day_start(since))
    with database_errors(session):
        return [Feedback.model_validate(r, from_attributes=True) for r in session.execute(stmt).scalars()]


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is prefixed with « ' » (CSV injection)."""
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(feedback: Iterable[Feedback]) -> str:
    """CSV (comma-separated, French headers, UTF-8 with a BOM so spreadsheets read the accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in feedback:
        writer.writerow([_cell(v) for v in (
            f.id, f.created_at.isoformat(timespec="seconds"), FEEDBACK_KINDS.get(f.kind, f.kind), f.author, f.role,
            f.screen, f.dossier_id, f.assessment_id, f.answer_id, f.comment, f.context, f.versions)])
    return "\ufeff" + out.getvalue()


def record_export(session: Session, *, actor: HasLogin | audit.Actor | None, count: int, kind: str | None,
                  since: date | datetime | None, destination: str) -> None:
    """Audit an export of the feedback (the caller commits)."""
    audit.record(session, "export", actor=actor, payload={
        "what": "feedback", "count": count, "kind": kind, "since": str(since) if since else None,
        "destination": destination})
