"""Roles and their permissions, read from ``assistant/data/permissions.yaml`` (framework-free).

The API layer turns a permission name into a route dependency (``assistant.api.security.require``);
the accounts service checks roles against the same file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from corpora.errors import InputError, StoreError

PERMISSIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "permissions.yaml"
ALL = "*"


@dataclass(frozen=True)
class PermissionMatrix:
    """Which role holds which permission; ``permissions`` maps each name to its French description."""

    version: str
    permissions: Mapping[str, str]
    roles: Mapping[str, frozenset[str]]

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(self.roles)

    def granted(self, role: str) -> frozenset[str]:
        """The permissions of ``role`` (empty for an unknown role)."""
        return self.roles.get(role, frozenset())

    def allows(self, role: str, permission: str) -> bool:
        return permission in self.granted(role)

    def roles_with(self, permission: str) -> tuple[str, ...]:
        return tuple(role for role, granted in self.roles.items() if permission in granted)

    def check_role(self, role: str) -> str:
        """``role`` if it exists, else a French :class:`InputError` listing the roles (code ``unknown_role``)."""
        if role not in self.roles:
            raise InputError(f"Rôle inconnu : « {role} ». Rôles possibles : {', '.join(self.roles)}.",
                             code="unknown_role")
        return role

    def check_permission(self, permission: str) -> str:
        if permission not in self.permissions:
            raise StoreError(f"Permission inconnue : « {permission} » (absente de {PERMISSIONS_FILE.name}).")
        return permission


def parse_permissions(data: object, origin: str = "permissions") -> PermissionMatrix:
    """Validate the parsed YAML: declared permissions, roles naming only those (or ``"*"``)."""

    def bad(why: str) -> StoreError:
        return StoreError(f"Fichier des permissions invalide ({origin}) : {why}.")

    if not isinstance(data, dict):
        raise bad("un dictionnaire est attendu")
    permissions = data.get("permissions")
    roles = data.get("roles")
    if not isinstance(permissions, dict) or not permissions:
        raise bad("section « permissions » absente ou vide")
    if not isinstance(roles, dict) or not roles:
        raise bad("section « roles » absente ou vide")
    declared = {str(k): str(v) for k, v in permissions.items()}
    parsed: dict[str, frozenset[str]] = {}
    for role, granted in roles.items():
        if not isinstance(granted, list):
            raise bad(f"le rôle « {role} » doit lister ses permissions")
        names = {str(g) for g in granted}
        if ALL in names:
            names = set(declared)
        unknown = sorted(names - set(declared))
        if unknown:
            raise bad(f"le rôle « {role} » cite des permissions non déclarées : {', '.join(unknown)}")
        parsed[str(role)] = frozenset(names)
    return PermissionMatrix(version=str(data.get("version", "")), permissions=declared, roles=parsed)


@lru_cache(maxsize=4)
def load_permissions(path: Path = PERMISSIONS_FILE) -> PermissionMatrix:
    """The permission matrix of ``path`` (read once per process)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StoreError(f"Fichier des permissions illisible ({path}) : {exc}") from exc
    return parse_permissions(data, origin=str(path))
