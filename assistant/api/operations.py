"""Operational safety of the API: per-user rate limits, request size and time limits, JSON access logs.

* **Rate limit** (:class:`RateLimiter`): at most ``settings.api.rate_limit_per_minute`` requests per
  account and per minute on the routes that cost the most (permissions ``triage`` and ``chat``:
  ``POST /triage``, ``POST /triage/batch``, ``POST /chat``); beyond, 429 with a French message and
  ``Retry-After``. Counted per process: with several workers the limit applies in each.
* **Size and time** (:class:`LimitsMiddleware`): a body larger than ``settings.api.max_body_bytes``
  (1 MiB; the upload routes ``/triage…``, ``/jobs/triage`` and the chat page's ``/chat/…`` have
  ``api.max_upload_bytes``) is refused with 413: before it is read when its length is declared, as
  soon as it passes the limit when it is streamed (chunked); a request that carries a body to an
  account-only route without a bearer token is refused with 401 before its body is read; a request
  that has not started answering after ``settings.api.request_timeout_s`` gets 503 with a French
  message.
* **Access logs** (:func:`configure_logging`): one JSON object per line (time, level, logger,
  message, method, route template, status, duration, role) and never a body, a query string, a
  dossier text or a login in clear (the account is logged as a short hash).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.api.security import NOT_AUTHENTICATED, PUBLIC_PATHS
from corpora.errors import GdrError
from corpora.normalise import fr_int

RATE_LIMITED = frozenset({"triage", "chat"})
ACCESS = logging.getLogger("gdr.access")
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class RateLimited(GdrError):
    http_status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimiter:
    """Sliding one-minute window per key (account × permission); thread-safe."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, login: str, permission: str, now: float | None = None) -> None:
        if self.per_minute <= 0 or permission not in RATE_LIMITED:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(f"{login}\x00{permission}", deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.per_minute:
                wait = max(1, int(hits[0] + self.window_s - now) + 1)
                raise RateLimited(
                    f"Trop de demandes : au plus {self.per_minute} par minute pour « {permission} » et par compte. "
                    f"Réessayez dans {wait} s (pour un gros volume, utilisez POST /triage/batch).", wait)
            hits.append(now)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Routes that take a file: their limit is ``api.max_upload_bytes`` (``/chat/`` is the Chainlit page's upload).
UPLOAD_PREFIXES = ("/triage", "/jobs/triage", "/chat/")
#: Multipart framing on top of the file: larger than the routes' own margin, so that their message comes first.
UPLOAD_SLACK = 128 * 1024


def _account_only(path: str) -> bool:
    """An API route that needs a bearer token (the Chainlit page under /chat/ has its own login)."""
    return path not in PUBLIC_PATHS and not path.startswith("/chat/")


def too_large(size: int, limit: int, at_least: bool = False, what: str = "Requête trop volumineuse") -> str:
    """The French 413 line: ``what``, the size (« plus de » while streamed) and the limit."""
    more = "plus de " if at_least else ""
    return f"{what} : {more}{fr_int(size)} octets (maximum {fr_int(limit)})."


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` while a streamed body is read; FastAPI lets HTTP exceptions through."""

    code = "too_large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large(size, limit, at_least=True))


def _bounded(receive: Receive, limit: int) -> Receive:
    received = 0

    async def bounded() -> MutableMapping[str, Any]:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(received, limit)
        return message

    return bounded


class LimitsMiddleware:
    """Refuse oversized bodies early (413) and answer 503 when a request exceeds its time budget."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        if (scope.get("method") in _BODY_METHODS and _account_only(path)
                and not headers.get(b"authorization", b"").lower().startswith(b"bearer ")):
            # Nobody without a token makes the server read (or parse) a body.
            await JSONResponse({"detail": NOT_AUTHENTICATED, "code": "not_authenticated"}, status_code=401,
                               headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        # The upload routes check their own, precise limit (api.max_upload_bytes) while reading.
        upload = path.startswith(UPLOAD_PREFIXES)
        limit = self.max_upload_bytes + UPLOAD_SLACK if upload else self.max_body_bytes
        declared = headers.get(b"content-length", b"")
        if not upload and declared.isdigit() and int(declared) > limit:  # upload routes say "Fichier trop…"
            await JSONResponse({"detail": too_large(int(declared), limit), "code": "too_large"},
                               status_code=413)(scope, receive, send)
            return
        receive = _bounded(receive, limit)
        started = asyncio.Event()

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        # The budget runs until the answer starts: a streamed batch then goes on at its own pace.
        task = asyncio.ensure_future(self.app(scope, receive, tracking_send))
        waiter = asyncio.ensure_future(started.wait())
        done, _ = await asyncio.wait({task, waiter}, timeout=self.timeout_s, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if done:
            try:
                await task
            except BodyTooLarge as exc:  # read outside a FastAPI route (nothing answered it yet)
                if started.is_set():
                    raise
                await JSONResponse({"detail": exc.detail, "code": "too_large"}, status_code=413)(scope, receive, send)
            return
        task.cancel()
        detail = (f"Délai dépassé : la demande n'a pas abouti en {self.timeout_s:.0f} s. Réessayez, ou envoyez "
                  "un lot plus petit.")
        await JSONResponse({"detail": detail, "code": "timeout"}, status_code=503)(scope, receive, send)


def access_log_middleware() -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """One structured line per request: route template, status, duration, role; no body, no query, no login."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            user = getattr(request.state, "user", None)
            ACCESS.info("requête", extra={
                "method": request.method,
                "route": getattr(route, "path", None) or "(hors API)",
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                "role": getattr(user, "role", None),
                "account": _account_hash(getattr(user, "login", None)),
            })

    return middleware


def _account_hash(login: str | None) -> str | None:
    return hashlib.sha256(login.encode("utf-8")).hexdigest()[:12] if login else None


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            data["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "Exception"
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """JSON lines on ``stream`` (stderr) for the application's loggers (``gdr.*``, ``assistant.*``)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    for name in ("gdr", "assistant"):
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not isinstance(h.formatter, JsonFormatter)] + [handler]
        logger.setLevel(level)
        logger.propagate = False
    return handler
