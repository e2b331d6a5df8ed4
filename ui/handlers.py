"""What the chat does with a message: call the assistant services and render French Markdown.

Framework-free (no Chainlit import) so that it is tested directly; :mod:`ui.app` runs these
functions in a worker thread. Data is reached only through ``assistant.services``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.settings import Settings
from corpora.errors import GdrError, InputError
from ui import render

log = logging.getLogger("ui")


@dataclass(frozen=True)
class Upload:
    """A file joined to a chat message (Chainlit stores it on disk)."""

    name: str
    path: Path
    mime: str | None = None


def search_answer(settings: Settings, query: str, k: int = render.SEARCH_K) -> str:
    """``/recherche …``: cited passages of the corpora and the référentiel."""
    from assistant.services.retrieval import search

    if not query.strip():
        return render.text("empty_search")
    return render.render_hits(query, search(settings, query, k=k))


def triage_answer(settings: Settings, text: str = "", dossier_type: str | None = None,
                  uploads: Sequence[Upload] = ()) -> str:
    """A pasted dossier text and/or joined files → one rendered triage result per dossier."""
    from assistant.services.intake import read_upload
    from assistant.services.triage import triage_dossiers

    items = []
    for up in uploads:
        try:
            data = up.path.read_bytes()
        except OSError as exc:
            raise InputError(render.text("file_unreadable", name=up.name)) from exc
        items.extend(read_upload(settings, data, filename=up.name, declared_type=dossier_type,
                                 media_type=up.mime))
    if text.strip():
        items.extend(read_upload(settings, text.encode("utf-8"), declared_type=dossier_type))
    if not items:
        return render.text("empty_message")
    rows = list(triage_dossiers(settings, [it.dossier for it in items], with_precedents=True))
    return "\n\n---\n\n".join(render.render_triage(row, it.warnings) for it, row in zip(items, rows, strict=True))


def answer(settings: Settings, message: str, uploads: Sequence[Upload] = ()) -> str:
    """The assistant's French reply to one chat message; domain errors become one French line."""
    request = render.parse_request(message, has_files=bool(uploads))
    try:
        if request.kind == "help":
            return render.text("welcome")
        if request.kind == "empty":
            return render.text("empty_message")
        if request.kind == "unknown":
            return render.text("unknown_command", command=request.text)
        if request.kind == "search":
            return search_answer(settings, request.text)
        return triage_answer(settings, request.text, request.dossier_type, uploads)
    except GdrError as exc:
        return render.render_error(exc.message)
    except Exception:  # the evaluator gets one French line; the operator gets the traceback in the log
        log.exception("Erreur interne du chat")
        return render.text("internal_error")
