"""``GET /assessments`` and ``GET /assessments/{id}``: stored triage results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from assistant.api.deps import SessionDep, SettingsDep
from assistant.api.security import require
from assistant.db.models import MAX_ID
from assistant.services import assessments as service
from assistant.services.users import CurrentUser

router = APIRouter(prefix="/assessments", tags=["évaluations"])


@router.get("", response_model=list[service.AssessmentSummary], summary="Dernières évaluations enregistrées",
            dependencies=[Depends(require("read_dossier"))])
def list_assessments(
    session: SessionDep,
    dossier_id: Annotated[str | None, Query(description="seulement ce dossier")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST, description="nombre maximal")] = 50,
) -> list[service.AssessmentSummary]:
    return service.list_assessments(session=session, dossier_id=dossier_id, limit=limit)


@router.get("/{assessment_id}", response_model=service.AssessmentDetail,
            summary="Une évaluation : résultat de triage complet et dossier évalué (consultation journalisée)")
def get_assessment(
    session: SessionDep,
    user: Annotated[CurrentUser, Depends(require("read_dossier"))],
    assessment_id: Annotated[int, Path(ge=1, le=MAX_ID, description="identifiant renvoyé par POST /triage")],
) -> service.AssessmentDetail:
    detail = service.get_assessment(session=session, id=assessment_id, viewer=user)
    session.commit()  # the audit event of this view
    return detail


class PseudonymMap(BaseModel):
    assessment_id: int
    dossier_id: str
    pseudonyms: dict[str, str] = Field(..., description="placeholder of the stored text → original value")


@router.get("/{assessment_id}/pseudonyms", response_model=PseudonymMap,
            summary="Correspondance des pseudonymes d'une évaluation (administrateurs, lecture journalisée)")
def get_pseudonyms(
    session: SessionDep,
    settings: SettingsDep,
    user: Annotated[CurrentUser, Depends(require("pseudonyms"))],
    assessment_id: Annotated[int, Path(ge=1, le=MAX_ID, description="identifiant renvoyé par POST /triage")],
) -> PseudonymMap:
    """Les valeurs d'origine (noms, dates de naissance, téléphones, NIR…) remplacées dans le dossier enregistré.

    Réservé au rôle admin ; chaque lecture est inscrite au journal d'audit. 404 si le dossier ne contenait
    aucune donnée personnelle détectée.
    """
    from assistant.services.pseudonyms import read_mapping

    mapping = read_mapping(settings, session, assessment_id=assessment_id, viewer=user)
    session.commit()  # the audit event of this reading
    return PseudonymMap.model_validate(mapping)
