"""Domain errors (defined at the bottom, in ``corpora.errors``) and their translation at the edges."""

from __future__ import annotations

from corpora.errors import (
    AuthenticationError,
    Conflict,
    CorruptFile,
    EncodingProblem,
    GdrError,
    InputError,
    InputTooLarge,
    ModelMissing,
    NotFound,
    OfflineError,
    PermissionDenied,
    StoreError,
    UnknownSource,
)

__all__ = [
    "AuthenticationError",
    "Conflict",
    "CorruptFile",
    "EncodingProblem",
    "GdrError",
    "InputError",
    "InputTooLarge",
    "ModelMissing",
    "NotFound",
    "OfflineError",
    "PermissionDenied",
    "StoreError",
    "UnknownSource",
    "http_status_for",
]


def http_status_for(error: GdrError) -> int:
    return error.http_status
