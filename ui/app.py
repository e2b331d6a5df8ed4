"""Chainlit chat of GDR Santé (French), mounted by the API under ``/chat``.

Standalone: ``chainlit run ui/app.py --headless`` from the repository root. Each chat session
keeps its own settings in ``cl.user_session``; nothing is built at import time and the data is
reached only through ``assistant.services`` (see :mod:`ui.handlers`).
"""

from __future__ import annotations

from pathlib import Path

import chainlit as cl

from assistant.settings import Settings, get_settings
from ui import handlers, render


def _settings() -> Settings:
    settings = cl.user_session.get("settings")
    if settings is None:
        settings = get_settings()
        cl.user_session.set("settings", settings)
    return settings


@cl.on_chat_start
async def start() -> None:
    settings = get_settings()
    cl.user_session.set("settings", settings)
    cl.user_session.set("chat", {})  # the conversation id of this session (the conversation is in the database)
    cl.user_session.set("service", handlers.chat_service(settings))
    await cl.Message(content=render.text("welcome")).send()


@cl.on_chat_end
async def end() -> None:
    service = cl.user_session.get("service")
    if service is not None:
        service.close()
        service.engine.dispose()


@cl.on_message
async def on_message(message: cl.Message) -> None:
    uploads = [handlers.Upload(name=el.name or Path(el.path).name, path=Path(el.path), mime=el.mime)
               for el in message.elements or [] if el.path]
    kind = render.parse_request(message.content, has_files=bool(uploads)).kind
    service = cl.user_session.get("service")
    session = cl.user_session.get("chat")
    if kind not in ("search", "triage"):  # help, empty or unknown command: instant answer
        await cl.Message(content=handlers.answer(_settings(), message.content, uploads, service, session)).send()
        return
    working = "working_search" if kind == "search" else "working_triage" if uploads else "working_answer"
    reply = cl.Message(content=render.text(working))
    await reply.send()
    # The services block (models, index): run them in a worker thread, not on the event loop.
    reply.content = await cl.make_async(handlers.answer)(_settings(), message.content, uploads, service, session)
    await reply.update()
