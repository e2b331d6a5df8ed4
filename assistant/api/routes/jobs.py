"""Background jobs: a batch triaged, or the index built, by worker processes; progress at GET /jobs/{id}."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import EngineDep, SettingsDep
from assistant.api.routes.triage import _BODY_DOC, _upload
from assistant.api.security import require
from assistant.db.models import MAX_ID
from assistant.services import jobs
from assistant.services.users import CurrentUser
from corpora.errors import InputError, NotFound

router = APIRouter(tags=["tâches de fond"])

_SUFFIX_OF_MEDIA = {"text/csv": ".csv", "text/tab-separated-values": ".tsv", "application/zip": ".zip",
                    "application/x-zip-compressed": ".zip", "application/x-ndjson": ".jsonl",
                    "application/jsonl": ".jsonl", "application/json": ".json", "application/xml": ".xml",
                    "text/xml": ".xml", "text/plain": ".txt", "application/pdf": ".pdf"}


def _suffix(name: str | None, media: str | None) -> str:
    if name and Path(name).suffix:
        return Path(name).suffix.lower()
    return _SUFFIX_OF_MEDIA.get((media or "").split(";")[0].strip().lower(), ".txt")


@router.post("/jobs/triage", status_code=202, response_model=jobs.JobState,
             summary="Trier un lot en tâche de fond (progression : GET /jobs/{id})",
             description="Même envoi que POST /triage/batch. Le lot est vérifié d'emblée (4xx s'il est vide, "
             "illisible ou dangereux), puis trié par un processus de travail : chaque dossier est enregistré "
             "comme évaluation ; les lignes (résultat ou erreur) sont lues à GET /jobs/{id}/results.",
             openapi_extra=_BODY_DOC)
async def start_triage_job(
    request: Request,
    user: Annotated[CurrentUser, Depends(require("triage"))],
    settings: SettingsDep,
    engine: EngineDep,
    precedents: bool = Query(False, description="chercher précédents et référentiel dans l'index (plus lent)"),
    type: str | None = Query(None, description="type des dossiers sans type : pv, amm ou aec"),
    filename: str | None = Query(None, description="nom du fichier envoyé en corps brut"),
) -> jobs.JobState:
    from assistant.db.engine import check_schema
    from assistant.services.batch import upload_entries

    data, name, media, fields = await _upload(request, settings)
    declared_type = type or fields.get("type") or None
    if declared_type is not None and declared_type not in ("pv", "amm", "aec"):
        raise InputError(f"Type de dossier inconnu : « {declared_type} » (attendu : pv, amm ou aec).")
    await run_in_threadpool(check_schema, engine)
    name = name or filename
    await run_in_threadpool(upload_entries, settings, data, filename=name, declared_type=declared_type,
                            media_type=media)  # batch-level problems: 4xx now, not in the job
    spec = jobs.JobSpec("triage", {"type": declared_type, "precedents": precedents, "filename": name,
                                   "media_type": media}, (user.login, user.role))
    return await run_in_threadpool(jobs.create_job, settings, spec, data, _suffix(name, media))


@router.post("/jobs/index", status_code=202, response_model=jobs.JobState,
             summary="Construire ou mettre à jour l'index de recherche en tâche de fond",
             description="Comme « gdr index build » : sources (séparées par des virgules), limite par source, "
                         "remise à zéro. Progression : GET /jobs/{id}.")
async def start_index_job(
    user: Annotated[CurrentUser, Depends(require("index"))],
    settings: SettingsDep,
    sources: str | None = Query(None, description="ex. sample,referentiel (défaut : tous les corpus présents)"),
    limit: int | None = Query(None, ge=1, le=MAX_ID, description="documents au plus par source"),
    reset: bool = Query(False, description="reconstruire depuis zéro"),
) -> jobs.JobState:
    from assistant.services.retrieval import check_sources

    checked = check_sources([sources] if sources else None)
    spec = jobs.JobSpec("index", {"sources": checked, "limit": limit, "reset": reset}, (user.login, user.role))
    return await run_in_threadpool(jobs.create_job, settings, spec)


@router.get("/jobs/{job_id}", response_model=jobs.JobState, summary="État et progression d'une tâche de fond")
async def get_job(
    job_id: str,
    user: Annotated[CurrentUser, Depends(require("jobs"))],
    settings: SettingsDep,
) -> jobs.JobState:
    return await run_in_threadpool(jobs.read_state, settings, job_id)


@router.get("/jobs/{job_id}/results", summary="Lignes déjà produites par une tâche de tri (NDJSON)",
            response_description="Une ligne par dossier du lot (résultat ou erreur), dans l'ordre du lot")
async def get_job_results(
    job_id: str,
    user: Annotated[CurrentUser, Depends(require("jobs"))],
    settings: SettingsDep,
) -> StreamingResponse:
    state = await run_in_threadpool(jobs.read_state, settings, job_id)
    path = jobs.results_path(settings, job_id)
    if state.kind != "triage":
        raise NotFound("Cette tâche ne produit pas de lignes de résultat (construction d'index).")

    def lines() -> Iterator[bytes]:
        if path.is_file():
            with path.open("rb") as f:
                yield from f

    return StreamingResponse(lines(), media_type="application/x-ndjson")
