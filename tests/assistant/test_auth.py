"""Accounts and authentication: password flow, token expiry and revocation, roles, signing key, secrets."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from api_auth import FAST_AUTH, PASSWORD, Clients, api_clients, bearer, log_in, login_of
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assistant.api.app import create_app
from assistant.api.security import AuthState, check_route_permissions, require
from assistant.db.engine import head_revision, make_engine, upgrade
from assistant.db.models import UserRow
from assistant.services.auth import KEY_FILE, TokenIssuer, signing_key
from assistant.services.permissions import load_permissions, parse_permissions
from assistant.services.users import NO_ACCOUNT_HINT, Accounts
from assistant.settings import Settings, get_settings
from corpora.errors import AuthenticationError, InputError, StoreError

STRONG_KEY = "kq3V9-zt8LrXw2PnB7yHcD4mFjU6sAe1GvKiT0oZ"


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp_path / "var", "database_url": None, "corpora_dir": None,
                                 "auth": FAST_AUTH}
    values.update(overrides)
    return get_settings(**values)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    s = _settings(tmp_path)
    upgrade(s)
    return s


@pytest.fixture()
def clients(settings: Settings) -> Iterator[Clients]:
    with api_clients(settings) as c:
        yield c


@pytest.fixture()
def session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _stored_users(settings: Settings) -> list[tuple[str, str, bool]]:
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select login, role, disabled from app_user order by login"))
            return [(str(r[0]), str(r[1]), bool(r[2])) for r in rows]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- password flow

def test_token_and_me(clients: Clients) -> None:
    response = clients.anonymous.post("/auth/token", data={"username": "Expert-Test", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"].count(".") == 2 and body["expires_in"] == 480 * 60
    me = clients.anonymous.get("/auth/me", headers=bearer(body["access_token"])).json()
    assert me["login"] == "expert-test" and me["role"] == "expert" and me["last_login_at"]
    assert "decide" in me["permissions"] and "users" not in me["permissions"] and "password_hash" not in me


@pytest.mark.parametrize(("username", "password"), [
    ("evaluateur-test", "mauvais mot de passe"), ("inconnu", PASSWORD), ("évaluateur !", PASSWORD),
    ("evaluateur-test", "x" * 5000)])
def test_wrong_credentials_are_one_french_401(clients: Clients, username: str, password: str) -> None:
    response = clients.anonymous.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": "Identifiant ou mot de passe incorrect.", "code": "invalid_credentials"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_missing_form_fields_are_french_422(clients: Clients) -> None:
    response = clients.anonymous.post("/auth/token", data={"username": "x"})
    assert response.status_code == 422 and response.json()["detail"] == "Paramètre invalide : password (obligatoire)."


def test_bad_tokens_are_401_with_codes(clients: Clients, settings: Settings) -> None:
    app = clients.app
    login = login_of("admin")
    now = datetime.now(UTC)
    cases = {
        "token_expired": app.state.auth.issuer.issue(login, now=now - timedelta(minutes=10), expire_minutes=5),
        "token_invalid": TokenIssuer(key=STRONG_KEY[::-1] + "-autre-cle").issue(login),  # another key
    }
    for code, token in cases.items():
        response = clients.anonymous.get("/auth/me", headers=bearer(token.access_token))
        assert response.status_code == 401 and response.json()["code"] == code, response.text
    for header in ({"Authorization": "Bearer pas-un-jeton"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}, {}):
        response = clients.anonymous.get("/auth/me", headers=header)
        assert response.status_code == 401 and response.json()["code"] in ("token_invalid", "not_authenticated")
    # A token for an account that does not exist (signed with the right key) is refused too.
    ghost = app.state.auth.issuer.issue("fantome").access_token
    assert clients.anonymous.get("/auth/me", headers=bearer(ghost)).json()["code"] == "token_invalid"


def test_disabled_account_is_refused_at_once(clients: Clients, settings: Settings, session: Session) -> None:
    accounts = clients.app.state.auth.accounts
    expert = clients["expert"]
    assert expert.get("/auth/me").status_code == 200
    accounts.set_disabled(session=session, login="expert-test")
    session.commit()
    response = expert.get("/auth/me")
    assert response.status_code == 401 and response.json()["code"] == "account_disabled"
    refused = clients.anonymous.post("/auth/token", data={"username": "expert-test", "password": PASSWORD})
    assert refused.status_code == 401 and refused.json()["code"] == "account_disabled"
    # Wrong password on a disabled account says nothing about the account.
    wrong = clients.anonymous.post("/auth/token", data={"username": "expert-test", "password": "pas le bon !!"})
    assert wrong.json()["code"] == "invalid_credentials"
    accounts.set_disabled(session=session, login="expert-test", disabled=False)
    session.commit()
    assert expert.get("/auth/me").status_code == 200


def test_role_change_applies_to_the_next_request(clients: Clients, session: Session) -> None:
    formateur = clients["formateur"]
    body = {"content": b"Le patient est d\xc3\xa9c\xc3\xa9d\xc3\xa9.", "headers": {"content-type": "text/plain"},
            "params": {"precedents": "false", "type": "pv"}}
    assert formateur.post("/triage", **body).status_code == 403
    response = clients["admin"].patch("/users/formateur-test", json={"role": "evaluateur"})
    assert response.status_code == 200 and response.json()["role"] == "evaluateur"
    triaged = formateur.post("/triage", **body)  # same token, new role
    assert triaged.status_code == 200, triaged.text


def test_password_change_revokes_older_tokens(clients: Clients, session: Session) -> None:
    app = clients.app
    # The account was set up a minute ago; a token from 5 s ago is valid until the password changes.
    session.execute(sa.update(UserRow).where(UserRow.login == "evaluateur-test").values(  # type: ignore[arg-type]
        password_changed_at=datetime.now(UTC) - timedelta(minutes=1)))
    session.commit()
    old = app.state.auth.issuer.issue("evaluateur-test", now=datetime.now(UTC) - timedelta(seconds=5))
    assert clients.anonymous.get("/auth/me", headers=bearer(old.access_token)).status_code == 200
    changed = clients["admin"].patch("/users/evaluateur-test", json={"password": "un nouveau mot de passe"})
    assert changed.status_code == 200
    response = clients.anonymous.get("/auth/me", headers=bearer(old.access_token))
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    fresh = log_in(clients.anonymous, "evaluateur-test", "un nouveau mot de passe")
    assert clients.anonymous.get("/auth/me", headers=fresh).status_code == 200


# --------------------------------------------------------------------------- account management (admin)

def test_admin_manages_accounts_and_bad_input_stores_nothing(clients: Clients, settings: Settings) -> None:
    admin = clients["admin"]
    created = admin.post("/users", json={"login": "Jeanne.Martin", "password": "une phrase assez longue",
                                         "role": "expert"})
    assert created.status_code == 201 and created.json()["login"] == "jeanne.martin"
    before = _stored_users(settings)
    refusals = [
        (admin.post("/users", json={"login": "paul", "password": "une phrase assez longue", "role": "chef"}),
         400, "unknown_role"),
        (admin.post("/users", json={"login": "jeanne.martin", "password": "une phrase assez longue",
                                    "role": "expert"}), 409, "login_taken"),
        (admin.post("/users", json={"login": "paul", "password": "court", "role": "expert"}), 400, "weak_password"),
        (admin.post("/users", json={"login": "x", "password": "une phrase assez longue", "role": "expert"}),
         400, "invalid_login"),
        (admin.patch("/users/personne", json={"role": "expert"}), 404, "user_not_found"),
        # Valid role, invalid password: neither is written.
        (admin.patch("/users/jeanne.martin", json={"role": "admin", "password": "court"}), 400, "weak_password"),
        (admin.patch("/users/admin-test", json={"disabled": True}), 409, "last_admin"),
        (admin.patch("/users/admin-test", json={"role": "expert"}), 409, "last_admin"),
    ]
    for response, status, code in refusals:
        assert response.status_code == status and response.json()["code"] == code, response.text
        assert response.json()["detail"].endswith(".")  # one French sentence
    assert _stored_users(settings) == before
    assert "Rôles possibles : evaluateur, expert, formateur, admin." in refusals[0][0].json()["detail"]
    listed = admin.get("/users").json()
    assert [u["login"] for u in listed] == sorted(u["login"] for u in listed)
    assert all("password_hash" not in u for u in listed)


def test_hashes_are_argon2id_and_upgraded_when_the_cost_changes(settings: Settings, session: Session) -> None:
    cheap = Accounts.from_settings(settings)
    cheap.create(session=session, login="lea", password=PASSWORD, role="expert")
    session.commit()
    stored = session.execute(sa.select(UserRow.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "m=8,t=1,p=1" in stored and PASSWORD not in stored
    dearer = Accounts.from_settings(settings.model_copy(update={"auth": settings.auth.model_copy(
        update={"hash_memory_kib": 64, "hash_time_cost": 2})}))
    dearer.authenticate(session=session, login="lea", password=PASSWORD)
    session.commit()
    assert "m=64,t=2,p=1" in session.execute(sa.select(UserRow.password_hash)).scalar_one()
    with pytest.raises(AuthenticationError):
        dearer.authenticate(session=session, login="lea", password="pas le bon mot de passe")


def test_first_admin_is_never_created_silently(settings: Settings, session: Session) -> None:
    accounts = Accounts.from_settings(settings)
    assert accounts.ensure_first_admin(session=session, password=None) == NO_ACCOUNT_HINT
    assert accounts.count(session=session) == 0
    with pytest.raises(InputError, match="trop court"):
        accounts.ensure_first_admin(session=session, password="court")
    assert "créé" in accounts.ensure_first_admin(session=session, password="mot de passe initial")
    session.commit()
    assert accounts.get(session=session, login="admin").role == "admin"
    again = accounts.ensure_first_admin(session=session, password="un autre mot de passe")
    assert again.startswith("1 compte(s) existant(s)") and "ignoré" in again
    accounts.authenticate(session=session, login="admin", password="mot de passe initial")  # unchanged


def test_first_admin_step_of_gdr_run(tmp_path: Path) -> None:
    from assistant.services.pipeline import first_admin

    s = _settings(tmp_path)
    upgrade(s)
    assert first_admin(s) == NO_ACCOUNT_HINT
    with_password = _settings(tmp_path, admin_password="mot de passe initial")
    assert "compte « admin » (rôle admin) créé" in first_admin(with_password)
    other = _settings(tmp_path / "autre", admin_password="court")
    upgrade(other)
    with pytest.raises(InputError, match="GDR_ADMIN_PASSWORD refusé : Mot de passe trop court"):
        first_admin(other)
    assert _stored_users(other) == []


# --------------------------------------------------------------------------- signing key and secrets

def test_signing_key_is_created_once_private_and_shared(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    key = signing_key(s)
    path = s.auth_dir / KEY_FILE
    assert len(key) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(s.auth_dir.stat().st_mode) == 0o700
    assert signing_key(s) == key  # reused, not regenerated
    # A token issued by one app is accepted by another process on the same data dir.
    upgrade(s)
    with api_clients(s) as first:
        token = first.anonymous.post("/auth/token", data={"username": "admin-test", "password": PASSWORD}).json()
    with TestClient(create_app(s)) as second:
        assert second.get("/auth/me", headers=bearer(token["access_token"])).status_code == 200
    os.chmod(path, 0o644)
    with pytest.raises(StoreError, match="chmod 600"):
        signing_key(s)


def test_secret_from_settings_wins_and_no_file_is_written(tmp_path: Path) -> None:
    s = _settings(tmp_path, auth={**FAST_AUTH, "secret_key": STRONG_KEY})
    assert signing_key(s) == STRONG_KEY and not (s.auth_dir / KEY_FILE).exists()


@pytest.mark.parametrize("secret", ["changethis", "secret", "court-mais-pas-vide", "a" * 40, "CHANGEME"])
def test_weak_secrets_are_refused_outside_development(tmp_path: Path, secret: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GDR_ENV", raising=False)
    monkeypatch.setenv("GDR_AUTH__SECRET_KEY", secret)
    with pytest.raises(InputError, match="GDR_AUTH__SECRET_KEY refusée"):
        get_settings(data_dir=tmp_path)
    monkeypatch.setenv("GDR_ENV", "development")
    assert get_settings(data_dir=tmp_path).auth.secret_key is not None


@pytest.mark.parametrize("password", ["admin", "Admin123", "changeme", "azerty", "password123"])
def test_default_admin_passwords_are_refused_outside_development(tmp_path: Path, password: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GDR_ENV", raising=False)
    monkeypatch.setenv("GDR_ADMIN_PASSWORD", password)
    with pytest.raises(InputError, match="GDR_ADMIN_PASSWORD refusé hors mode développement"):
        get_settings(data_dir=tmp_path)
    monkeypatch.setenv("GDR_ENV", "production")
    with pytest.raises(InputError, match="mot de passe par défaut connu"):
        get_settings(data_dir=tmp_path)
    monkeypatch.setenv("GDR_ENV", "development")
    assert get_settings(data_dir=tmp_path).admin_password is not None
    monkeypatch.setenv("GDR_ENV", "production")
    monkeypatch.setenv("GDR_ADMIN_PASSWORD", "un mot de passe propre à l'installation")
    assert get_settings(data_dir=tmp_path).env == "production"


def test_weak_pseudonym_key_is_refused_outside_development(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GDR_ENV", raising=False)
    monkeypatch.setenv("GDR_PRIVACY__MAPPING_KEY", "changeme")
    with pytest.raises(InputError, match="GDR_PRIVACY__MAPPING_KEY refusée"):
        get_settings(data_dir=tmp_path)
    monkeypatch.setenv("GDR_PRIVACY__MAPPING_KEY", STRONG_KEY)
    assert get_settings(data_dir=tmp_path).privacy.mapping_key is not None


def test_session_expires_after_the_configured_lifetime(tmp_path: Path) -> None:
    s = _settings(tmp_path, auth={**FAST_AUTH, "token_expire_minutes": 30})
    upgrade(s)
    with api_clients(s) as clients:
        issued = clients.anonymous.post("/auth/token", data={"username": login_of("expert"), "password": PASSWORD})
        assert issued.json()["expires_in"] == 30 * 60
        issuer = clients.app.state.auth.issuer
        now = datetime.now(UTC)
        fresh = issued.json()["access_token"]
        claims = issuer.decode(fresh)
        assert claims.expires_at - claims.issued_at == timedelta(minutes=30)
        assert clients.anonymous.get("/auth/me", headers=bearer(fresh)).status_code == 200
        stale = issuer.issue(login_of("expert"), now=now - timedelta(minutes=31)).access_token  # lifetime past
        response = clients.anonymous.get("/auth/me", headers=bearer(stale))
        assert response.status_code == 401 and response.json()["code"] == "token_expired"
        assert "expiré" in response.json()["detail"]


def test_auth_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GDR_AUTH__TOKEN_EXPIRE_MINUTES", "15")
    monkeypatch.setenv("GDR_AUTH__SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("GDR_ADMIN_PASSWORD", "mot de passe initial")
    s = get_settings(data_dir=tmp_path)
    assert s.env == "production" and s.auth.token_expire_minutes == 15
    assert s.admin_password is not None and s.admin_password.get_secret_value() == "mot de passe initial"
    assert "mot de passe initial" not in repr(s) and STRONG_KEY not in repr(s)
    monkeypatch.setenv("GDR_AUTH__TOKEN_EXPIRE_MINUTES", "0")
    with pytest.raises(InputError, match=r"Réglages invalides : auth\.token_expire_minutes"):
        get_settings(data_dir=tmp_path)


# --------------------------------------------------------------------------- permissions as data

def test_permission_file_is_coherent() -> None:
    matrix = load_permissions()
    assert matrix.role_names == ("evaluateur", "expert", "formateur", "admin")
    assert matrix.granted("admin") == frozenset(matrix.permissions)
    for role in ("evaluateur", "expert"):
        assert {"triage", "search", "read_dossier", "chat", "decide", "queue"} <= matrix.granted(role)
    assert {"search", "read_dossier", "chat", "training"} <= matrix.granted("formateur")
    assert not {"decide", "triage"} & matrix.granted("formateur")  # no decision on real dossiers
    for admin_only in ("users", "audit", "metrics", "feedback_export"):
        assert matrix.roles_with(admin_only) == ("admin",)


def test_permission_file_errors_are_french() -> None:
    with pytest.raises(StoreError, match="non déclarées : voler"):
        parse_permissions({"permissions": {"lire": "Lire"}, "roles": {"a": ["lire", "voler"]}})
    with pytest.raises(StoreError, match="section « roles »"):
        parse_permissions({"permissions": {"lire": "Lire"}})


def test_app_refuses_a_route_without_permission(settings: Settings) -> None:
    auth = AuthState.from_settings(settings)
    app = FastAPI()
    bare = APIRouter()

    @bare.get("/oubli")
    def forgotten() -> dict[str, str]:
        return {}

    app.include_router(bare)
    with pytest.raises(RuntimeError, match="GET /oubli : aucune permission"):
        check_route_permissions(app, auth)
    typo = FastAPI()
    typo.add_api_route("/faute", forgotten, dependencies=[Depends(require("trriage"))])
    with pytest.raises(RuntimeError, match="permission inconnue « trriage »"):
        check_route_permissions(typo, auth)
    assert create_app(settings).state.route_permissions["POST /triage"] == "triage"


def test_single_migration_head() -> None:
    from alembic.script import ScriptDirectory

    from assistant.db.engine import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads == [head_revision()], f"plusieurs têtes de migration : {heads}"


# --------------------------------------------------------------------------- PostgreSQL

@pytest.mark.postgres
def test_accounts_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    from assistant.db.engine import current_revision

    s = _settings(tmp_path, database_url=postgres_url)
    assert upgrade(s) == head_revision()
    with api_clients(s) as clients:
        admin = clients["admin"]
        assert admin.get("/auth/me").json()["role"] == "admin"
        assert admin.post("/users", json={"login": "pg.user", "password": "une phrase assez longue",
                                          "role": "formateur"}).status_code == 201
        taken = admin.post("/users", json={"login": "PG.user", "password": "une phrase assez longue",
                                           "role": "expert"})
        assert taken.status_code == 409 and taken.json()["code"] == "login_taken"
        assert admin.patch("/users/pg.user", json={"disabled": True}).json()["disabled"] is True
        refused = clients.anonymous.post("/auth/token", data={"username": "pg.user",
                                                              "password": "une phrase assez longue"})
        assert refused.json()["code"] == "account_disabled"
        me = clients["expert"].get("/auth/me").json()
        assert me["last_login_at"].endswith("Z") and me["created_at"].endswith("Z")
    # The migration goes down and up again cleanly.
    from alembic import command

    from assistant.db.engine import alembic_config

    engine = make_engine(s)
    try:
        with engine.begin() as conn:
            config = alembic_config(str(engine.url))
            config.attributes["connection"] = conn
            command.downgrade(config, "0002")
        assert "app_user" not in sa.inspect(engine).get_table_names()
        assert current_revision(engine) == "0002"
    finally:
        engine.dispose()
    assert upgrade(s) == head_revision()
