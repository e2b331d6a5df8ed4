"""Processing-mode policy: for each dossier type × risk level, the mode, expertises and deadline.

Data in ``classifier/policy.yaml``; ``processing_mode`` is pure once the file is loaded
(cached). Expertises of fired criteria may be merged in (``extra_expertises``). The same file holds
the regulatory clocks (``regulatory_clock``): the milestones that run from a dossier's day 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from classifier.levels import normalise_level
from corpora.model import RISK_LEVELS

POLICY_PATH = Path(__file__).parent / "policy.yaml"
_TYPES = ("pv", "amm", "aec")


class ProcessingMode(BaseModel):
    """The proposed mode de traitement: French label, expertises and deadline with its regulatory source."""

    model_config = ConfigDict(frozen=True)

    code: str
    label: str
    expertises: list[str]
    deadline_days: int
    reference: str = Field(..., description="regulatory source of the deadline")


@lru_cache(maxsize=4)
def load_policy(path: str | None = None) -> dict[str, dict[str, ProcessingMode]]:
    """Validated policy table ``{type: {level: ProcessingMode}}`` (every type × level present)."""
    file = Path(path) if path else POLICY_PATH
    with file.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    table: dict[str, dict[str, ProcessingMode]] = {}
    for dossier_type in _TYPES:
        rows = data.get(dossier_type)
        if not isinstance(rows, dict):
            raise ValueError(f"policy: type {dossier_type!r} missing")
        table[dossier_type] = {}
        for level in RISK_LEVELS:
            row = rows.get(level)
            if not isinstance(row, dict):
                raise ValueError(f"policy: {dossier_type} × {level} missing")
            mode = ProcessingMode(
                code=str(row["code"]),
                label=str(row["label"]),
                expertises=[str(x) for x in row["expertises"]],
                deadline_days=int(row["deadline_days"]),
                reference=str(row["reference"]),
            )
            if not mode.expertises or mode.deadline_days <= 0 or not mode.reference:
                raise ValueError(f"policy: {dossier_type} × {level} incomplete")
            table[dossier_type][level] = mode
    return table


def policy_version(path: str | None = None) -> str:
    file = Path(path) if path else POLICY_PATH
    with file.open(encoding="utf-8") as fh:
        return str((yaml.safe_load(fh) or {}).get("version", ""))


def processing_mode(dossier_type: str, level: str, extra_expertises: Iterable[str] = ()) -> ProcessingMode:
    """The processing mode for ``dossier_type`` at ``level``, with ``extra_expertises`` merged in."""
    table = load_policy()
    if dossier_type not in table:
        raise ValueError(f"type de dossier inconnu : {dossier_type!r}")
    mode = table[dossier_type][normalise_level(level)]
    extras = [e for e in extra_expertises if e not in mode.expertises]
    if not extras:
        return mode
    merged = list(mode.expertises)
    for e in extras:
        if e not in merged:
            merged.append(e)
    return mode.model_copy(update={"expertises": merged})


def expertises_of(fired: Iterable[Any]) -> list[str]:
    """Expertises of fired criteria (objects or dicts), in order of first appearance."""
    out: list[str] = []
    for item in fired:
        exps = item.get("expertises", []) if isinstance(item, dict) else getattr(item, "expertises", [])
        for e in exps:
            if e not in out:
                out.append(e)
    return out


def mode_document_id(dossier_type: str, level: str) -> str:
    """Id of the indexed passage of one policy row: ``referentiel:MODE-PV-ELEVE``."""
    from corpora.normalise import fold

    return f"referentiel:MODE-{dossier_type.upper()}-{fold(normalise_level(level)).upper()}"


def mode_text(dossier_type: str, level: str, mode: ProcessingMode) -> str:
    """French text of one policy row as indexed (the deadline and its reference are cited from it)."""
    return "\n".join([
        f"Mode de traitement des dossiers {dossier_type.upper()} de niveau de risque {level} : "
        f"{mode.label} ({mode.code}).",
        f"Expertises : {', '.join(mode.expertises)}.",
        f"Délai : {mode.deadline_days} jours.",
        f"Référence du délai : {mode.reference}.",
    ])


def policy_documents(path: str | None = None) -> list[Any]:
    """Every type × level row of the policy as a ``guideline`` Document (source ``referentiel``)."""
    from corpora.model import Document

    version = policy_version(path)
    docs = []
    for dossier_type, rows in load_policy(path).items():
        for level, mode in rows.items():
            docs.append(Document(
                id=mode_document_id(dossier_type, level), source="referentiel", kind="guideline",
                title=f"Politique des modes de traitement – {dossier_type.upper()} {level}",
                text=mode_text(dossier_type, level, mode),
                metadata={"type": dossier_type, "level": level, "code": mode.code,
                          "deadline_days": mode.deadline_days, "policy_version": version},
                language="fr",
            ))
    return docs


# --------------------------------------------------------------------------- regulatory clocks

@dataclass(frozen=True, slots=True)
class ClockStep:
    """One milestone of a regulatory clock: due ``day`` calendar days after day 0."""

    label: str
    day: int
    reference: str


@dataclass(frozen=True, slots=True)
class RegulatoryClock:
    """The timetable that runs from day 0 for a dossier: the rule that chose it and its milestones."""

    rule: str
    day0: str
    steps: tuple[ClockStep, ...]


@dataclass(frozen=True, slots=True)
class _ClockRule:
    name: str
    criteria: frozenset[str]
    findings: frozenset[str]
    fields: tuple[str, ...]
    steps: tuple[dict[str, Any], ...]


@lru_cache(maxsize=4)
def _load_clocks(path: str | None = None) -> dict[str, tuple[str, tuple[_ClockRule, ...]]]:
    file = Path(path) if path else POLICY_PATH
    with file.open(encoding="utf-8") as fh:
        data = (yaml.safe_load(fh) or {}).get("clocks") or {}
    table: dict[str, tuple[str, tuple[_ClockRule, ...]]] = {}
    for dossier_type in _TYPES:
        section = data.get(dossier_type) or {}
        rules = []
        for raw in section.get("rules") or []:
            when = raw.get("when") or {}
            steps = tuple(dict(s) for s in raw.get("steps") or [])
            if not steps or any(not s.get("label") or not s.get("reference") or "days" not in s for s in steps):
                raise ValueError(f"policy clocks: {dossier_type} × {raw.get('name')!r} incomplete")
            rules.append(_ClockRule(name=str(raw["name"]), criteria=frozenset(when.get("criteria") or ()),
                                    findings=frozenset(when.get("findings") or ()),
                                    fields=tuple(when.get("fields") or ()), steps=steps))
        table[dossier_type] = (str(section.get("day0") or "jour 0 : réception du dossier"), tuple(rules))
    return table


def _step_days(value: Any, deadline_days: int) -> int:
    days = deadline_days if value == "deadline_days" else int(value)
    if days < 0:
        raise ValueError("policy clocks: negative number of days")
    return days


def regulatory_clock(dossier_type: str, level: str, *, criteria: Iterable[str] = (),
                     fields: Mapping[str, Any] | None = None,
                     findings: Callable[[], Iterable[str]] | None = None) -> RegulatoryClock:
    """The regulatory timetable of a dossier from its type, level, fired criteria and fields.

    ``findings`` (affirmed extraction codes of the dossier text) is only called when a rule needs it.
    Without a matching rule, one milestone: the level's ``deadline_days`` with its reference.
    """
    mode = processing_mode(dossier_type, level)
    day0, rules = _load_clocks()[dossier_type]
    fired = set(criteria)
    values = fields or {}
    found: set[str] | None = None
    for rule in rules:
        if not rule.criteria <= fired or not all(values.get(name) is True for name in rule.fields):
            continue
        if rule.findings:
            if found is None:
                found = set(findings()) if findings is not None else set()
            if not rule.findings & found:
                continue
        steps: list[ClockStep] = []
        for raw in rule.steps:
            start = steps[-1].day if raw.get("after_previous") and steps else 0
            steps.append(ClockStep(str(raw["label"]), start + _step_days(raw["days"], mode.deadline_days),
                                   str(raw["reference"])))
        return RegulatoryClock(rule=rule.name, day0=day0, steps=tuple(steps))
    return RegulatoryClock(rule="délai du mode de traitement", day0=day0,
                           steps=(ClockStep("échéance réglementaire", mode.deadline_days, mode.reference),))
