"""JSON Schemas of the contracts, generated from the pydantic models.

The committed files in ``schemas/`` must equal :func:`build_schemas` output
(``gdr schemas export`` rewrites them; a test checks they are in sync).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from corpora.model import (
    DOCUMENT_KINDS,
    DOSSIER_TYPES,
    SCHEMA_VERSION,
    SOURCES,
    Dossier,
    EparOutcome,
    Hit,
    SampleOutcome,
    TrialOutcome,
    VaersOutcome,
)

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def dossier_schema() -> dict[str, Any]:
    """Schema of one JSON line of ``gdr corpora convert``: a Dossier plus its separate ``outcome``."""
    schema = Dossier.model_json_schema(mode="serialization")
    defs = schema.setdefault("$defs", {})
    for model in (VaersOutcome, EparOutcome, TrialOutcome, SampleOutcome):
        sub = model.model_json_schema(mode="serialization")
        defs.update(sub.pop("$defs", {}))
        defs[model.__name__] = sub
    schema["properties"]["outcome"] = {
        "description": "recorded later; kept apart so that no model reads it",
        "anyOf": [
            {"$ref": "#/$defs/VaersOutcome"},
            {"$ref": "#/$defs/EparOutcome"},
            {"$ref": "#/$defs/TrialOutcome"},
            {"$ref": "#/$defs/SampleOutcome"},
            {"type": "null"},
        ],
    }
    schema["properties"]["id"]["pattern"] = r"^[a-z][a-z0-9-]*:\S.*$"
    schema["properties"]["source"]["enum"] = sorted(SOURCES)
    schema["properties"]["type"]["enum"] = list(DOSSIER_TYPES)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://gdr-sante.example/schemas/dossier.schema.json",
        "schema_version": SCHEMA_VERSION,
        "x-sources": SOURCES,
        **schema,
    }


def hit_schema() -> dict[str, Any]:
    schema = Hit.model_json_schema(mode="serialization")
    schema["properties"]["source"]["enum"] = sorted(SOURCES)
    schema["properties"]["kind"]["enum"] = list(DOCUMENT_KINDS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://gdr-sante.example/schemas/hit.schema.json",
        "schema_version": SCHEMA_VERSION,
        **schema,
    }


def build_schemas() -> dict[str, dict[str, Any]]:
    return {"dossier.schema.json": dossier_schema(), "hit.schema.json": hit_schema()}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in build_schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def load(name: str, directory: Path = SCHEMA_DIR) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / name).read_text(encoding="utf-8"))
    return data
