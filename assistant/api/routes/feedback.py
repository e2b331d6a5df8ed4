"""``POST /feedback`` (every role), ``GET /feedback`` and ``GET /feedback/export`` (CSV, admin)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from assistant.api.deps import SessionDep
from assistant.api.security import require
from assistant.services import feedback as service
from assistant.services.users import CurrentUser

router = APIRouter(prefix="/feedback", tags=["retours"])


@router.post("", response_model=service.Feedback, status_code=201,
             summary="Envoyer un retour : utile / pas utile sur une réponse ou une proposition, suggestion, problème")
def submit(body: service.FeedbackIn, session: SessionDep,
           user: Annotated[CurrentUser, Depends(require("feedback"))]) -> service.Feedback:
    """Le contexte (écran ou route, dossier, proposition, réponse) et les versions en service sont enregistrés
    avec le retour ; un commentaire est obligatoire pour une suggestion ou un problème."""
    feedback = service.submit(session, request=body, user=user)
    session.commit()
    return feedback


@router.get("", response_model=list[service.Feedback], summary="Retours des utilisateurs (le plus récent d'abord)",
            dependencies=[Depends(require("feedback_export"))])
def list_feedback(
    session: SessionDep,
    kind: Annotated[str | None, Query(description="utile, pas_utile, suggestion ou probleme")] = None,
    since: Annotated[date | None, Query(description="depuis cette date (AAAA-MM-JJ)")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = 500,
) -> list[service.Feedback]:
    return service.list_feedback(session, kind=kind, since=since, limit=limit)


@router.get("/export", summary="Exporter les retours en CSV (export journalisé)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export(
    session: SessionDep,
    user: Annotated[CurrentUser, Depends(require("feedback_export"))],
    kind: Annotated[str | None, Query(description="utile, pas_utile, suggestion ou probleme")] = None,
    since: Annotated[date | None, Query(description="depuis cette date (AAAA-MM-JJ)")] = None,
) -> Response:
    rows = service.list_feedback(session, kind=kind, since=since, limit=service.MAX_LIST)
    service.record_export(session, actor=user, count=len(rows), kind=kind, since=since, destination="API")
    session.commit()
    return Response(service.to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="retours.csv"'})
