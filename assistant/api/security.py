"""Authentication and permissions of the API: bearer tokens, ``require("permission")`` on every route.

Usage in a route module::

    from assistant.api.security import require

    @router.get("/queue", dependencies=[Depends(require("queue"))])
    def queue(...): ...

    # or, when the route needs the caller (login, role, permissions):
    @router.post("/dossiers/{dossier_id:path}/decision")
    def decide(user: Annotated[CurrentUser, Depends(require("decide"))], ...): ...

Permissions are data (``assistant/data/permissions.yaml``). :func:`check_route_permissions`, run by
``create_app``, refuses to build an app with a route that declares no permission (except the public
ones below) or names an unknown one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from assistant.services.auth import NOT_AUTHENTICATED, TokenIssuer
from assistant.services.users import Accounts, CurrentUser
from assistant.settings import Settings
from corpora.errors import AuthenticationError, PermissionDenied

#: Paths anyone may call: liveness, the home page and its « Nouveautés », the token endpoint (and FastAPI's
#: /openapi.json, /docs).
PUBLIC_PATHS = frozenset({"/", "/health", "/changelog", "/auth/token"})
TOKEN_URL = "/auth/token"

_bearer = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL, auto_error=False, scheme_name="jeton",
    description="Jeton obtenu avec POST /auth/token (identifiant et mot de passe).",
)


@dataclass(frozen=True)
class AuthState:
    """What the API needs to authenticate: the token issuer and the accounts service (built once per app)."""

    issuer: TokenIssuer
    accounts: Accounts

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthState:
        return cls(issuer=TokenIssuer.from_settings(settings), accounts=Accounts.from_settings(settings))


def get_auth(request: Request) -> AuthState:
    auth: AuthState = request.app.state.auth
    return auth


AuthDep = Annotated[AuthState, Depends(get_auth)]


def authenticated_user(
    request: Request, auth: AuthDep, token: Annotated[str | None, Depends(_bearer)],
) -> CurrentUser:
    """The caller of the request (401 with a stable code when the token is missing, expired or revoked)."""
    if not token:
        raise AuthenticationError(NOT_AUTHENTICATED, code="not_authenticated")
    claims = auth.issuer.decode(token)
    # Its own short session: the route's session (if any) starts without a transaction opened here.
    with Session(request.app.state.engine) as session:
        user = auth.accounts.current_user(session=session, claims=claims)
    request.state.user = user  # for logs and, later, the audit trail
    return user


UserDep = Annotated[CurrentUser, Depends(authenticated_user)]


def require(permission: str) -> Callable[..., CurrentUser]:
    """A dependency that lets the request through only when the caller's role holds ``permission`` (else 403)."""

    def dependency(request: Request, user: UserDep) -> CurrentUser:
        if permission not in user.permissions:
            matrix = get_auth(request).accounts.matrix
            allowed = ", ".join(matrix.roles_with(permission)) or "aucun"
            raise PermissionDenied(
                f"Accès refusé : la permission « {permission} » est réservée aux rôles {allowed} "
                f"(votre rôle : {user.role}).", code="permission_denied")
        limiter = getattr(request.app.state, "rate_limiter", None)
        if limiter is not None:  # triage and chat: per account (assistant.api.operations)
            limiter.check(user.login, permission)
        return user

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{permission}"
    return dependency


def _permissions_of(dependant: Any) -> set[str]:
    found: set[str] = set()
    stack: list[Any] = [dependant]
    while stack:
        current = stack.pop()
        name = getattr(current.call, "permission", None)
        if isinstance(name, str):
            found.add(name)
        stack.extend(current.dependencies)
    return found


def api_routes(app: FastAPI) -> list[tuple[str, set[str], Any]]:
    """``(path, methods, dependant)`` of every API route as served (prefixes and router dependencies applied).

    Paths are written as in OpenAPI (``/dossiers/{dossier_id}``, without the ``:path`` convertor).
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before route contexts: included routes are copied into app.routes
        return [(r.path_format, set(r.methods or ()), r.dependant) for r in app.routes if isinstance(r, APIRoute)]
    return [(str(ctx.path_format), set(ctx.methods or ()), ctx.dependant) for ctx in iter_route_contexts(app.routes)
            if isinstance(ctx.original_route, APIRoute)]


def check_route_permissions(app: FastAPI, auth: AuthState) -> dict[str, str]:
    """Check every route declares one known permission (public paths excepted); return ``{"GET /x": perm}``.

    The permission of each operation is also written into the OpenAPI schema (``x-permission``).
    """
    matrix = auth.accounts.matrix
    table: dict[str, str] = {}
    problems: list[str] = []
    for path, methods, dependant in api_routes(app):
        names = _permissions_of(dependant)
        label = f"{','.join(sorted(methods))} {path}"
        if path in PUBLIC_PATHS:
            if names:
                problems.append(f"{label} : route publique munie d'une permission")
            continue
        if len(names) != 1:
            problems.append(f"{label} : {'aucune permission' if not names else 'plusieurs permissions'} "
                            "(ajoutez Depends(require(« permission »)))")
            continue
        [name] = names
        if name not in matrix.permissions:
            problems.append(f"{label} : permission inconnue « {name} »")
            continue
        for method in methods:
            table[f"{method} {path}"] = name
    if problems:
        raise RuntimeError("Routes sans permission valable : " + " ; ".join(problems))
    _document_permissions(app, table)
    return table


def _document_permissions(app: FastAPI, table: dict[str, str]) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for label, name in table.items():
            method, path = label.split(" ", 1)
            operation = schema.get("paths", {}).get(path, {}).get(method.lower())
            if operation is None:
                continue
            operation["x-permission"] = name
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", {"description": "Authentification requise, jeton expiré ou invalide"})
            responses.setdefault("403", {"description": f"Le rôle n'a pas la permission « {name} »"})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
