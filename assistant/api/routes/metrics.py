"""``GET /metrics``: oversight metrics in the Prometheus text format (permission ``metrics``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from assistant.api.deps import SessionDep, SettingsDep
from assistant.api.security import require
from assistant.services import metrics as service

router = APIRouter(tags=["supervision"])


@router.get("/metrics", response_class=Response, dependencies=[Depends(require("metrics"))],
            summary="Indicateurs de supervision (format texte Prometheus)",
            responses={200: {"content": {"text/plain": {}}}})
def metrics(session: SessionDep, settings: SettingsDep) -> Response:
    """Décisions et modifications par type et niveau proposé, délai jusqu'à la décision, évaluations et scores,
    file d'attente (en attente, en retard), retours et journal d'audit. À collecter avec un jeton administrateur
    (en-tête ``Authorization: Bearer …``)."""
    return Response(service.exposition(session, settings.oversight), media_type=service.CONTENT_TYPE)
