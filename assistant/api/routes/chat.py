"""``POST /chat``: one message of a conversation, answered from the sources with numbered citations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from assistant.api.security import require
from assistant.services.users import CurrentUser
from corpora.model import Hit

router = APIRouter(tags=["discussion"])


class ChatIn(BaseModel):
    message: str = Field(..., description="question, commande (/recherche …, /pv …) ou texte d'un dossier")
    conversation_id: str | None = Field(None, description="conversation à poursuivre (absent : nouvelle)")
    dossier_id: str | None = Field(None, description="dossier de la base à trier et à mettre en contexte")


class ChatSentence(BaseModel):
    text: str
    citations: list[int] = Field(..., description="numéros (à partir de 1) dans « citations »")


class ChatOut(BaseModel):
    conversation_id: str
    intent: str
    answer: str
    refused: bool
    sentences: list[ChatSentence]
    citations: list[Hit]
    timings_ms: dict[str, float]


@router.post("/chat", response_model=ChatOut, summary="Poser une question ou soumettre un dossier (réponse citée)")
def chat(body: ChatIn, request: Request, user: Annotated[CurrentUser, Depends(require("chat"))]) -> ChatOut:
    """Each sentence of a non-refused answer cites at least one stored passage (``excerpt == text[start:end]``).

    Unknown ``conversation_id`` or ``dossier_id``: 404; empty message: 400; too long: 413; binary or
    unsupported language: 4xx with a French ``detail``. Nothing is stored when an error occurs.
    A conversation belongs to the account that started it (another account gets 404).
    """
    from assistant.services.chat.service import ChatService

    service: ChatService = request.app.state.chat
    owner = service.user_id(user.login)
    return ChatOut.model_validate(service.reply(body.message, body.conversation_id, body.dossier_id, owner))
