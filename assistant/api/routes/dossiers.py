"""``GET /dossiers`` (paginated) and ``GET /dossiers/{dossier_id}`` (ids may hold ``:`` and ``/``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from assistant.api.deps import SessionDep
from assistant.services import dossiers as service

router = APIRouter(prefix="/dossiers", tags=["dossiers"])


@router.get("", response_model=service.DossierPage, summary="Liste paginée des dossiers")
def list_dossiers(
    session: SessionDep,
    type: Annotated[str | None, Query(description="pv, amm ou aec")] = None,
    source: Annotated[str | None, Query(description="source, par exemple sample ou vaers")] = None,
    offset: Annotated[int, Query(ge=0, description="décalage")] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="taille de page")] = 50,
) -> service.DossierPage:
    return service.list_dossiers(session=session, type=type, source=source, offset=offset, limit=limit)


@router.get(
    "/{dossier_id:path}",
    response_model=service.DossierDetail,
    response_model_exclude_none=False,
    summary="Un dossier (identifiant encodé en pourcentage s'il contient « / »)",
)
def get_dossier(
    session: SessionDep,
    dossier_id: str,
    outcome: Annotated[bool, Query(description="inclure l'issue enregistrée (gardée à part)")] = False,
) -> service.DossierDetail:
    return service.get_dossier(session=session, dossier_id=dossier_id, include_outcome=outcome)
