"""Chainlit data layer of GDR Santé: thumbs up/down on answers stored through the assistant's feedback service.

Chainlit shows its feedback buttons only when a data layer exists. This one persists exactly
one thing, the feedback (``assistant.services.feedback``, table ``feedback``, audited): the
conversations themselves are already stored by the conversation service, so threads, steps and
elements are not kept twice (the history sidebar stays empty, each chat starts a new
conversation). Chainlit's ``PUT /feedback`` does not say who sent it, so :mod:`ui.app` records,
for each answer it sends, who it was sent to and on what (:meth:`GdrDataLayer.remember`); a
thumb on an answer the process does not know is refused.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chainlit.data.base import BaseDataLayer
from chainlit.types import Feedback, PageInfo, PaginatedResponse, Pagination, ThreadDict, ThreadFilter
from chainlit.user import PersistedUser, User

if TYPE_CHECKING:
    from assistant.services.chat.service import ChatService
    from ui.handlers import Account

log = logging.getLogger("ui")
MAX_REMEMBERED = 20_000
UNKNOWN_MESSAGE = "Réponse inconnue (serveur redémarré ?) : le retour n'a pas été enregistré."


@dataclass(frozen=True)
class AnswerContext:
    """Who an answer was sent to, on which screen and dossier, and what it said (kept with the feedback)."""

    account: Account
    screen: str
    dossier_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)


class GdrDataLayer(BaseDataLayer):
    """See the module docstring. ``service`` gives the application's conversation service (None outside it)."""

    def __init__(self, service: Callable[[], ChatService | None]) -> None:
        self._service = service
        self._answers: OrderedDict[str, AnswerContext] = OrderedDict()

    def remember(self, message_id: str, context: AnswerContext) -> None:
        self._answers[message_id] = context
        while len(self._answers) > MAX_REMEMBERED:
            self._answers.popitem(last=False)

    # ------------------------------------------------------------------ feedback (persisted)
    async def upsert_feedback(self, feedback: Feedback) -> str:
        import chainlit as cl

        from ui import handlers

        service = self._service()
        answer = self._answers.get(feedback.forId)
        if service is None or answer is None:
            log.warning("Retour refusé sur la réponse %s (service %s, réponse connue : %s)", feedback.forId,
                        "présent" if service else "absent", answer is not None)
            raise ValueError(UNKNOWN_MESSAGE)
        kind = "utile" if feedback.value == 1 else "pas_utile"
        stored = await cl.make_async(handlers.submit_feedback)(
            service, answer.account, kind, feedback.comment, screen=answer.screen, dossier_id=answer.dossier_id,
            answer_id=feedback.forId, context=answer.context)
        return str(stored)

    async def delete_feedback(self, feedback_id: str) -> bool:
        return False  # feedback is append-only (audited); a new thumb is a new feedback

    # ------------------------------------------------------------------ users: the accounts of the assistant
    async def get_user(self, identifier: str) -> PersistedUser | None:
        return PersistedUser(id=identifier, identifier=identifier, createdAt=_now())

    async def create_user(self, user: User) -> PersistedUser | None:
        return PersistedUser(id=user.identifier, identifier=user.identifier, createdAt=_now(),
                             metadata=user.metadata, display_name=user.display_name)

    # ------------------------------------------------------------------ the rest is stored elsewhere (see above)
    async def create_element(self, element: Any) -> None:
        return None

    async def get_element(self, thread_id: str, element_id: str) -> Any:
        return None

    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        return None

    async def create_step(self, step_dict: Any) -> None:
        return None

    async def update_step(self, step_dict: Any) -> None:
        return None

    async def delete_step(self, step_id: str) -> None:
        return None

    async def get_thread_author(self, thread_id: str) -> str:
        return ""

    async def delete_thread(self, thread_id: str) -> None:
        return None

    async def list_threads(self, pagination: Pagination, filters: ThreadFilter) -> PaginatedResponse[ThreadDict]:
        return PaginatedResponse(pageInfo=PageInfo(hasNextPage=False, startCursor=None, endCursor=None), data=[])

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        return None

    async def update_thread(self, thread_id: str, name: str | None = None, user_id: str | None = None,
                            metadata: dict[str, Any] | None = None, tags: list[str] | None = None) -> None:
        return None

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        return None

    async def get_favorite_steps(self, user_id: str) -> list[Any]:
        return []


def _now() -> str:
    return datetime.now(UTC).isoformat()


def new_id() -> str:
    return str(uuid.uuid4())
