"""``GET /changelog``: the « Nouveautés » (CHANGELOG.md), public like the home page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from assistant.services.changelog import read_changelog

router = APIRouter(tags=["accueil"])


@router.get("/changelog", response_class=PlainTextResponse, summary="Nouveautés (journal des modifications)",
            responses={200: {"content": {"text/markdown": {}}}})
def changelog() -> PlainTextResponse:
    return PlainTextResponse(read_changelog(), media_type="text/markdown; charset=utf-8")
