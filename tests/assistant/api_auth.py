"""Authenticated API clients for the tests: one account per role, cheap password hashing.

Usage in a test module::

    from api_auth import FAST_AUTH, api_clients

    settings = get_settings(..., auth=FAST_AUTH)
    with api_clients(settings) as clients:
        clients.anonymous.get("/health")
        clients["evaluateur"].post("/triage", ...)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assistant.api.app import create_app
from assistant.db.engine import make_engine
from assistant.services.users import Accounts
from assistant.settings import Settings

# Argon2 at its minimum cost: the tests check the flow, not the hashing strength.
FAST_AUTH = {"hash_time_cost": 1, "hash_memory_kib": 8, "hash_parallelism": 1}
ROLES = ("evaluateur", "expert", "formateur", "admin")
PASSWORD = "mot de passe de test"


def login_of(role: str) -> str:
    return f"{role}-test"


def add_users(settings: Settings) -> dict[str, str]:
    """One account per role (``<role>-test``, password :data:`PASSWORD`), created when missing."""
    accounts = Accounts.from_settings(settings)
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            existing = {u.login for u in accounts.list_users(session=session)}
            for role in ROLES:
                if login_of(role) not in existing:
                    accounts.create(session=session, login=login_of(role), password=PASSWORD, role=role)
            session.commit()
    finally:
        engine.dispose()
    return {role: login_of(role) for role in ROLES}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def log_in(client: TestClient, login: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization header obtained through ``POST /auth/token`` (the real password flow)."""
    response = client.post("/auth/token", data={"username": login, "password": password})
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def expired_token(app: FastAPI, login: str) -> str:
    """A token correctly signed for ``login`` whose expiry is past."""
    issuer = app.state.auth.issuer
    return str(issuer.issue(login, now=datetime.now(UTC) - timedelta(hours=2), expire_minutes=1).access_token)


@dataclass
class Clients:
    app: FastAPI
    anonymous: TestClient
    by_role: dict[str, TestClient]

    def __getitem__(self, role: str) -> TestClient:
        return self.by_role[role]


@contextmanager
def api_clients(settings: Settings) -> Iterator[Clients]:
    """The app for ``settings`` (database already upgraded), an anonymous client and one client per role."""
    logins = add_users(settings)
    app = create_app(settings)
    with TestClient(app) as anonymous:
        # Clients sharing the app; only the first one runs the lifespan (engine disposed once).
        by_role = {role: TestClient(app, headers=log_in(anonymous, login)) for role, login in logins.items()}
        yield Clients(app=app, anonymous=anonymous, by_role=by_role)
