"""Chainlit chat of GDR Santé (French), mounted by the API under ``/chat`` (``gdr serve``).

The chat uses the application's conversation service, with its settings and resources (open
index, models): ``create_app`` puts them in the ASGI lifespan state, which reaches every
connection of the mounted chat; nothing is rebuilt from the environment and nothing is built
at import time. Each chat session keeps only its conversation id in ``cl.user_session`` (the
conversation itself is in the database). Data is reached only through ``assistant.services``
(see :mod:`ui.handlers`).
"""

from __future__ import annotations

from pathlib import Path

import chainlit as cl

from assistant.services.chat.service import ChatService
from ui import handlers, render


def _service() -> ChatService | None:
    """The conversation service of the app that mounted the chat (None when run outside ``gdr serve``)."""
    scope = cl.context.session.environ.get("asgi.scope") or {}
    service = (scope.get("state") or {}).get("chat")
    return service if isinstance(service, ChatService) else None


@cl.on_chat_start
async def start() -> None:
    cl.user_session.set("chat", {})  # the conversation id of this session
    await cl.Message(content=render.text("welcome" if _service() else "not_mounted")).send()


@cl.on_message
async def on_message(message: cl.Message) -> None:
    service = _service()
    if service is None:
        await cl.Message(content=render.text("not_mounted")).send()
        return
    uploads = [handlers.Upload(name=el.name or Path(el.path).name, path=Path(el.path), mime=el.mime)
               for el in message.elements or [] if el.path]
    kind = render.parse_request(message.content, has_files=bool(uploads)).kind
    session = cl.user_session.get("chat")
    if kind not in ("search", "triage"):  # help, empty or unknown command: instant answer
        await cl.Message(content=handlers.answer(service, message.content, uploads, session)).send()
        return
    working = "working_search" if kind == "search" else "working_triage" if uploads else "working_answer"
    reply = cl.Message(content=render.text(working))
    await reply.send()
    # The services block (models, index): run them in a worker thread, not on the event loop.
    reply.content = await cl.make_async(handlers.answer)(service, message.content, uploads, session)
    await reply.update()
