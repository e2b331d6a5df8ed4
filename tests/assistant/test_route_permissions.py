"""Every route of the API × every kind of caller answers as ``route_permissions.txt`` says.

The table is data: a new route without a row makes ``test_every_route_is_in_the_table`` fail, so
its permissions are decided (and reviewed) when it is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, ROLES, Clients, api_clients, bearer, expired_token, login_of
from fastapi.testclient import TestClient

from assistant.db.engine import upgrade
from assistant.services.auth import TokenIssuer
from assistant.services.permissions import load_permissions
from assistant.settings import get_settings

TABLE_FILE = Path(__file__).with_name("route_permissions.txt")
CALLERS = ("anonyme", "expiré", *ROLES)
OUTSIDE_SCHEMA = {("GET", "/"), ("GET", "/openapi.json")}  # public pages the schema does not list
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
CODES = {401: {"not_authenticated", "token_expired", "token_invalid"}, 403: {"permission_denied"}}

Route = tuple[str, str]


def read_table(path: Path = TABLE_FILE) -> dict[Route, dict[str, str]]:
    table: dict[Route, dict[str, str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        method, route, *answers = line.split()
        assert len(answers) == len(CALLERS), f"{path.name}:{number}: {len(CALLERS)} colonnes attendues"
        assert all(a in ("ok", "401", "403") for a in answers), f"{path.name}:{number}: ok, 401 ou 403"
        key = (method.upper(), route)
        assert key not in table, f"{path.name}:{number}: ligne en double"
        table[key] = dict(zip(CALLERS, answers, strict=True))
    return table


TABLE = read_table()


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clients]:
    settings = get_settings(data_dir=tmp_path_factory.mktemp("perm") / "var", database_url=None, corpora_dir=None,
                            auth=FAST_AUTH)
    upgrade(settings)
    with api_clients(settings) as c:
        yield c


@pytest.fixture(scope="module")
def expired(clients: Clients) -> TestClient:
    return TestClient(clients.app, headers=bearer(expired_token(clients.app, login_of("admin"))))


@pytest.fixture(scope="module")
def forged(clients: Clients) -> TestClient:
    """An admin token signed with another key: answered like an anonymous call (401 ``token_invalid``)."""
    other = TokenIssuer(key="une-autre-cle-de-signature-" + "x9Qz" * 8)
    return TestClient(clients.app, headers=bearer(other.issue(login_of("admin"), role="admin").access_token))


def test_every_route_is_in_the_table(clients: Clients) -> None:
    paths = clients.anonymous.get("/openapi.json").json()["paths"]
    served = {(method.upper(), path) for path, item in paths.items() for method in item if method in HTTP_METHODS}
    missing = sorted(served - set(TABLE))
    stale = sorted(set(TABLE) - served - OUTSIDE_SCHEMA)
    assert not missing, f"routes sans ligne dans {TABLE_FILE.name} : {missing}"
    assert not stale, f"lignes de {TABLE_FILE.name} sans route : {stale}"


def test_table_agrees_with_the_permissions_file(clients: Clients) -> None:
    matrix = load_permissions()
    declared = clients.app.state.route_permissions  # {"GET /x": permission}, checked at start-up
    for (method, path), answers in TABLE.items():
        permission = declared.get(f"{method} {path}")
        if permission is None:  # public
            assert set(answers.values()) == {"ok"}, f"{method} {path} est publique"
            continue
        assert answers["anonyme"] == answers["expiré"] == "401", f"{method} {path}"
        for role in ROLES:
            expected = "ok" if matrix.allows(role, permission) else "403"
            assert answers[role] == expected, f"{method} {path}, {role} ({permission}) : {expected} attendu"


def _url(path: str) -> str:
    # Any value will do: the answer past authentication (200, 404, 422…) is not what is checked here.
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize("route", sorted(TABLE), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_as_the_table_says(clients: Clients, expired: TestClient, forged: TestClient,
                                         route: Route) -> None:
    method, path = route
    callers = {"anonyme": clients.anonymous, "expiré": expired, "forgé": forged, **clients.by_role}
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    # The forged token is answered as the anonymous call is (its column is the anonymous one).
    for caller, expected in [*TABLE[route].items(), ("forgé", TABLE[route]["anonyme"])]:
        response = callers[caller].request(method, _url(path), **body)
        status = response.status_code
        where = f"{method} {path} ({caller}) → {status} {response.text[:200]}"
        assert status < 500, where
        if expected == "ok":
            assert status not in (401, 403), where
            continue
        assert status == int(expected), where
        payload = response.json()
        assert payload["code"] in CODES[status], where
        assert payload["detail"] and "Not authenticated" not in payload["detail"], where
        if status == 401:
            assert response.headers.get("www-authenticate") == "Bearer", where
        if caller == "expiré":
            assert payload["code"] == "token_expired", where
        if caller == "forgé":
            assert payload["code"] == "token_invalid", where
