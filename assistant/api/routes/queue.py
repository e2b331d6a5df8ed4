"""``GET /queue``: dossiers awaiting a decision, by level then days left on their regulatory clock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import SessionDep, SettingsDep
from assistant.api.security import require
from assistant.services import queue as service

router = APIRouter(tags=["file d'attente"])


@router.get("/queue", response_model=service.Queue, dependencies=[Depends(require("queue"))],
            summary="File des dossiers en attente de décision : niveau de risque, puis jours restants")
def queue(
    session: SessionDep, settings: SettingsDep,
    type: Annotated[str | None, Query(description="pv, amm ou aec")] = None,
    level: Annotated[str | None, Query(description="faible, modéré, élevé ou critique")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_QUEUE, description="nombre maximal de dossiers")] = 100,
) -> service.Queue:
    """Chaque dossier indique le jour 0, l'étape réglementaire en cours, son échéance, les jours restants
    (négatifs en cas de retard) et les drapeaux « en retard » et « échéance proche »."""
    return service.pending_queue(session, oversight=settings.oversight, dossier_type=type, level=level, limit=limit)
