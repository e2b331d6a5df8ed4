"""``GET /assessments`` and ``GET /assessments/{id}``: stored triage results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from assistant.api.deps import SessionDep
from assistant.api.security import require
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
    assessment_id: Annotated[int, Path(ge=1, description="identifiant renvoyé par POST /triage")],
) -> service.AssessmentDetail:
    detail = service.get_assessment(session=session, id=assessment_id, viewer=user)
    session.commit()  # the audit event of this view
    return detail
