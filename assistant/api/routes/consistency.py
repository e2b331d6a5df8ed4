"""``GET /consistency``: similar dossiers that received different decisions or levels (« situation égale »)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import SessionDep
from assistant.api.security import require
from assistant.services import consistency as service

router = APIRouter(tags=["cohérence"])


@router.get("/consistency", response_model=service.ConsistencyReport, dependencies=[Depends(require("consistency"))],
            summary="Dossiers semblables ayant reçu des décisions ou des niveaux différents",
            responses={400: {"description": "Type inconnu (unknown_type) ou similarité hors de ]0, 1] "
                                            "(bad_similarity)"}})
def consistency(
    session: SessionDep,
    type: Annotated[str | None, Query(description="pv, amm ou aec")] = None,
    since: Annotated[date | None, Query(description="paires dont au moins un dossier a été décidé depuis cette "
                                                    "date (AAAA-MM-JJ)")] = None,
    min_similarity: Annotated[float, Query(gt=0.0, le=1.0, description="similarité minimale des situations")]
    = service.DEFAULT_MIN_SIMILARITY,
    pending: Annotated[bool, Query(description="compter aussi les propositions en attente de décision")] = False,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAIRS, description="nombre maximal de paires")] = 50,
) -> service.ConsistencyReport:
    """« À situation égale, traitement égal » : chaque paire montre les deux dossiers avec le niveau et le mode
    retenus, le motif de la décision, les critères déclenchés et la proposition, pour qu'un relecteur les
    aligne."""
    return service.consistency_pairs(session, dossier_type=type, since=since, min_similarity=min_similarity,
                                     include_pending=pending, limit=limit)
