"""Accounts: creation, roles, disabling, passwords (Argon2id through pwdlib), authentication.

Framework-free: the API and the CLI call :class:`Accounts`. The caller owns the session and
commits; every method checks its input before writing, so a refused call stores nothing. Each
change and each login is written to the audit log in the same transaction (``actor`` = who did it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from assistant.db.models import UserRow, utcnow
from assistant.services import audit
from assistant.services.dossiers import database_errors
from assistant.services.permissions import PermissionMatrix, load_permissions
from assistant.settings import AuthSettings, Settings
from corpora.errors import AuthenticationError, Conflict, InputError, NotFound

if TYPE_CHECKING:
    from pwdlib import PasswordHash

    from assistant.services.auth import TokenClaims

FIRST_ADMIN = "admin"
ADMIN_ROLE = "admin"
MAX_PASSWORD_LENGTH = 1024  # bounds the hashing work an attacker can ask for
LOGIN_RE = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")

WRONG_CREDENTIALS = "Identifiant ou mot de passe incorrect."
ACCOUNT_DISABLED = "Compte désactivé : adressez-vous à un administrateur."
FIRST_ADMIN_HOWTO = (
    "créez le premier administrateur avec « gdr users create admin --role admin » "
    "(mot de passe demandé, ou lu dans GDR_PASSWORD), ou définissez GDR_ADMIN_PASSWORD avant « gdr run »."
)
NO_ACCOUNT_HINT = f"Aucun compte : {FIRST_ADMIN_HOWTO}"
NO_ACCOUNT_WARNING = f"Attention : aucun compte n'existe et l'API refuse toute requête sans jeton ; {FIRST_ADMIN_HOWTO}"


class UserPublic(BaseModel):
    """An account as shown to users (never the hash)."""

    login: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None = None


class CurrentUser(UserPublic):
    """The authenticated caller of a request, with the permissions of its role."""

    permissions: list[str]


def password_hasher(auth: AuthSettings) -> PasswordHash:
    """Argon2id with the cost of the settings (lowered in tests to stay fast)."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(time_cost=auth.hash_time_cost, memory_cost=auth.hash_memory_kib,
                                      parallelism=auth.hash_parallelism),))


def normalise_login(login: str) -> str:
    """Lower-cased login, or a French :class:`InputError` (code ``invalid_login``)."""
    value = login.strip().lower()
    if not LOGIN_RE.fullmatch(value):
        raise InputError(
            f"Identifiant invalide : « {login} » (2 à 64 caractères : lettres minuscules, chiffres, « . _ @ - », "
            "commençant par une lettre ou un chiffre).", code="invalid_login")
    return value


def _public(row: UserRow) -> UserPublic:
    return UserPublic.model_validate(row, from_attributes=True)


@dataclass
class Accounts:
    """The accounts service for one configuration (hasher and permission matrix built once)."""

    hasher: PasswordHash
    matrix: PermissionMatrix
    min_password_length: int = 12
    _dummy_hash: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Accounts:
        return cls(hasher=password_hasher(settings.auth), matrix=load_permissions(),
                   min_password_length=settings.auth.min_password_length)

    # ------------------------------------------------------------------ checks

    def check_password(self, password: str, *, login: str | None = None) -> str:
        if len(password) < self.min_password_length:
            raise InputError(f"Mot de passe trop court : au moins {self.min_password_length} caractères.",
                             code="weak_password")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InputError(f"Mot de passe trop long : au plus {MAX_PASSWORD_LENGTH} caractères.",
                             code="weak_password")
        if not password.strip() or (login is not None and password.strip().lower() == login):
            raise InputError("Mot de passe refusé : il ne doit être ni vide ni égal à l'identifiant.",
                             code="weak_password")
        return password

    # ------------------------------------------------------------------ reading

    def _row(self, session: Session, login: str) -> UserRow | None:
        stmt = sa.select(UserRow).where(UserRow.login == login.strip().lower())  # type: ignore[arg-type]
        with database_errors(session):
            return session.execute(stmt).scalars().first()

    def _existing(self, session: Session, login: str) -> UserRow:
        row = self._row(session, login)
        if row is None:
            raise NotFound(f"Compte introuvable : « {login} ».", code="user_not_found")
        return row

    def get(self, *, session: Session, login: str) -> UserPublic:
        return _public(self._existing(session, login))

    def list_users(self, *, session: Session) -> list[UserPublic]:
        """Every account, by login."""
        with database_errors(session):
            rows = session.execute(sa.select(UserRow).order_by(UserRow.login)).scalars()  # type: ignore[arg-type]
            return [_public(r) for r in rows]

    def count(self, *, session: Session) -> int:
        with database_errors(session):
            return int(session.execute(sa.select(sa.func.count()).select_from(UserRow)).scalar_one())

    def current_user(self, *, session: Session, claims: TokenClaims) -> CurrentUser:
        """The account a valid token speaks for; 401 when it was disabled, removed or its password changed."""
        from assistant.services.auth import TOKEN_INVALID, TOKEN_REVOKED

        row = self._row(session, claims.login)
        if row is None:
            raise AuthenticationError(TOKEN_INVALID, code="token_invalid")
        if row.disabled:
            raise AuthenticationError(ACCOUNT_DISABLED, code="account_disabled")
        if int(row.password_changed_at.timestamp()) > int(claims.issued_at.timestamp()):
            raise AuthenticationError(TOKEN_REVOKED, code="token_revoked")
        return CurrentUser(**_public(row).model_dump(), permissions=sorted(self.matrix.granted(row.role)))

    # ------------------------------------------------------------------ writing (the caller commits)

    def create(self, *, session: Session, login: str, password: str, role: str,
               actor: audit.HasLogin | audit.Actor | None = None) -> UserPublic:
        """Create an account; refused (nothing stored) for a bad login, role or password, or a taken login."""
        login = normalise_login(login)
        self.matrix.check_role(role)
        self.check_password(password, login=login)
        if self._row(session, login) is not None:
            raise Conflict(f"Identifiant déjà pris : « {login} ».", code="login_taken")
        now = utcnow()
        row = UserRow(login=login, password_hash=self.hasher.hash(password), role=role, disabled=False,
                      created_at=now, updated_at=now, password_changed_at=now)
        with database_errors(session):
            session.add(row)
            session.flush()
        audit.record(session, "account_created", actor=actor, payload={"login": login, "role": role})
        return _public(row)

    def set_role(self, *, session: Session, login: str, role: str,
                 actor: audit.HasLogin | audit.Actor | None = None) -> UserPublic:
        """Change the role; effective on the next request (the role is never taken from the token)."""
        self.matrix.check_role(role)
        row = self._existing(session, login)
        if role != ADMIN_ROLE:
            self._keep_an_admin(session, row)
        before, row.role = row.role, role
        if before != role:
            audit.record(session, "role_change", actor=actor,
                         payload={"login": row.login, "before": before, "after": role})
        return self._save(session, row)

    def set_disabled(self, *, session: Session, login: str, disabled: bool = True,
                     actor: audit.HasLogin | audit.Actor | None = None) -> UserPublic:
        """Disable (or enable again) an account; its tokens stop working at once."""
        row = self._existing(session, login)
        if disabled:
            self._keep_an_admin(session, row)
        if row.disabled != disabled:
            audit.record(session, "account_disabled" if disabled else "account_enabled", actor=actor,
                         payload={"login": row.login})
        row.disabled = disabled
        return self._save(session, row)

    def _keep_an_admin(self, session: Session, row: UserRow) -> None:
        """Refuse to demote or disable the last active admin (nobody could manage accounts any more)."""
        if row.role != ADMIN_ROLE or row.disabled:
            return
        stmt = sa.select(sa.func.count()).select_from(UserRow).where(
            UserRow.role == ADMIN_ROLE, UserRow.disabled.is_(False))  # type: ignore[arg-type,attr-defined]
        with database_errors(session):
            admins = int(session.execute(stmt).scalar_one())
        if admins <= 1:
            raise Conflict(f"« {row.login} » est le dernier administrateur actif : créez-en un autre d'abord.",
                           code="last_admin")

    def set_password(self, *, session: Session, login: str, password: str,
                     actor: audit.HasLogin | audit.Actor | None = None) -> UserPublic:
        """Replace the password; tokens issued before are refused from the next second on."""
        row = self._existing(session, login)
        self.check_password(password, login=row.login)
        row.password_hash = self.hasher.hash(password)
        row.password_changed_at = utcnow()
        audit.record(session, "password_change", actor=actor, payload={"login": row.login})
        return self._save(session, row)

    def _save(self, session: Session, row: UserRow) -> UserPublic:
        row.updated_at = utcnow()
        with database_errors(session):
            session.add(row)
            session.flush()
        return _public(row)

    def authenticate(self, *, session: Session, login: str, password: str) -> UserPublic:
        """The account for these credentials (last login recorded), else 401 without saying which part was wrong."""
        row = self._row(session, login) if LOGIN_RE.fullmatch(login.strip().lower()) else None
        if row is None:
            # Same work as for a real account, so response times do not reveal which logins exist.
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash("compte-inexistant")
            self.hasher.verify(password[:MAX_PASSWORD_LENGTH], self._dummy_hash)
            raise AuthenticationError(WRONG_CREDENTIALS, code="invalid_credentials")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise AuthenticationError(WRONG_CREDENTIALS, code="invalid_credentials")
        valid, updated = self.hasher.verify_and_update(password, row.password_hash)
        if not valid:
            raise AuthenticationError(WRONG_CREDENTIALS, code="invalid_credentials")
        if row.disabled:
            raise AuthenticationError(ACCOUNT_DISABLED, code="account_disabled")
        if updated is not None:  # the hashing cost changed in the settings: upgrade the stored hash
            row.password_hash = updated
        row.last_login_at = utcnow()
        with database_errors(session):
            session.add(row)
            session.flush()
        audit.record(session, "login", actor=audit.Actor(row.login, row.role), payload={"login": row.login})
        return _public(row)

    def record_failed_login(self, *, session: Session, login: str, code: str | None) -> None:
        """Audit a refused login in its own transaction step (the caller commits, then re-raises).

        The login is kept only when it has the shape of one (never a password typed in the wrong field).
        """
        value = login.strip().lower()
        audit.record(session, "login_failed", payload={
            "login": value if LOGIN_RE.fullmatch(value) else None, "reason": code})

    def ensure_first_admin(self, *, session: Session, password: str | None) -> str:
        """What ``gdr run`` does about accounts (French line): never an account without a given password."""
        existing = self.count(session=session)
        if existing:
            ignored = " ; GDR_ADMIN_PASSWORD ignoré (les comptes existent déjà)" if password else ""
            return f"{existing} compte(s) existant(s){ignored}"
        if not password:
            return NO_ACCOUNT_HINT
        self.create(session=session, login=FIRST_ADMIN, password=password, role=ADMIN_ROLE,
                    actor=audit.Actor("gdr run (GDR_ADMIN_PASSWORD)"))
        return f"compte « {FIRST_ADMIN} » (rôle admin) créé avec le mot de passe de GDR_ADMIN_PASSWORD"
