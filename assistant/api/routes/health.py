"""``GET /health``: liveness and database state."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from assistant.api.deps import EngineDep, SettingsDep
from corpora.errors import StoreError

router = APIRouter(tags=["santé"])


class Health(BaseModel):
    status: str
    database: str
    revision: str | None = None
    head: str | None = None
    detail: str | None = None
    index: dict[str, int] | None = None  # documents, passages, vectorised passages (dense filled later)


@router.get("/health", response_model=Health, summary="État du service et de la base de données")
def health(engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    from assistant.db.engine import current_revision, head_revision
    from assistant.services.retrieval import index_counts

    head = head_revision()
    try:
        revision = current_revision(engine)
    except StoreError as exc:
        body = Health(status="dégradé", database="inaccessible", head=head, detail=exc.message)
        return JSONResponse(body.model_dump(), status_code=503)
    if revision != head:
        body = Health(status="dégradé", database="à migrer", revision=revision, head=head,
                      detail="Lancez « gdr db upgrade ».")
        return JSONResponse(body.model_dump(), status_code=503)
    return JSONResponse(Health(status="ok", database="ok", revision=revision, head=head,
                               index=index_counts(settings)).model_dump())


# load balancers and uptime probes often ask with HEAD: same status, no body (the server drops it)
router.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)
