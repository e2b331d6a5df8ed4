"""Domain errors, one module for the whole project.

Each error carries a French message for users; the CLI and the API translate
them at the edge (exit code 2 / HTTP 4xx) without a traceback.
"""

from __future__ import annotations


class GdrError(Exception):
    """Base of every error a user may see. ``message`` is French."""

    http_status = 400
    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


class ModelMissing(GdrError):
    http_status = 409
