"""``POST /triage``: a dossier (uploaded file or JSON body) → triage results, each one stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import EngineDep, ResourcesDep, SessionDep, SettingsDep
from assistant.api.operations import too_large
from assistant.api.security import require
from assistant.services.resources import Resources
from assistant.services.users import CurrentUser
from assistant.settings import Settings
from classifier.result import TriageResult
from corpora.batch import BATCH_FORMATS
from corpora.errors import InputError, InputTooLarge
from corpora.io import dump_json_line

router = APIRouter(tags=["triage"])

MULTIPART_MISSING = (
    "Envoi multipart non pris en charge par cette installation (paquet python-multipart absent) : "
    "envoyez le contenu brut (Content-Type text/plain, application/json ou application/xml)."
)

_FILE_TOO_LARGE = "Fichier trop volumineux"
# Multipart framing (boundaries, part headers, small form fields) on top of the file itself.
_MULTIPART_SLACK = 64 * 1024

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Un fichier (multipart, champ « file ») ou directement le contenu : dossier JSON, "
        "JSON Lines, texte libre, ou ICSR ICH E2B(R3) en XML.",
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary"},
                "type": {"type": "string", "enum": ["pv", "amm", "aec"]},
            }}},
            "application/json": {"schema": {"$ref": "#/components/schemas/Dossier"}},
            "text/plain": {"schema": {"type": "string"}},
            "application/xml": {"schema": {"type": "string"}},
        },
    },
}


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds the upload limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
        raise InputTooLarge(too_large(int(declared), limit, what=_FILE_TOO_LARGE))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit + _MULTIPART_SLACK:
            raise InputTooLarge(too_large(size, limit, at_least=True, what=_FILE_TOO_LARGE))
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # lets request.form() parse what was already read
    return body


async def _upload(request: Request, settings: Settings) -> tuple[bytes, str | None, str | None, dict[str, str]]:
    """(bytes, file name, media type, form fields) of the upload, whatever way it was sent."""
    media = request.headers.get("content-type", "")
    body = await _read_body(request, settings.api.max_upload_bytes)
    if not media.lower().startswith("multipart/form-data"):
        return body, None, media or None, {}
    try:
        import python_multipart  # noqa: F401  (starlette's form parser)
    except ImportError:
        raise HTTPException(status_code=415, detail=MULTIPART_MISSING) from None
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # python-multipart / starlette parse errors (English) become one French line
        from assistant.api.framework_fr import framework_fr

        said = framework_fr(str(getattr(exc, "detail", exc)))
        raise InputError(said or "Envoi multipart mal formé : joignez le fichier dans le champ « file ».") from exc
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InputError("Champ « file » absent du formulaire : joignez-y le dossier à trier.")
    data = await upload.read()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return data, upload.filename, upload.content_type, fields


@router.post(
    "/triage",
    summary="Trier un dossier : niveau de risque, mode de traitement, critères, précédents",
    description=(
        "Envoyez un fichier (multipart, champ « file ») ou son contenu brut : dossier JSON ou JSON Lines "
        "(format de « gdr corpora convert », l'issue « outcome » est ignorée), texte libre (.txt, .md) ou "
        "ICSR ICH E2B(R3) en XML. Chaque résultat est enregistré (voir « GET /assessments/{id} », clé "
        "« assessment_id »). Limites : taille maximale configurée (413 au-delà), 1000 dossiers par fichier ; "
        "XML avec DTD ou entités refusé (422). Les instructions adressées à un assistant dans un dossier "
        "sont traitées comme des données et signalées par un avertissement."
    ),
    openapi_extra=_BODY_DOC,
    response_model=list[TriageResult],
    response_description="Un résultat de triage par dossier (contrat de « gdr triage --json »), avec "
    "« assessment_id » et, quand la lecture en sait plus que le dossier, « intake »",
)
async def triage(
    request: Request,
    user: Annotated[CurrentUser, Depends(require("triage"))],
    settings: SettingsDep,
    engine: EngineDep,
    session: SessionDep,
    resources: ResourcesDep,
    precedents: bool = Query(True, description="chercher précédents et référentiel dans l'index"),
    type: str | None = Query(None, description="type du dossier : pv, amm ou aec (texte libre)"),
    format: str | None = Query(None, description="json, jsonl, text ou xml (sinon deviné)"),
    filename: str | None = Query(None, description="nom du fichier envoyé en corps brut"),
) -> list[TriageResult]:
    from assistant.db.engine import check_schema
    from assistant.services.intake import read_upload
    from assistant.services.triage import triage_and_store

    data, name, media, fields = await _upload(request, settings)
    declared_type = type or fields.get("type") or None
    if "precedents" in fields:
        precedents = fields["precedents"].strip().lower() in ("1", "true", "on", "oui", "yes")
    await run_in_threadpool(check_schema, engine)
    items = await run_in_threadpool(
        read_upload, settings, data, filename=name or filename, declared_type=declared_type,
        declared_format=format or fields.get("format"), media_type=media)
    return await run_in_threadpool(triage_and_store, settings, session, items, precedents, resources, user)


@router.post(
    "/triage/batch",
    summary="Trier un lot de dossiers (CSV, JSON Lines, zip) : une ligne de résultat par dossier, en flux",
    description=(
        "Envoyez un lot (multipart, champ « file », ou contenu brut) : CSV (colonnes documentées, séparateur et "
        "encodage détectés), JSON Lines, ou archive zip de fichiers (PDF, DOCX, XML E2B, JSON, texte, CSV). "
        "La réponse est un flux NDJSON (application/x-ndjson) : une ligne par dossier trié (avec « row », "
        "« where » et « assessment_id ») ou par ligne en erreur (« row », « where », « error » en français), "
        "dans l'ordre du lot, puis une ligne « summary ». Une ligne en erreur n'arrête pas le lot. Un lot vide, "
        "illisible ou dangereux (bombe zip, chemins hors dossier) est refusé d'emblée (4xx)."
    ),
    openapi_extra=_BODY_DOC,
    response_description="Flux NDJSON : un résultat ou une erreur par ligne du lot, puis un résumé",
)
async def triage_batch(
    request: Request,
    user: Annotated[CurrentUser, Depends(require("triage"))],
    settings: SettingsDep,
    engine: EngineDep,
    resources: ResourcesDep,
    precedents: bool = Query(False, description="chercher précédents et référentiel dans l'index (plus lent)"),
    type: str | None = Query(None, description="type des dossiers sans type : pv, amm ou aec"),
    format: str | None = Query(None, description="csv, jsonl ou zip (sinon deviné)"),
    filename: str | None = Query(None, description="nom du fichier envoyé en corps brut"),
) -> StreamingResponse:
    from assistant.db.engine import check_schema
    from assistant.services.batch import upload_entries

    data, name, media, fields = await _upload(request, settings)
    declared_type = type or fields.get("type") or None
    if "precedents" in fields:
        precedents = fields["precedents"].strip().lower() in ("1", "true", "on", "oui", "yes")
    if declared_type is not None and declared_type not in ("pv", "amm", "aec"):
        raise InputError(f"Type de dossier inconnu : « {declared_type} » (attendu : pv, amm ou aec).")
    declared_format = format or fields.get("format") or None
    if declared_format is not None and declared_format.strip().lower() not in (*BATCH_FORMATS, "ndjson"):
        raise InputError(f"Format de lot inconnu : « {declared_format} » (attendu : {', '.join(BATCH_FORMATS)}).",
                         code="unknown_format")
    await run_in_threadpool(check_schema, engine)
    entries = await run_in_threadpool(
        upload_entries, settings, data, filename=name or filename, declared_type=declared_type,
        declared_format=declared_format, media_type=media)
    return StreamingResponse(_batch_lines(settings, engine, entries, precedents, resources, user),
                             media_type="application/x-ndjson")


def _batch_lines(settings: Settings, engine: Any, entries: Any, with_precedents: bool,
                 resources: Resources, user: CurrentUser) -> Iterator[str]:
    from assistant.services.batch import triage_and_store_entries

    triaged = failed = 0
    for row in triage_and_store_entries(settings, engine, entries, with_precedents=with_precedents,
                                        resources=resources, actor=user):
        if row.error is not None:
            failed += 1
        else:
            triaged += 1
        yield dump_json_line(row.as_json()) + "\n"
    yield dump_json_line({"summary": {"rows": triaged + failed, "triaged": triaged, "errors": failed}}) + "\n"
