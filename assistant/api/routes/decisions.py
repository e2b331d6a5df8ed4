"""``POST /dossiers/{id}/decision``, ``GET /dossiers/{id}/decisions``, ``GET /decisions``: human decisions.

Included before the dossiers router, whose ``GET /dossiers/{dossier_id:path}`` would otherwise take
``…/decisions`` for part of an id.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import SessionDep, SettingsDep
from assistant.api.security import require
from assistant.services import decisions as service
from assistant.services.users import CurrentUser

router = APIRouter(tags=["décisions"])


@router.post(
    "/dossiers/{dossier_id:path}/decision", response_model=service.Decision, status_code=201,
    summary="Décider sur la proposition : accepter ou modifier le niveau de risque et le mode de traitement",
    responses={400: {"description": "Niveau ou mode inconnu, motif absent alors que la décision modifie la "
                                    "proposition (code reason_required)"},
               404: {"description": "Dossier inconnu (code dossier_not_found), ou « assessment_id » qui n'est pas "
                                    "une proposition de ce dossier (code proposal_unknown)"},
               409: {"description": "Dossier jamais trié (no_proposal) ou proposition dépassée (proposal_outdated)"}},
)
def decide(
    body: service.DecisionIn, session: SessionDep, settings: SettingsDep,
    user: Annotated[CurrentUser, Depends(require("decide"))], dossier_id: str,
) -> service.Decision:
    """La proposition est la dernière évaluation enregistrée du dossier. Une décision qui en diffère exige un
    motif (« reason ») ; elle est enregistrée avec l'auteur, l'heure et les versions, et journalisée."""
    decision = service.decide(session, dossier_id=dossier_id, request=body, user=user,
                              max_reason_length=settings.oversight.max_reason_length)
    session.commit()  # the decision and its audit event together
    return decision


@router.get("/dossiers/{dossier_id:path}/decisions", response_model=list[service.Decision],
            summary="Décisions prises sur un dossier (la plus récente d'abord)",
            dependencies=[Depends(require("read_dossier"))])
def dossier_decisions(session: SessionDep, dossier_id: str) -> list[service.Decision]:
    return service.list_decisions(session, dossier_id=dossier_id, limit=service.MAX_LIST)


@router.get("/decisions", response_model=list[service.Decision],
            summary="Dernières décisions (filtres : type, date, modifiées ou non)",
            dependencies=[Depends(require("read_dossier"))])
def list_decisions(
    session: SessionDep,
    type: Annotated[str | None, Query(description="pv, amm ou aec")] = None,
    since: Annotated[date | None, Query(description="depuis cette date (AAAA-MM-JJ)")] = None,
    changed: Annotated[bool | None, Query(description="true : seulement celles qui modifient la proposition")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST, description="nombre maximal")] = 100,
) -> list[service.Decision]:
    return service.list_decisions(session, dossier_type=type, since=since, changed=changed, limit=limit)
