"""Domain errors, one module for the whole project.

Each error carries a French message for users; the CLI and the API translate
them at the edge (exit code 2 / HTTP 4xx) without a traceback.
"""

from __future__ import annotations


class GdrError(Exception):
    """Base of every error a user may see. ``message`` is French."""

    http_status = 400
    exit_code = 2
    #: stable machine-readable code sent beside the French ``detail`` (API) when set
    code: str | None = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InputError(GdrError):
    """Bad input given by the user: missing path, wrong format, bad option."""


class InputTooLarge(InputError):
    http_status = 413


class UnknownSource(InputError):
    pass


class CorruptFile(InputError):
    http_status = 422


class EncodingProblem(InputError):
    http_status = 422


class NotFound(GdrError):
    http_status = 404


class StoreError(GdrError):
    """A store (index, database) is missing, corrupt or incompatible."""

    http_status = 409


class OfflineError(GdrError):
    """A download was asked for but no network or mirror is reachable."""

    http_status = 503


class QueueUnavailable(GdrError):
    """The job queue of a team deployment (Redis) cannot be reached."""

    http_status = 503


class ModelMissing(GdrError):
    http_status = 409


class AuthenticationError(GdrError):
    """No valid credentials: missing, wrong or expired token, wrong password, disabled account (401)."""

    http_status = 401
    code = "not_authenticated"


class PermissionDenied(GdrError):
    """Authenticated, but the role lacks the permission the action needs (403)."""

    http_status = 403
    code = "permission_denied"


class Conflict(InputError):
    """The request contradicts what is stored (e.g. a login already taken) (409)."""

    http_status = 409
