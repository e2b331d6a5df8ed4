"""Intake service: an uploaded file (bytes + name + optional declared type) → dossiers to triage.

The parsing is pure and lives in :mod:`corpora.intake` (formats, encodings, E2B(R3) mapping, XML
defences); this module adds the application's limits (``settings.api.max_upload_bytes``) and the
prompt-injection patterns of ``assistant/data/injection_patterns.yaml``. Framework-free: the
API translates the :class:`~corpora.errors.GdrError` raised here into HTTP 4xx.

Limits: at most ``settings.api.max_upload_bytes`` bytes (default 10 MiB, 413 beyond),
:data:`corpora.intake.MAX_DOSSIERS` dossiers per file (413 beyond), and ``settings.intake`` for
documents, archives and batches (pages, inflated sizes, zip-bomb ratio, nesting, batch rows).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from classifier.result import IntakeInfo, TextEvidence, TriageResult
from corpora.errors import InputError
from corpora.intake import MAX_DOSSIERS, compile_patterns, parse_upload
from corpora.limits import IntakeLimits
from corpora.model import IntakeItem

PATTERNS_FILE = Path(__file__).resolve().parent.parent / "data" / "injection_patterns.yaml"

__all__ = ["MAX_DOSSIERS", "PATTERNS_FILE", "IntakeItem", "annotate", "injection_patterns", "intake_limits",
           "read_upload"]


@lru_cache(maxsize=4)
def injection_patterns(path: Path = PATTERNS_FILE) -> tuple[re.Pattern[str], ...]:
    """The compiled prompt-injection patterns of the data file."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return tuple(compile_patterns(str(p) for p in data.get("patterns", [])))
    except (OSError, yaml.YAMLError, re.error) as exc:
        raise InputError(f"Fichier de motifs d'injection illisible ({path.name}) : {exc}") from exc


def read_upload(settings: Settings, data: bytes, *, filename: str | None = None,
                declared_type: str | None = None, declared_format: str | None = None,
                media_type: str | None = None) -> list[IntakeItem]:
    """Dossiers of an uploaded file, each with its French warnings; outcomes never read."""
    return parse_upload(
        data, filename=filename, declared_type=declared_type or None, declared_format=declared_format or None,
        media_type=media_type, max_bytes=settings.api.max_upload_bytes, injection_patterns=injection_patterns(),
        limits=intake_limits(settings),
    )


def intake_limits(settings: Settings) -> IntakeLimits:
    """The corpora-level limits built from ``settings.intake``."""
    return IntakeLimits(**settings.intake.model_dump())


def annotate(result: TriageResult, item: IntakeItem) -> TriageResult:
    """Add what intake knows to a triage result: its warnings first, and an ``intake`` block.

    ``intake`` holds the reporter-declared seriousness, the file format and form boxes read
    (``details``), and for paged documents the page spans of the text; each text evidence of a
    fired criterion gets the ``page`` its offsets fall on.
    """
    result.warnings = [*item.warnings, *(w for w in result.warnings if w not in item.warnings)]
    block: dict[str, Any] = result.intake.model_dump(exclude_none=True) if result.intake else {}
    if item.declared_seriousness:
        block["declared_seriousness"] = item.declared_seriousness
    block.update(item.details)
    if item.pages:
        block["pages"] = item.pages
        for criterion in result.criteria:
            for evidence in criterion.evidence:
                if isinstance(evidence, TextEvidence):
                    evidence.page = next((p["page"] for p in item.pages
                                          if p["start"] <= evidence.start < p["end"]), evidence.page)
    if block:
        result.intake = IntakeInfo.model_validate(block)
    return result
