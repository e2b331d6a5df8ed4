"""``GET /signal``: disproportionality (PRR, ROR, χ²) of a vaccine type × reaction term in VAERS."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import ResourcesDep, SettingsDep
from assistant.api.security import require
from assistant.services import signal as service
from classifier.signal import SignalContext

router = APIRouter(tags=["signal"])


@router.get("/signal", response_model=SignalContext, dependencies=[Depends(require("signal"))],
            summary="Disproportionnalité d'un type de vaccin × terme (PRR, ROR, χ², règle de signal)")
def signal(
    settings: SettingsDep,
    resources: ResourcesDep,
    product: Annotated[str, Query(description="type de vaccin VAERS (ex. DTAP, MMR, HEPB)")],
    term: Annotated[str | None, Query(description="terme de réaction codé (MedDRA) ; absent : les plus signalés")]
    = None,
    before: Annotated[date | None, Query(description="signalements reçus avant le 1er du mois de cette date")]
    = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT, description="nombre de termes sans « term »")] = 20,
) -> SignalContext:
    """Signalements VAERS antérieurs du couple (dont graves et décès), PRR et ROR avec IC 95 %, χ² de Yates et
    règle de signal (n ≥ 3, PRR ≥ 2, χ² ≥ 4) : la même table que le contexte de signal d'un tri. Chaque ligne
    donne la recherche qui rouvre les signalements comptés et la commande qui la recalcule."""
    return service.signal_table(settings, product, term, before, limit, resources=resources)
