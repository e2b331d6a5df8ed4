"""``GET /dossiers`` (paginated), ``GET /dossiers/{dossier_id}`` and its precedents (ids may hold ``:`` and ``/``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import ResourcesDep, SessionDep, SettingsDep
from assistant.api.security import require
from assistant.db.models import MAX_ID
from assistant.services import dossiers as service
from assistant.services.retrieval import find_precedents
from assistant.services.users import CurrentUser
from corpora.model import Dossier, Hit

router = APIRouter(prefix="/dossiers", tags=["dossiers"])


@router.get("", response_model=service.DossierPage, summary="Liste paginée des dossiers",
            dependencies=[Depends(require("read_dossier"))])
def list_dossiers(
    session: SessionDep,
    type: Annotated[str | None, Query(description="pv, amm ou aec")] = None,
    source: Annotated[str | None, Query(description="source, par exemple sample ou vaers")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="décalage")] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="taille de page")] = 50,
) -> service.DossierPage:
    return service.list_dossiers(session=session, type=type, source=source, offset=offset, limit=limit)


# Declared before "/{dossier_id:path}", which would otherwise swallow the "/precedents" suffix.
@router.get(
    "/{dossier_id:path}/precedents",
    response_model=list[Hit],
    summary="Précédents d'un dossier : dossiers passés semblables et leur issue enregistrée",
    dependencies=[Depends(require("read_dossier"))],
)
def get_precedents(
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
    dossier_id: str,
    k: Annotated[int, Query(ge=1, le=100, description="nombre de précédents")] = 5,
) -> list[Hit]:
    detail = service.get_dossier(session=session, dossier_id=dossier_id)  # 404 when unknown
    dossier = Dossier.model_validate(detail.model_dump(exclude={"outcome"}))
    return find_precedents(settings, dossier, k=k, resources=resources)


@router.get(
    "/{dossier_id:path}",
    response_model=service.DossierDetail,
    response_model_exclude_none=False,
    summary="Un dossier (identifiant encodé en pourcentage s'il contient « / ») ; la consultation est journalisée",
)
def get_dossier(
    session: SessionDep,
    user: Annotated[CurrentUser, Depends(require("read_dossier"))],
    dossier_id: str,
    outcome: Annotated[bool, Query(description="inclure l'issue enregistrée (gardée à part)")] = False,
) -> service.DossierDetail:
    detail = service.get_dossier(session=session, dossier_id=dossier_id, include_outcome=outcome, viewer=user)
    session.commit()  # the audit event of this view
    return detail
