"""Domain model shared by every layer: Dossier, outcomes, Document, Hit.

A ``Dossier`` is what arrives and what models may see. Its recorded outcome is
kept apart (``Record.outcome``), so that no model reads it by accident. On a
JSON line both sit side by side: ``{...dossier keys..., "outcome": {...}}``.
The JSON Schemas in ``schemas/`` are generated from these models
(``gdr schemas export``) and tested against them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = "1.0.0"

DossierType = Literal["pv", "amm", "aec"]
DOSSIER_TYPES: tuple[str, ...] = ("pv", "amm", "aec")

# Risk levels, lowest first (NFC strings): the one list every layer uses.
RiskLevel = Literal["faible", "modéré", "élevé", "critique"]
RISK_LEVELS: tuple[str, ...] = get_args(RiskLevel)

# ICH E2A seriousness criteria among the PV outcome keys (see VaersOutcome), then the other PV flags.
SERIOUS_KEYS: tuple[str, ...] = (
    "died", "life_threatening", "hospitalised", "prolonged_hospitalisation", "disability", "congenital_anomaly",
)
PV_OUTCOME_FLAGS: tuple[str, ...] = (*SERIOUS_KEYS, "er_visit", "recovered")

DocumentKind = Literal[
    "case", "opinion", "referral", "psusa", "dhpc", "interaction", "product", "trial", "guideline"
]
DOCUMENT_KINDS: tuple[str, ...] = (
    "case", "opinion", "referral", "psusa", "dhpc", "interaction", "product", "trial", "guideline",
)

# Canonical source names and how their native ids are formed.
SOURCES: dict[str, str] = {
    "vaers": "VAERS_ID of the report (e.g. vaers:214577)",
    "bdpm": "CIS code of the product (e.g. bdpm:61266250)",
    "has-smr": "CIS + HAS dossier code + opinion date, with a counter if still not unique "
    "(e.g. has-smr:63806909/CT-19691/20220209)",
    "has-asmr": "CIS + HAS dossier code + opinion date, with a counter if still not unique",
    "ema-epar": "EMA product number (e.g. ema-epar:EMEA/H/C/003870)",
    "ema-referral": "EMA referral reference number",
    "ema-psusa": "PSUSA procedure number (e.g. ema-psusa:PSUSA/00010473/202503)",
    "ema-dhpc": "procedure number or slug of the DHPC page, with dissemination date",
    "ema-postauth": "EMA product number",
    "ema-orphan": "EU designation number (e.g. ema-orphan:EU/3/08/548)",
    "ema-shortage": "slug of the shortage page",
    "ansm-interaction": "stable hash (sha1, 16 hex) of the normalised substance pair",
    "ctgov": "NCT id (e.g. ctgov:NCT05075902)",
    "sample": "identifier of a bundled fictitious dossier (e.g. sample:pv-001)",
    "intake": "a dossier uploaded for triage: its declared id, else a hash of its content",  # INTAKE_SOURCE
    "referentiel": "criterion code of the project's référentiel (e.g. referentiel:PV-DECES)",
}

INTAKE_SOURCE = "intake"

# Where documents come from: which kind each source produces.
SOURCE_KINDS: dict[str, str] = {
    "vaers": "case",
    "bdpm": "product",
    "has-smr": "opinion",
    "has-asmr": "opinion",
    "ema-epar": "case",
    "ema-referral": "referral",
    "ema-psusa": "psusa",
    "ema-dhpc": "dhpc",
    "ema-postauth": "opinion",
    "ema-orphan": "product",
    "ema-shortage": "product",
    "ansm-interaction": "interaction",
    "ctgov": "trial",
    "sample": "case",
    "intake": "case",
    "referentiel": "guideline",
}

_ID_RE = re.compile(r"^[a-z][a-z0-9-]*:\S.*$")


def make_id(source: str, native: str) -> str:
    """Build a dossier or document id ``"<source>:<native id>"``."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    native = str(native).strip()
    if not native:
        raise ValueError("empty native id")
    return f"{source}:{native}"


def nfc(text: str | None) -> str | None:
    return None if text is None else unicodedata.normalize("NFC", text)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Product(_Strict):
    """A medicine or vaccine named in a dossier (suspected, concomitant or under evaluation)."""

    name: str | None = None
    substances: list[str] | None = None
    atc: str | None = None
    role: Literal["suspect", "concomitant", "evaluated"] | None = None
    vaccine_type: str | None = None
    manufacturer: str | None = None
    lot: str | None = None
    dose: str | None = None
    route: str | None = None
    site: str | None = None


class DossierFields(_Strict):
    """Structured data that can be known when the dossier arrives. Unknown is ``null``, never ``""``."""

    # patient (PV) / population (AEC)
    patient_age: float | None = Field(None, description="age in years")
    patient_sex: Literal["F", "M"] | None = None
    pregnant: bool | None = None
    medical_history: str | None = None
    current_illness: str | None = None
    other_medications: str | None = None
    prior_vaccinations: str | None = None
    lab_data: str | None = Field(
        None,
        description="VAERS LAB_DATA: tests known at report time; may hold autopsy results, "
        "so risk models do not read it (see README).",
    )
    # products and events
    products: list[Product] | None = None
    substances: list[str] | None = None
    atc_codes: list[str] | None = None
    vaccine_types: list[str] | None = None
    manufacturers: list[str] | None = None
    symptoms: list[str] | None = Field(None, description="coded reaction terms (MedDRA PT in VAERS)")
    vaccination_date: date | None = None
    onset_date: date | None = None
    onset_days: float | None = Field(None, description="delay between administration and onset, days")
    administered_by: str | None = None
    funded_by: str | None = None
    report_type: str | None = None
    reporter: str | None = None
    country: str | None = None
    region: str | None = None
    # AMM
    procedure: str | None = None
    application_type: str | None = None
    indication: str | None = None
    therapeutic_area: str | None = None
    pharmacotherapeutic_group: str | None = None
    inn: str | None = None
    generic: bool | None = None
    biosimilar: bool | None = None
    orphan: bool | None = None
    atmp: bool | None = None
    accelerated_assessment: bool | None = None
    prime: bool | None = None
    new_active_substance: bool | None = None
    marketing_authorisation_holder: str | None = None
    product_number: str | None = None
    # AEC
    phase: str | None = None
    first_in_human: bool | None = None
    sponsor: str | None = None
    population: list[str] | None = Field(
        None, description="population flags: paediatric, pregnancy, elderly, vulnerable, healthy_volunteers"
    )
    enrollment: int | None = None
    dose_escalation: bool | None = None
    placebo: bool | None = None
    low_intervention: bool | None = None
    randomised: bool | None = None
    blinded: bool | None = None
    countries: list[str] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_null(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = unicodedata.normalize("NFC", value.strip())
            return value or None
        if isinstance(value, list) and not value:
            return None
        return value


class Dossier(_Strict):
    """What arrives at the agency: the only thing classifiers and retrieval queries may read."""

    id: str = Field(..., description='"<source>:<native id>", e.g. "vaers:123456"')
    type: DossierType
    title: str
    text: str = Field("", description="narrative, indication, summary")
    received_at: date | None = Field(None, description="ISO-8601 date of receipt")
    language: str = Field("fr", description="ISO 639-1", min_length=2, max_length=2)
    source: str
    fields: DossierFields = Field(default_factory=DossierFields)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError('id must look like "<source>:<native id>"')
        return value

    @field_validator("title", "text", mode="before")
    @classmethod
    def _nfc(cls, value: Any) -> Any:
        return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


class VaersOutcome(_Strict):
    """What VAERS recorded about a report's outcome (ICH E2A seriousness criteria)."""

    died: bool | None = None
    date_died: date | None = None
    life_threatening: bool | None = None
    hospitalised: bool | None = None
    hospital_days: float | None = None
    prolonged_hospitalisation: bool | None = None
    disability: bool | None = None
    er_visit: bool | None = None
    recovered: bool | None = None
    congenital_anomaly: bool | None = None


class EparOutcome(_Strict):
    """What EMA decided for a centrally authorised product (known only after assessment)."""

    authorisation_status: str | None = None
    additional_monitoring: bool | None = None
    conditional_approval: bool | None = None
    exceptional_circumstances: bool | None = None


class TrialOutcome(_Strict):
    """What happened to a clinical trial."""

    status: str | None = None
    why_stopped: str | None = None


class SampleOutcome(_Strict):
    """Outcome of a bundled fictitious dossier: any of the above keys plus the decision taken."""

    model_config = ConfigDict(extra="allow")

    decision: str | None = None
    risk_level: RiskLevel | None = None
    processing_mode: str | None = None


class Record(NamedTuple):
    """A dossier and its recorded outcome, kept apart."""

    dossier: Dossier
    outcome: dict[str, Any] | None


@dataclass
class IntakeItem:
    """One dossier read from an upload (:mod:`corpora.intake`), with the French warnings that concern it."""

    dossier: Dossier
    warnings: list[str] = field(default_factory=list)
    declared_seriousness: list[str] = field(default_factory=list)
    pages: list[dict[str, int]] = field(default_factory=list)
    """Where the text comes from in a paged document: ``{"page", "start", "end"}`` spans of ``dossier.text``."""
    details: dict[str, Any] = field(default_factory=dict)
    """What intake read besides the dossier (file format, CIOMS boxes…), shown with the triage."""


def record_to_json(record: Record) -> dict[str, Any]:
    """The JSON line of ``gdr corpora convert``: dossier keys plus ``outcome``."""
    row = record.dossier.model_dump(mode="json")
    row["outcome"] = record.outcome
    return row


def dossier_from_json(obj: dict[str, Any]) -> Dossier:
    """Read a Dossier from a JSON line, ignoring (never reading) any ``outcome`` key."""
    data = {k: v for k, v in obj.items() if k != "outcome"}
    return Dossier.model_validate(data)


def record_from_json(obj: dict[str, Any]) -> Record:
    return Record(dossier_from_json(obj), obj.get("outcome"))


class Document(_Strict):
    """A unit of retrieval: a case, an opinion, a referral, a guideline passage…"""

    id: str
    source: str
    kind: DocumentKind
    title: str
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    language: str = "fr"
    received_at: date | None = None
    outcome: dict[str, Any] | None = None


class Hit(_Strict):
    """The one shape of every retrieved passage (search, precedents, guidelines, chat citations)."""

    id: str = Field(..., description="chunk id <document_id>#<n>")
    document_id: str
    source: str
    kind: str
    title: str
    score: float = Field(..., description="higher is better")
    similarity: float = Field(..., ge=0.0, le=1.0)
    start: int = Field(..., ge=0, description="code-point offset into the stored document text")
    end: int = Field(..., ge=0)
    excerpt: str = Field(..., description="stored text[start:end]")
    outcome: dict[str, Any] | None = None
