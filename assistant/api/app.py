"""Composition root of the HTTP API: ``create_app(settings)`` builds the engine and the routes.

Domain errors (:class:`~corpora.errors.GdrError`) become ``{"detail": "<message français>"}``
(plus ``"code"`` when the error has a stable code) with the error's ``http_status``; services never
import FastAPI. Every route declares a permission (``assistant.api.security``): the app refuses to
start otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.settings import Settings
from corpora.errors import EncodingProblem, GdrError
from corpora.io import json_reason
from corpora.model import Dossier

_HTTP_FR = {
    400: "Requête invalide.",
    401: "Authentification requise.",
    403: "Accès refusé.",
    404: "Ressource introuvable.",
    405: "Méthode non autorisée.",
    409: "Conflit avec l'état du service.",
    413: "Requête trop volumineuse.",
    415: "Type de contenu non pris en charge.",
    422: "Requête non traitable.",
    500: "Erreur interne du serveur.",
}


_VALIDATION_FR = {
    "missing": "obligatoire",
    "int_parsing": "nombre entier attendu",
    "bool_parsing": "booléen attendu",
    "less_than_equal": "valeur trop grande",
    "greater_than_equal": "valeur trop petite",
    "string_too_long": "texte trop long",
    "json_invalid": "JSON invalide",
}


async def _gdr_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GdrError)
    # A message may quote the input: whatever it quotes must still encode (lone surrogates become "?").
    body: dict[str, str] = {"detail": exc.message.encode("utf-8", "replace").decode("utf-8")}
    if exc.code:
        body["code"] = exc.code
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    if exc.http_status == 429:
        headers = {"Retry-After": str(getattr(exc, "retry_after", 60))}
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # Framework messages are English; only the application's own (French) details pass through.
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in {
        "Not Found", "Method Not Allowed", "Bad Request", "Internal Server Error"} else None
    if detail == "There was an error parsing the body":  # FastAPI: malformed or too deeply nested JSON
        detail = "Corps de requête illisible : JSON mal formé ou trop profondément imbriqué."
    elif detail is not None:
        from assistant.api.framework_fr import framework_fr

        detail = framework_fr(detail) or detail
    body = {"detail": detail or _HTTP_FR.get(exc.status_code, "Erreur HTTP.")}
    if code := getattr(exc, "code", None):
        body["code"] = code
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    # Logged for the operator (with its traceback); the user gets one French line, never a stack trace.
    logging.getLogger("assistant.api").error("Erreur interne", exc_info=exc)
    return JSONResponse({"detail": "Erreur interne du serveur : l'incident a été journalisé."}, status_code=500)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for error in exc.errors()[:5]:
        kind = str(error.get("type", ""))
        if kind == "json_invalid":  # loc = ("body", offset): an offset, not a parameter
            loc = error.get("loc", ())
            reason = json_reason(str(error.get("ctx", {}).get("error", "")))
            return JSONResponse({"detail": f"Corps JSON invalide (caractère {loc[-1] if loc else '?'}) : {reason}.",
                                 "code": "invalid_json"}, status_code=422)
        where = ".".join(str(x) for x in error.get("loc", ()) if x not in ("query", "path", "body"))
        parts.append(f"{where or 'requête'} ({_VALIDATION_FR.get(kind, 'valeur invalide')})")
    return JSONResponse({"detail": "Paramètre invalide : " + ", ".join(parts) + ".", "code": "invalid_request"},
                        status_code=422)


async def _valid_text(request: Request) -> None:
    """Refuse a JSON body that holds a lone surrogate (``"\\ud800"``): valid JSON, but no UTF-8 text."""
    parsed = getattr(request, "_json", None)  # set only when FastAPI parsed a JSON body for the route
    if parsed is None:
        return
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise EncodingProblem("Texte invalide : la requête contient un caractère Unicode isolé (demi-paire "
                              "\\ud800–\\udfff) ; envoyez du texte UTF-8 valide.", code="invalid_text") from None


def create_app(settings: Settings) -> FastAPI:
    """Build the API for ``settings``: the engine and the resources (index, models) live as long as the app.

    Both are created here and released at shutdown. The chat mounted under ``/chat`` uses the app's
    conversation service (and so its settings and resources), handed over in the lifespan state.
    """
    from starlette.middleware.base import BaseHTTPMiddleware

    from assistant.api.operations import LimitsMiddleware, RateLimiter, access_log_middleware
    from assistant.api.routes import (
        assessments,
        audit,
        auth,
        changelog,
        chat,
        consistency,
        decisions,
        dossiers,
        feedback,
        health,
        home,
        jobs,
        metrics,
        queue,
        search,
        signal,
        triage,
        users,
    )
    from assistant.api.security import AuthState, check_route_permissions
    from assistant.db.engine import make_engine
    from assistant.services.chat.service import ChatService
    from assistant.services.jobs import close_runners
    from assistant.services.resources import Resources

    auth_state = AuthState.from_settings(settings)  # signing key: settings, else created once in the data dir
    engine = make_engine(settings)
    resources = Resources(settings)
    chat_service = ChatService(settings, engine, resources)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        yield {"chat": chat_service}  # reaches the mounted chat's connections (ui.app)
        chat_service.close()
        close_runners()
        resources.close()
        engine.dispose()

    app = FastAPI(
        title="GDR Santé",
        description="Aide à la décision pour la gestion des risques des dossiers ANSM (AMM, AEC, "
        "pharmacovigilance) : niveau de risque, mode de traitement, précédents et référentiel cités.",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(_valid_text)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.rate_limiter = RateLimiter(settings.api.rate_limit_per_minute)
    # The limits sit inside the access log: a body refused while streamed raises from `receive` straight into
    # the route (FastAPI lets HTTP exceptions through), not through the log's task group.
    app.add_middleware(LimitsMiddleware, max_body_bytes=settings.api.max_body_bytes,
                       max_upload_bytes=settings.api.max_upload_bytes, timeout_s=settings.api.request_timeout_s)
    app.add_middleware(BaseHTTPMiddleware, dispatch=access_log_middleware())
    app.add_exception_handler(GdrError, _gdr_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.state.resources = resources
    app.state.auth = auth_state
    app.state.chat = chat_service
    app.include_router(home.router)
    app.include_router(health.router)
    app.include_router(changelog.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(triage.router)
    app.include_router(jobs.router)
    app.include_router(assessments.router)
    app.include_router(search.router)
    app.include_router(signal.router)
    app.include_router(decisions.router)  # before dossiers: its GET /dossiers/{id:path} would take …/decisions
    app.include_router(dossiers.router)
    app.include_router(chat.router)  # before the Chainlit mount: POST /chat is the API, /chat/ the page
    app.include_router(queue.router)
    app.include_router(consistency.router)
    app.include_router(feedback.router)
    app.include_router(metrics.router)
    app.include_router(audit.router)
    app.state.route_permissions = check_route_permissions(app, auth_state)  # {"GET /x": permission}
    _document_models(app, Dossier)
    _document_errors(app)
    mount_chat(app)
    return app


def _document_models(app: FastAPI, *models: type[BaseModel]) -> None:
    """Add to ``/openapi.json`` the models that routes reference by hand (the raw ``POST /triage`` body)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = generate().setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, sub in schema.pop("$defs", {}).items():
                    schemas.setdefault(name, sub)
                schemas.setdefault(model.__name__, schema)
        return app.openapi_schema  # type: ignore[return-value]  # set by generate()

    app.openapi = openapi  # type: ignore[method-assign]


class Erreur(BaseModel):
    """Every error the API answers (4xx, 5xx): one French line, and a stable code when there is one."""

    detail: str
    code: str | None = None


#: Responses every operation may give, added to ``/openapi.json`` where the route does not describe them.
_COMMON_ERRORS = {"503": "Délai dépassé ou service indisponible (code timeout…)"}
_BODY_ERRORS = {"400": "Requête invalide", "413": "Requête ou fichier trop volumineux (code too_large)"}
_NDJSON_ROUTES = {("post", "/triage/batch"), ("get", "/jobs/{job_id}/results")}


def _document_errors(app: FastAPI) -> None:
    """Make ``/openapi.json`` say what the errors really are: ``{"detail": "<français>", "code"}``.

    FastAPI documents 422 as its own list of validation errors; the app answers every error with one
    French line (see the handlers above). Routes that take a path parameter may answer 404, routes
    that read a body 400 and 413, the limited ones 429; NDJSON streams are described as such.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Erreur"] = Erreur.model_json_schema()
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}}
        limited = {label for label, permission in app.state.route_permissions.items()
                   if permission in ("triage", "chat")}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                extra = dict(_COMMON_ERRORS)
                if "{" in path:
                    extra["404"] = "Ressource introuvable"
                if method in ("post", "put", "patch"):
                    extra.update(_BODY_ERRORS)
                if f"{method.upper()} {path}" in limited:
                    extra["429"] = "Trop de demandes (code rate_limited ; en-tête Retry-After)"
                for status, description in extra.items():
                    responses.setdefault(status, {"description": description})
                for status, response in responses.items():
                    if status[0] in "45":
                        if status == "422":
                            response["description"] = "Paramètre invalide (code invalid_request…)"
                        response["content"] = error_content
                if (method, path) in _NDJSON_ROUTES:
                    ok = next(r for s, r in responses.items() if s.startswith("2"))
                    ok["content"] = {"application/x-ndjson": {"schema": {"type": "string", "description":
                                     "un objet JSON par ligne"}}}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


CHAT_PATH = "/chat"


def mount_chat(app: FastAPI, path: str = CHAT_PATH) -> bool:
    """Mount the Chainlit chat (``ui/app.py``) under ``path``; the API keeps working without it."""
    import os
    from pathlib import Path

    log = logging.getLogger("assistant.api")
    # The ui package sits beside assistant (source tree and installed alike); Chainlit loads it by path.
    root = Path(__file__).resolve().parents[2]
    target = root / "ui" / "app.py"
    if not target.is_file():
        log.warning("Interface de discussion absente (%s introuvable) : %s non disponible.", target, path)
        return False
    if (root / ".chainlit" / "config.toml").is_file():
        # Chainlit reads its configuration (French, uploads) from this folder, whatever the working directory.
        os.environ.setdefault("CHAINLIT_APP_ROOT", str(root))
    auth = getattr(app.state, "auth", None)
    if auth is not None:
        # The chat's login (accounts of the assistant) is kept in a cookie Chainlit signs with this secret,
        # derived from the API's signing key (an explicit CHAINLIT_AUTH_SECRET wins).
        from assistant.services.auth import derived_secret

        os.environ.setdefault("CHAINLIT_AUTH_SECRET", derived_secret(auth.issuer.key, "chainlit-session"))
    try:
        from chainlit.utils import mount_chainlit

        mount_chainlit(app=app, target=str(target), path=path)
    except ImportError:
        log.warning("Chainlit n'est pas installé : l'interface de discussion %s n'est pas disponible.", path)
        return False
    except Exception as exc:  # a broken chat must never take the API down
        log.warning("Interface de discussion %s non montée : %s", path, exc)
        return False
    return True
