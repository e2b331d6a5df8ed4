"""What the chat does with a message: call the assistant services and render French Markdown.

Framework-free (no Chainlit import) so that it is tested directly; :mod:`ui.app` runs these
functions in a worker thread with the application's conversation service (its settings and
resources are the application's). Data is reached only through ``assistant.services``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpora.errors import GdrError, InputError
from ui import render

if TYPE_CHECKING:
    from assistant.services.chat.service import ChatService

log = logging.getLogger("ui")


@dataclass(frozen=True)
class Upload:
    """A file joined to a chat message (Chainlit stores it on disk)."""

    name: str
    path: Path
    mime: str | None = None


def search_answer(service: ChatService, query: str, k: int = render.SEARCH_K) -> str:
    """``/recherche …``: cited passages of the corpora and the référentiel."""
    from assistant.services.retrieval import search

    if not query.strip():
        return render.text("empty_search")
    return render.render_hits(query, search(service.settings, query, k=k, resources=service.resources))


def render_reply(reply: dict[str, Any]) -> str:
    """A cited answer of the chat service as Markdown: sentences with [n], then the numbered passages."""
    if not reply["sentences"]:
        return str(reply["answer"])
    lines = [str(reply["answer"]), "", render.text("sources_title")]
    for n, hit in enumerate(reply["citations"], start=1):
        lines.append(render.text("source_line", n=n, title=hit["title"], document_id=hit["document_id"],
                                 excerpt=render.excerpt(hit["excerpt"], 200)))
    return "\n".join(lines)


def answer(service: ChatService, message: str, uploads: Sequence[Upload] = (),
           session: dict[str, Any] | None = None) -> str:
    """The assistant's French reply to one chat message; domain errors become one French line.

    Questions, dossiers and follow-ups go through the conversation ``service`` (the conversation id
    is kept in ``session``); ``/recherche`` lists passages and ``/aide`` shows the welcome text.
    """
    request = render.parse_request(message, has_files=bool(uploads))
    session = session if session is not None else {}
    try:
        if request.kind == "help":
            return render.text("welcome")
        if request.kind == "empty":
            return render.text("empty_message")
        if request.kind == "unknown":
            return render.text("unknown_command", command=request.text)
        if request.kind == "search":
            return search_answer(service, request.text)
        conversation = session.get("conversation_id")
        if uploads:
            parts: list[str] = []
            for up in uploads:
                try:
                    data = up.path.read_bytes()
                except OSError as exc:
                    raise InputError(render.text("file_unreadable", name=up.name)) from exc
                exchange = service.converse(request.text if not parts else "", conversation,
                                            upload=(data, up.name, up.mime), dossier_type=request.dossier_type)
                conversation = exchange.reply["conversation_id"]
                parts += [render.render_triage(result) for result in exchange.triaged]
            session["conversation_id"] = conversation
            return "\n\n---\n\n".join(parts)
        text = f"/{request.dossier_type} {request.text}" if request.dossier_type else request.text
        exchange = service.converse(text, conversation)
        session["conversation_id"] = exchange.reply["conversation_id"]
        if exchange.triaged:
            return "\n\n---\n\n".join(render.render_triage(result) for result in exchange.triaged)
        return render_reply(exchange.reply)
    except GdrError as exc:
        return render.render_error(exc.message)
    except Exception:  # the evaluator gets one French line; the operator gets the traceback in the log
        log.exception("Erreur interne du chat")
        return render.text("internal_error")


# --------------------------------------------------------------------------- accounts, decisions, queue, feedback

@dataclass(frozen=True)
class Account:
    """The logged-in user as the UI knows it (the role is read again from the database when it matters)."""

    login: str
    role: str
    permissions: frozenset[str]

    def may(self, permission: str) -> bool:
        return permission in self.permissions


def _session(service: ChatService) -> Any:
    from sqlalchemy.orm import Session

    return Session(service.engine)


def authenticate(service: ChatService, login: str, password: str) -> Account | None:
    """The account for these credentials (login audited), None when refused (refusal audited too)."""
    from assistant.services.users import Accounts
    from corpora.errors import AuthenticationError

    accounts = Accounts.from_settings(service.settings)
    with _session(service) as session:
        try:
            user = accounts.authenticate(session=session, login=login, password=password)
        except AuthenticationError as exc:
            session.rollback()
            accounts.record_failed_login(session=session, login=login, code=exc.code)
            session.commit()
            return None
        session.commit()
        return Account(user.login, user.role, accounts.matrix.granted(user.role))


def account(service: ChatService, login: str) -> Account | None:
    """The account as it is now in the database (role changes apply at once); None when disabled or removed."""
    from assistant.services.users import Accounts

    accounts = Accounts.from_settings(service.settings)
    with _session(service) as session:
        try:
            user = accounts.get(session=session, login=login)
        except GdrError:
            return None
    return None if user.disabled else Account(user.login, user.role, accounts.matrix.granted(user.role))


def latest_assessment(service: ChatService, dossier_id: str) -> int | None:
    """The id of the latest stored proposal of a dossier (the one a decision answers)."""
    from assistant.services.decisions import latest_proposal

    with _session(service) as session:
        row = latest_proposal(session, dossier_id)
        return row.id if row is not None else None


def stored_assessment(service: ChatService, assessment_id: int, viewer: Account) -> tuple[Any, str]:
    """A stored proposal (audited view): its triage result and the dossier text as assessed."""
    from assistant.services.assessments import get_assessment
    from classifier.result import TriageResult

    with _session(service) as session:
        detail = get_assessment(session=session, id=assessment_id, viewer=viewer)
        session.commit()
    result = TriageResult.model_validate({k: v for k, v in detail.result.items() if k not in ("row", "where")})
    return result, str((detail.dossier or {}).get("text") or "")


def policy_modes(dossier_type: str) -> list[tuple[str, str, str]]:
    """``(level, mode code, French label)`` of the processing-mode policy for a dossier type."""
    from classifier.policy import load_policy

    return [(level, mode.code, mode.label) for level, mode in load_policy()[dossier_type].items()]


def decide(service: ChatService, user: Account, dossier_id: str, level: str, mode: str | None,
           reason: str | None, assessment_id: int | None) -> Any:
    """Record the evaluator's decision (see :func:`assistant.services.decisions.decide`)."""
    from assistant.services.decisions import DecisionIn
    from assistant.services.decisions import decide as store_decision

    request = DecisionIn(risk_level=level, processing_mode=mode, reason=reason, assessment_id=assessment_id)
    with _session(service) as session:
        decision = store_decision(session, dossier_id=dossier_id, request=request, user=user,
                                  max_reason_length=service.settings.oversight.max_reason_length)
        session.commit()
    return decision


def pending(service: ChatService, limit: int = 50) -> Any:
    """The work queue (dossiers awaiting a decision), most urgent first."""
    from assistant.services.queue import pending_queue

    with _session(service) as session:
        return pending_queue(session, oversight=service.settings.oversight, limit=limit)


def submit_feedback(service: ChatService, user: Account, kind: str, comment: str | None, *, screen: str,
                    dossier_id: str | None = None, answer_id: str | None = None,
                    context: dict[str, Any] | None = None) -> int:
    """Store a feedback (thumbs, problem, suggestion) with its context; returns its id."""
    from assistant.services.feedback import FeedbackIn, submit

    request = FeedbackIn(kind=kind, comment=comment, screen=screen, dossier_id=dossier_id, answer_id=answer_id,
                         context=context)
    with _session(service) as session:
        stored = submit(session, request=request, user=user)
        session.commit()
    return stored.id


def changelog() -> str:
    from assistant.services.changelog import read_changelog

    return read_changelog()


def document_text(service: ChatService, document_id: str) -> str | None:
    """The whole stored document a hit points to (None when the index does not hold it)."""
    from assistant.services.retrieval import get_document

    try:
        return get_document(service.settings, document_id, resources=service.resources).text
    except GdrError:
        return None


def expert_search(service: ChatService, body: str, k: int = 10) -> tuple[Any, list[Any]]:
    """``/recherche`` with filters: the parsed request and the cited hits."""
    from assistant.services.retrieval import search
    from ui.cards import parse_search

    request = parse_search(body)
    if not request.query.strip():
        raise InputError(render.text("empty_search"))
    hits = search(service.settings, request.query, k=k, filters=request.filters or None,
                  resources=service.resources)
    return request, hits


# --------------------------------------------------------------------------- trainer mode

def draw_training_case(service: ChatService, dossier_type: str, difficulty: str | None,
                       exclude: Sequence[str]) -> Any:
    from assistant.services.training import draw_case

    with _session(service) as session:
        return draw_case(session, dossier_type=dossier_type, difficulty=difficulty, exclude=exclude)


def tool_proposal(service: ChatService, dossier: Any) -> Any:
    """The tool's triage of a training case (nothing stored: trainers do not create assessments)."""
    from assistant.services.triage import triage_dossiers

    return next(iter(triage_dossiers(service.settings, [dossier], resources=service.resources)))


# --------------------------------------------------------------------------- conversation with structured results

@dataclass
class Triaged:
    """A dossier triaged in the chat: its result, its text as assessed, and the stored proposal's id."""

    result: Any
    text: str
    assessment_id: int | None


@dataclass
class Conversed:
    triaged: list[Triaged]
    reply: dict[str, Any]
    error: str | None = None


def would_triage(message: str, has_files: bool, in_conversation: bool) -> bool:
    """Whether the chat would triage (and store) this message: joined files, ``/pv|/amm|/aec``, or a dossier text."""
    from assistant.services.chat.intent import classify

    if has_files:
        return True
    request = render.parse_request(message)
    if request.kind != "triage":
        return False
    if request.dossier_type:
        return True
    return classify(request.text, has_dossier=in_conversation).name == "dossier"


def _assessed(service: ChatService, dossier_id: str) -> tuple[int | None, str]:
    from assistant.services.decisions import latest_proposal

    with _session(service) as session:
        row = latest_proposal(session, dossier_id)
        if row is None:
            return None, ""
        return row.id, str((row.dossier or {}).get("text") or "")


def converse(service: ChatService, message: str, uploads: Sequence[Upload], session: dict[str, Any],
             user: Account | None = None) -> Conversed:
    """One chat message through the conversation service, with the account; errors become one French line."""
    request = render.parse_request(message, has_files=bool(uploads))
    user_id = service.user_id(user.login) if user is not None else None
    try:
        conversation = session.get("conversation_id")
        exchanges: list[Any] = []
        if uploads:
            for up in uploads:
                try:
                    data = up.path.read_bytes()
                except OSError as exc:
                    raise InputError(render.text("file_unreadable", name=up.name)) from exc
                exchange = service.converse(request.text if not exchanges else "", conversation, user_id=user_id,
                                            upload=(data, up.name, up.mime), dossier_type=request.dossier_type)
                conversation = exchange.reply["conversation_id"]
                exchanges.append(exchange)
        else:
            text = f"/{request.dossier_type} {request.text}" if request.dossier_type else request.text
            exchanges.append(service.converse(text, conversation, user_id=user_id))
        session["conversation_id"] = exchanges[-1].reply["conversation_id"]
        triaged = []
        for exchange in exchanges:
            for result in exchange.triaged:
                assessment_id, text = _assessed(service, result.id)
                triaged.append(Triaged(result, text, assessment_id))
        return Conversed(triaged, exchanges[-1].reply)
    except GdrError as exc:
        return Conversed([], {}, render.render_error(exc.message))
    except Exception:  # the evaluator gets one French line; the operator gets the traceback in the log
        log.exception("Erreur interne du chat")
        return Conversed([], {}, render.text("internal_error"))
