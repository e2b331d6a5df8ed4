"""``GET /audit/events`` and ``GET /audit/verify``: the audit log for admins (permission ``audit``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import SessionDep
from assistant.api.security import require
from assistant.services import audit as service
from assistant.services.users import CurrentUser

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/events", response_model=list[service.AuditEvent],
            summary="Derniers événements du journal d'audit (avec leurs empreintes) ; la lecture est journalisée")
def events(
    session: SessionDep,
    user: Annotated[CurrentUser, Depends(require("audit"))],
    since: Annotated[date | None, Query(description="depuis cette date (AAAA-MM-JJ, UTC)")] = None,
    kind: Annotated[list[str] | None, Query(description="types d'événements (répétable)")] = None,
    dossier_id: Annotated[str | None, Query(description="seulement ce dossier")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="nombre maximal (les plus récents)")] = 100,
) -> list[service.AuditEvent]:
    found = service.list_events(session, since=since, kinds=kind or [], dossier_id=dossier_id, limit=limit)
    service.record(session, "export", actor=user, dossier_id=dossier_id, payload={
        "what": "audit", "since": str(since) if since else None, "kinds": kind or [], "count": len(found),
        "last_seq": found[-1].seq if found else None, "destination": "API"})
    session.commit()
    return found


@router.get("/verify", response_model=service.Verification, dependencies=[Depends(require("audit"))],
            summary="Vérifier la chaîne d'audit (premier événement rompu s'il y en a un)")
def verify(session: SessionDep) -> service.Verification:
    return service.verify_chain(session)
