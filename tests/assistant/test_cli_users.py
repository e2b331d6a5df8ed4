"""``gdr users …`` and the accounts step of ``gdr run``: French messages, exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from api_auth import FAST_AUTH
from typer.testing import CliRunner

from assistant.cli import users_cmd
from assistant.cli.main import build_app
from assistant.services.users import NO_ACCOUNT_HINT

PASSWORD = "une phrase de passe"


@pytest.fixture()
def gdr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run ``gdr`` in-process on a fresh data dir; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    for var in ("GDR_DATABASE_URL", "GDR_CORPORA_DIR", "GDR_PASSWORD", "GDR_ADMIN_PASSWORD", "GDR_AUTH__SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    for key, value in FAST_AUTH.items():
        monkeypatch.setenv(f"GDR_AUTH__{key.upper()}", str(value))
    runner = CliRunner()
    app = build_app()

    def run(*args: str, password: str | None = None) -> tuple[int, str, str]:
        env = {"GDR_PASSWORD": password} if password is not None else {}
        result = runner.invoke(app, list(args), env=env)
        assert "Traceback" not in result.stderr
        return result.exit_code, result.stdout, result.stderr

    return run


def _users(gdr) -> list[dict]:  # type: ignore[no-untyped-def]
    code, out, _ = gdr("users", "list", "--json")
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def test_users_lifecycle(gdr) -> None:  # type: ignore[no-untyped-def]
    code, _, err = gdr("users", "list")
    assert code == 2 and "gdr db upgrade" in err
    assert gdr("db", "upgrade")[0] == 0
    code, _, err = gdr("users", "list")
    assert code == 0 and NO_ACCOUNT_HINT in err
    code, _, err = gdr("users", "create", "Admin", "--role", "admin", password=PASSWORD)
    assert code == 0 and "Compte « admin » créé (rôle admin)." in err
    code, _, err = gdr("users", "create", "jeanne", "--role", "evaluateur", password=PASSWORD)
    assert code == 0
    code, out, _ = gdr("users", "list")
    assert "jeanne" in out and "evaluateur" in out and "actif" in out and "jamais" in out
    code, _, err = gdr("users", "role", "jeanne", "expert")
    assert code == 0 and "rôle evaluateur → expert" in err
    code, _, err = gdr("users", "disable", "jeanne")
    assert code == 0 and "désactivé" in err
    assert {u["login"]: (u["role"], u["disabled"]) for u in _users(gdr)} == {
        "admin": ("admin", False), "jeanne": ("expert", True)}
    assert gdr("users", "enable", "jeanne")[0] == 0
    code, _, err = gdr("users", "password", "jeanne", password="un tout nouveau mot de passe")
    assert code == 0 and "changé" in err


@pytest.mark.parametrize(("args", "password", "message"), [
    (("users", "create", "paul", "--role", "chef"), PASSWORD,
     "Rôle inconnu : « chef ». Rôles possibles : evaluateur, expert, formateur, admin."),
    (("users", "create", "paul", "--role", "expert"), "court", "Mot de passe trop court : au moins 12 caractères."),
    (("users", "create", "paul", "--role", "expert"), None, "Mot de passe absent : définissez GDR_PASSWORD"),
    (("users", "create", "p", "--role", "expert"), PASSWORD, "Identifiant invalide"),
    (("users", "create", "admin", "--role", "expert"), PASSWORD, "Identifiant déjà pris : « admin »."),
    (("users", "role", "paul", "expert"), None, "Compte introuvable : « paul »."),
    (("users", "role", "admin", "roi"), None, "Rôle inconnu : « roi »."),
    (("users", "disable", "admin"), None, "« admin » est le dernier administrateur actif"),
    (("users", "role", "admin", "expert"), None, "« admin » est le dernier administrateur actif"),
])
def test_bad_input_exits_2_in_french_and_stores_nothing(gdr, args: tuple[str, ...], password: str | None,  # type: ignore[no-untyped-def]
                                                         message: str) -> None:
    gdr("db", "upgrade")
    gdr("users", "create", "admin", "--role", "admin", password=PASSWORD)
    before = _users(gdr)
    code, _, err = gdr(*args, password=password)
    assert code == 2 and err.startswith("Erreur : ") and message in err, err
    assert _users(gdr) == before


def test_password_is_prompted_twice_without_echo(gdr, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    gdr("db", "upgrade")
    monkeypatch.setattr(users_cmd, "sys", SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True)))
    prompts: list[str] = []
    answers = iter([PASSWORD, PASSWORD, PASSWORD, "autre chose que ça"])

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(users_cmd.getpass, "getpass", getpass)
    assert gdr("users", "create", "lea", "--role", "formateur")[0] == 0
    assert prompts == ["Mot de passe : ", "Confirmez le mot de passe : "]
    code, _, err = gdr("users", "create", "marc", "--role", "formateur")
    assert code == 2 and "Les deux saisies diffèrent" in err
    assert [u["login"] for u in _users(gdr)] == ["lea"]


def test_roles_lists_the_matrix(gdr) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = gdr("users", "roles", "--json")
    matrix = json.loads(out)
    assert code == 0 and set(matrix["roles"]) == {"evaluateur", "expert", "formateur", "admin"}
    assert "decide" not in matrix["roles"]["formateur"] and "users" in matrix["roles"]["admin"]


def test_gdr_run_creates_no_account_silently(gdr, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GDR_RETRIEVAL__EMBEDDER", "fake")
    code, _, err = gdr("run", "--no-serve")
    assert code == 0, err
    assert NO_ACCOUNT_HINT in err and "Attention : aucun compte n'existe" in err
    assert _users(gdr) == []
    monkeypatch.setenv("GDR_ADMIN_PASSWORD", PASSWORD)
    code, _, err = gdr("run", "--no-serve")
    assert code == 0 and "compte « admin » (rôle admin) créé" in err and "Attention" not in err
    assert [(u["login"], u["role"]) for u in _users(gdr)] == [("admin", "admin")]


def test_serve_warns_when_there_is_no_account(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from api_auth import add_users

    from assistant.api.app import create_app
    from assistant.cli.serve_cmd import _warn_without_accounts
    from assistant.db.engine import upgrade
    from assistant.services.users import NO_ACCOUNT_WARNING
    from assistant.settings import get_settings

    s = get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=None, auth=FAST_AUTH)
    upgrade(s)
    _warn_without_accounts(create_app(s))
    assert NO_ACCOUNT_WARNING in capsys.readouterr().err
    add_users(s)
    _warn_without_accounts(create_app(s))
    assert "Attention" not in capsys.readouterr().err
