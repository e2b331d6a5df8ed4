"""docker-compose.yml keeps matching the application: services, health checks, volumes, settings names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from assistant.settings import Settings, get_settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def settings_field(name: str) -> bool:
    """Whether ``GDR_<name>`` (nested with ``__``) names a field of :class:`Settings`."""
    model: type[BaseModel] = Settings
    parts = name.lower().split("__")
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if i < len(parts) - 1:
            sub = field.annotation
            if not (isinstance(sub, type) and issubclass(sub, BaseModel)):
                return False
            model = sub
    return True


def test_settings_field_knows_nested_and_unknown_names() -> None:
    assert settings_field("RETRIEVAL__CHROMA_HOST") and settings_field("DATA_DIR")
    assert not settings_field("RETRIEVAL__CHROMA_HOSTS") and not settings_field("NOPE")
    assert not settings_field("DATA_DIR__X")


def test_services_health_checks_and_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"app", "postgres", "chroma", "redis", "worker"} <= set(services)
    assert services["postgres"]["image"] == "postgres:16"
    import chromadb

    assert services["chroma"]["image"] == f"chromadb/chroma:{chromadb.__version__}"  # server matches the lock
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), f"{name} sans health check"
    for name, service in services.items():
        for dep, cond in (service.get("depends_on") or {}).items():
            assert dep in services and cond["condition"] == "service_healthy", (name, dep)
    for name in ("app", "worker"):
        assert {"postgres", "chroma", "redis"} <= set(services[name]["depends_on"])
    assert services["worker"]["command"] == ["gdr", "jobs", "worker"]
    assert services["worker"]["environment"] == services["app"]["environment"]  # same settings, same data


def test_volumes_are_declared_and_persist_each_store(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used: dict[str, str] = {}
    for name, service in compose["services"].items():
        for volume in service.get("volumes") or []:
            source, target = volume.split(":")[:2]
            if not source.startswith((".", "/")):
                assert source in declared, f"volume {source} de {name} non déclaré"
                used[source] = target
    assert declared == set(used)
    assert used["pgdata"] == "/var/lib/postgresql/data" and used["chroma"] == "/data"
    app_env = compose["services"]["app"]["environment"]
    assert used["appdata"] == app_env["GDR_DATA_DIR"] and used["redisdata"] == "/data"


def test_every_gdr_variable_is_a_setting(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    names = set(re.findall(r"\bGDR_([A-Z0-9_]+)", text))  # commented examples included
    assert names, "aucune variable GDR_ dans docker-compose.yml"
    unknown = sorted(n for n in names if not settings_field(n))
    assert not unknown, f"variables inconnues des réglages : {unknown}"
    for service in compose["services"].values():
        env = {k: str(v) for k, v in (service.get("environment") or {}).items() if k.startswith("GDR_")}
        if not env:
            continue
        env = {k: v for k, v in env.items() if not v.startswith("${")}  # filled from the host
        s = get_settings(**_overrides(env))
        assert s.retrieval.chroma_host == "chroma" and s.database_url_effective.startswith("postgresql+psycopg://")
        assert s.jobs.backend == "rq" and s.jobs.redis_url.startswith("redis://redis:")


def _overrides(env: dict[str, str]) -> dict[str, Any]:
    """Environment values as nested overrides (what pydantic-settings would read from them)."""
    out: dict[str, Any] = {}
    for key, value in env.items():
        parts = key.removeprefix("GDR_").lower().split("__")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out
