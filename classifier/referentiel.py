"""Référentiel des critères de risque: versioned YAML data, validated once (cached per path).

Files: ``classifier/referentiel/{meta,pv,amm,aec}.yaml``. Each criterion has a code, French
label and description, an axis, the expertises it calls for, how it is detected
(extractor finding codes, regex patterns, structured-field conditions, context facts,
substance lists), its effect (a floor level and/or a weight) and its references
(title + section). ``referentiel_documents()`` turns them into guideline Documents.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from corpora.model import RISK_LEVELS

REFERENTIEL_DIR = Path(__file__).parent / "referentiel"
TYPES: tuple[str, ...] = ("pv", "amm", "aec")
AXES: tuple[str, ...] = ("complexite_scientifique", "profil_patient", "sensibilite_societale")
FIELD_OPS: tuple[str, ...] = (
    "is_true", "is_false", "present", "eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "regex", "min_len",
)
Axis = Literal["complexite_scientifique", "profil_patient", "sensibilite_societale"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldCondition(_Strict):
    """A condition on a ``DossierFields`` key (dotted path into lists: ``products.vaccine_type``)."""

    field: str
    op: str
    value: Any = None

    @field_validator("op")
    @classmethod
    def _op(cls, value: str) -> str:
        if value not in FIELD_OPS:
            raise ValueError(f"unknown operator {value!r} (expected one of {FIELD_OPS})")
        return value

    @model_validator(mode="after")
    def _regex(self) -> FieldCondition:
        if self.op == "regex":
            re.compile(str(self.value))
        return self


class Detection(_Strict):
    """How a criterion fires: any direct trigger, or all the ``all_of`` sub-detections."""

    findings: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    fields: list[FieldCondition] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)
    substance_lists: list[str] = Field(default_factory=list)
    all_of: list[Detection] = Field(default_factory=list)
    unless: Detection | None = None  # the criterion does not fire when this fires

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for p in value:
            re.compile(p)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Detection:
        if not (self.findings or self.patterns or self.fields or self.context or self.substance_lists
                or self.all_of):
            raise ValueError("a detection needs at least one trigger")
        return self


class Effect(_Strict):
    floor: str | None = None
    weight: float = 0.0

    @field_validator("floor")
    @classmethod
    def _floor(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = unicodedata.normalize("NFC", value)
        if value not in RISK_LEVELS:
            raise ValueError(f"unknown level {value!r}")
        return value


class Reference(_Strict):
    title: str
    section: str

    def __str__(self) -> str:
        return f"{self.title}, {self.section}"


class Criterion(_Strict):
    code: str
    label: str
    description: str
    axis: Axis
    expertises: list[str] = Field(min_length=1)
    detection: Detection
    effect: Effect
    references: list[Reference] = Field(min_length=1)
    type: str = ""

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not re.fullmatch(r"(PV|AMM|AEC)-[A-Z0-9-]+", value):
            raise ValueError(f"bad criterion code {value!r}")
        return value

    @property
    def reference(self) -> str:
        """All references as one French string."""
        return " ; ".join(str(r) for r in self.references)


class ChangelogEntry(_Strict):
    version: str
    date: str
    changes: str


class Meta(_Strict):
    version: str
    date: str
    title: str
    changelog: list[ChangelogEntry]
    axes: dict[str, str]
    substance_lists: dict[str, list[str]]


class Referentiel(_Strict):
    meta: Meta
    criteria: dict[str, list[Criterion]]  # type -> criteria

    @property
    def version(self) -> str:
        return self.meta.version

    def by_code(self) -> dict[str, Criterion]:
        return {c.code: c for items in self.criteria.values() for c in items}


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a mapping is expected")
    return data


@lru_cache(maxsize=8)
def _load(directory: str) -> Referentiel:
    base = Path(directory)
    meta = Meta.model_validate(_read(base / "meta.yaml"))
    criteria: dict[str, list[Criterion]] = {}
    seen: set[str] = set()
    for dossier_type in TYPES:
        data = _read(base / f"{dossier_type}.yaml")
        if data.get("type") != dossier_type:
            raise ValueError(f"{dossier_type}.yaml: type must be {dossier_type!r}")
        items: list[Criterion] = []
        for raw in data.get("criteria") or []:
            crit = Criterion.model_validate({**raw, "type": dossier_type})
            if crit.code in seen:
                raise ValueError(f"duplicate criterion code {crit.code}")
            if not crit.code.lower().startswith(dossier_type + "-"):
                raise ValueError(f"{crit.code}: code must start with {dossier_type.upper()}-")
            seen.add(crit.code)
            _check_lists(crit.detection, meta, crit.code)
            items.append(crit)
        criteria[dossier_type] = items
    return Referentiel(meta=meta, criteria=criteria)


def _check_lists(det: Detection, meta: Meta, code: str) -> None:
    for name in det.substance_lists:
        if name not in meta.substance_lists:
            raise ValueError(f"{code}: unknown substance list {name!r}")
    for sub in [*det.all_of, *([det.unless] if det.unless else [])]:
        _check_lists(sub, meta, code)


def load_referentiel(directory: str | Path | None = None) -> Referentiel:
    """The validated référentiel (parsed once per directory)."""
    return _load(str(Path(directory) if directory else REFERENTIEL_DIR))


def referentiel_version(directory: str | Path | None = None) -> str:
    return load_referentiel(directory).version


def criteria_for(dossier_type: str, directory: str | Path | None = None) -> list[Criterion]:
    """The criteria of one dossier type (``pv``, ``amm`` or ``aec``)."""
    ref = load_referentiel(directory)
    if dossier_type not in ref.criteria:
        raise ValueError(f"type de dossier inconnu : {dossier_type!r}")
    return list(ref.criteria[dossier_type])


def criterion_text(criterion: Criterion) -> str:
    """French text of a criterion as indexed for retrieval."""
    effect = []
    if criterion.effect.floor:
        effect.append(f"niveau de risque plancher : {criterion.effect.floor}")
    lines = [
        f"{criterion.label} ({criterion.code})",
        criterion.description.strip(),
        f"Expertises : {', '.join(criterion.expertises)}." + (f" Effet : {effect[0]}." if effect else ""),
        "Références : " + criterion.reference + ".",
    ]
    return "\n".join(lines)


def referentiel_documents(directory: str | Path | None = None) -> list[Any]:
    """Every criterion as a ``corpora.model.Document`` (source ``referentiel``, kind ``guideline``)."""
    from corpora.model import Document

    ref = load_referentiel(directory)
    docs = []
    for dossier_type, items in ref.criteria.items():
        for crit in items:
            docs.append(
                Document(
                    id=f"referentiel:{crit.code}",
                    source="referentiel",
                    kind="guideline",
                    title=f"Référentiel GDR – {crit.label}",
                    text=criterion_text(crit),
                    metadata={
                        "type": dossier_type,
                        "axis": crit.axis,
                        "expertise": list(crit.expertises),
                        "code": crit.code,
                        "floor": crit.effect.floor,
                        "referentiel_version": ref.version,
                    },
                    language="fr",
                )
            )
    return docs
