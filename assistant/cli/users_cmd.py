"""``gdr users create|list|disable|enable|role|password|roles``: accounts (thin layer over the services)."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.cli.common import _HELP, app, database_session, err, out_json, settings, user_errors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from assistant.services.audit import Actor
    from assistant.services.users import Accounts, UserPublic

PASSWORD_ENV = "GDR_PASSWORD"

users_app = typer.Typer(
    help="Comptes et rôles (evaluateur, expert, formateur, admin) : création, liste, rôle, désactivation.",
    no_args_is_help=True, context_settings=_HELP,
)
app.add_typer(users_app, name="users")


def _operator() -> Actor:
    """Who runs this command, for the audit log."""
    from assistant.services.audit import cli_actor

    return cli_actor()


@contextmanager
def _accounts() -> Iterator[tuple[Accounts, Session]]:
    """The accounts service and a session on the configured database (schema checked first)."""
    from assistant.services.users import Accounts

    s = settings()
    with database_session(s) as session:
        yield Accounts.from_settings(s), session


def read_password(*, confirm: bool = True) -> str:
    """The password from ``GDR_PASSWORD``, else typed twice without echo (French prompts)."""
    from corpora.errors import InputError

    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise InputError(f"Mot de passe absent : définissez {PASSWORD_ENV} ou lancez la commande dans un terminal.")
    first = getpass.getpass("Mot de passe : ")
    if confirm and getpass.getpass("Confirmez le mot de passe : ") != first:
        raise InputError("Les deux saisies diffèrent : rien n'a été enregistré.")
    return first


def _line(user: UserPublic) -> str:
    state = "désactivé" if user.disabled else "actif"
    last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "jamais"
    return (f"{user.login:<24} {user.role:<11} {state:<10} créé le {user.created_at:%Y-%m-%d} · "
            f"dernière connexion : {last}")


@users_app.command("create")
@user_errors
def create_cmd(
    login: Annotated[str, typer.Argument(help="Identifiant (minuscules, chiffres, « . _ @ - »).")],
    role: Annotated[str, typer.Option("--role", "-r", help="evaluateur, expert, formateur ou admin.")],
) -> None:
    """Crée un compte ; mot de passe lu dans GDR_PASSWORD, sinon demandé deux fois (sans écho)."""
    from assistant.services.users import normalise_login

    with _accounts() as (accounts, session):
        login = normalise_login(login)
        accounts.matrix.check_role(role)  # before asking for a password
        user = accounts.create(session=session, login=login, password=read_password(), role=role, actor=_operator())
        session.commit()
    err(f"Compte « {user.login} » créé (rôle {user.role}).")


@users_app.command("list")
@user_errors
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Une ligne JSON par compte sur la sortie standard.")] = False,
) -> None:
    """Liste les comptes (identifiant, rôle, état, création, dernière connexion)."""
    with _accounts() as (accounts, session):
        users = accounts.list_users(session=session)
    if as_json:
        for user in users:
            out_json(user.model_dump(mode="json"))
        return
    if not users:
        from assistant.services.users import NO_ACCOUNT_HINT

        err(NO_ACCOUNT_HINT)
        return
    for user in users:
        typer.echo(_line(user))


@users_app.command("disable")
@user_errors
def disable_cmd(login: Annotated[str, typer.Argument(help="Identifiant du compte.")]) -> None:
    """Désactive un compte : ses jetons sont refusés immédiatement (le compte et son historique restent)."""
    with _accounts() as (accounts, session):
        user = accounts.set_disabled(session=session, login=login, disabled=True, actor=_operator())
        session.commit()
    err(f"Compte « {user.login} » désactivé.")


@users_app.command("enable")
@user_errors
def enable_cmd(login: Annotated[str, typer.Argument(help="Identifiant du compte.")]) -> None:
    """Réactive un compte désactivé."""
    with _accounts() as (accounts, session):
        user = accounts.set_disabled(session=session, login=login, disabled=False, actor=_operator())
        session.commit()
    err(f"Compte « {user.login} » réactivé.")


@users_app.command("role")
@user_errors
def role_cmd(
    login: Annotated[str, typer.Argument(help="Identifiant du compte.")],
    role: Annotated[str, typer.Argument(help="Nouveau rôle : evaluateur, expert, formateur ou admin.")],
) -> None:
    """Change le rôle d'un compte (effectif dès la requête suivante)."""
    with _accounts() as (accounts, session):
        before = accounts.get(session=session, login=login).role
        user = accounts.set_role(session=session, login=login, role=role, actor=_operator())
        session.commit()
    err(f"Compte « {user.login} » : rôle {before} → {user.role}.")


@users_app.command("password")
@user_errors
def password_cmd(login: Annotated[str, typer.Argument(help="Identifiant du compte.")]) -> None:
    """Change le mot de passe (GDR_PASSWORD, sinon demandé deux fois) ; les jetons déjà émis sont révoqués."""
    with _accounts() as (accounts, session):
        accounts.get(session=session, login=login)  # unknown login: said before asking for a password
        user = accounts.set_password(session=session, login=login, password=read_password(), actor=_operator())
        session.commit()
    err(f"Mot de passe de « {user.login} » changé.")


@users_app.command("roles")
@user_errors
def roles_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Le tableau rôles × permissions en JSON.")] = False,
) -> None:
    """Affiche les rôles et leurs permissions (assistant/data/permissions.yaml)."""
    from assistant.services.permissions import load_permissions

    matrix = load_permissions()
    if as_json:
        out_json({"version": matrix.version, "permissions": dict(matrix.permissions),
                  "roles": {r: sorted(p) for r, p in matrix.roles.items()}})
        return
    for role, granted in matrix.roles.items():
        typer.echo(f"{role} : {', '.join(p for p in matrix.permissions if p in granted)}")
    typer.echo("")
    for name, what in matrix.permissions.items():
        typer.echo(f"{name:<16} {what}")
