"""Bearer tokens (JWT signed with a key from the settings) and the signing key itself (framework-free).

The key is ``auth.secret_key`` (``GDR_AUTH__SECRET_KEY``). When it is unset, a random key is
created once in ``<data_dir>/auth/signing_key`` with mode 0600 and reused by every process sharing
the data dir; there is no default secret in the code.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.settings import MIN_SECRET_LENGTH, Settings
from corpora.errors import AuthenticationError, StoreError

KEY_FILE = "signing_key"
ISSUER = "gdr-sante"

NOT_AUTHENTICATED = "Authentification requise : obtenez un jeton avec POST /auth/token puis envoyez « Authorization: Bearer <jeton> »."  # noqa: E501
TOKEN_EXPIRED = "Jeton expiré : reconnectez-vous (POST /auth/token)."
TOKEN_INVALID = "Jeton invalide : reconnectez-vous (POST /auth/token)."
TOKEN_REVOKED = "Jeton révoqué (mot de passe changé depuis) : reconnectez-vous."


class Token(BaseModel):
    """The OAuth2 token response."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(..., description="lifetime in seconds")


@dataclass(frozen=True)
class TokenClaims:
    login: str
    issued_at: datetime
    expires_at: datetime


def _check_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise StoreError(
            f"Clé de signature {path} lisible par d'autres utilisateurs (droits {mode:o}) : "
            f"lancez « chmod 600 {path} »."
        )


def private_key_file(path: Path, what: str = "Clé de signature") -> str:
    """A random key kept in ``path`` (0600, created on first use, refused when others can read it)."""
    if not path.exists():
        _create_key_file(path)
    _check_private(path)
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{what} illisible ({path}) : {exc}") from exc
    if len(key) < MIN_SECRET_LENGTH:
        raise StoreError(f"{what} trop courte dans {path} : supprimez le fichier pour en créer une.")
    return key


def signing_key(settings: Settings) -> str:
    """The key signing the tokens: from the settings, else the data dir's (created on first use)."""
    if settings.auth.secret_key is not None:
        return settings.auth.secret_key.get_secret_value()
    return private_key_file(settings.auth_dir / KEY_FILE)


def _create_key_file(path: Path) -> None:
    """Write a random key with mode 0600, atomically: concurrent workers all end up with the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race: its key is kept
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def derived_secret(key: str, purpose: str) -> str:
    """A secret for another signer (the Chainlit session cookie), derived from the signing key (HMAC-SHA256).

    The API's key itself is never handed to another library; a leak of the derived secret does not reveal it.
    """
    import hashlib
    import hmac

    return hmac.new(key.encode("utf-8"), f"gdr-sante/{purpose}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TokenIssuer:
    """Issues and checks the bearer tokens: HS* JWT carrying the login, issue and expiry times."""

    key: str
    algorithm: str = "HS256"
    expire_minutes: int = 480

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenIssuer:
        return cls(key=signing_key(settings), algorithm=settings.auth.algorithm,
                   expire_minutes=settings.auth.token_expire_minutes)

    def issue(self, login: str, *, role: str | None = None, now: datetime | None = None,
              expire_minutes: int | None = None) -> Token:
        import jwt

        now = now or datetime.now(UTC)
        lifetime = timedelta(minutes=self.expire_minutes if expire_minutes is None else expire_minutes)
        claims: dict[str, object] = {"sub": login, "iss": ISSUER, "iat": int(now.timestamp()),
                                     "exp": int((now + lifetime).timestamp())}
        if role is not None:
            claims["role"] = role  # informative: the role is read from the database on every request
        token = jwt.encode(claims, self.key, algorithm=self.algorithm)
        return Token(access_token=token, expires_in=int(lifetime.total_seconds()))

    def decode(self, token: str) -> TokenClaims:
        """The claims of a valid token; :class:`AuthenticationError` (401) with a stable code otherwise."""
        import jwt

        try:
            claims = jwt.decode(token, self.key, algorithms=[self.algorithm], issuer=ISSUER,
                                options={"require": ["sub", "iat", "exp", "iss"]})
        except jwt.ExpiredSignatureError:
            raise AuthenticationError(TOKEN_EXPIRED, code="token_expired") from None
        except jwt.PyJWTError:
            raise AuthenticationError(TOKEN_INVALID, code="token_invalid") from None
        login = claims.get("sub")
        if not isinstance(login, str) or not login:
            raise AuthenticationError(TOKEN_INVALID, code="token_invalid")
        try:
            return TokenClaims(login=login, issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
                               expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC))
        except (OverflowError, OSError, ValueError):  # a date no clock can hold: not a token this service issued
            raise AuthenticationError(TOKEN_INVALID, code="token_invalid") from None
