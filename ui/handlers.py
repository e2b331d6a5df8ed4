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
