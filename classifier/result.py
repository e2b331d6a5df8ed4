"""The triage result: one typed object per dossier, written as the JSON line of ``gdr triage --json``.

Field names and their order are the contract documented in the README (« Classifier and
triage ») and pinned by a golden test; the explanation keeps its French keys. ``intake`` (what
reading the document found besides the dossier), ``duplicates`` (likely twins of a PV report) and
``assessment_id`` (the API's stored assessment) are left out of the JSON when unset.
:func:`triage_result` builds a result from an assessment (pure).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from classifier.policy import ProcessingMode, expertises_of, processing_mode
from classifier.signal import SignalContext
from corpora.model import Dossier, DossierType, Hit, RiskLevel
from corpora.normalise import fr_decimal

if TYPE_CHECKING:
    from classifier.assess import Assessment
    from classifier.context import ContextResult
    from classifier.criteria import FiredCriterion

NO_CONTEXT_WARNING = "Contexte des bases publiques (BDPM, HAS, EMA, ANSM) non calculé pour ce tri."


def _unset(value: Any) -> bool:
    return value is None


class TextEvidence(BaseModel):
    """A span of the dossier's text: ``text == dossier.text[start:end]`` (code points)."""

    start: int = Field(..., ge=0)
    end: int = Field(..., ge=0)
    text: str
    page: int | None = Field(None, exclude_if=_unset, description="page of a paged document (set by intake)")


class FieldEvidence(BaseModel):
    """A structured field of the dossier (``fields.patient_age``) or a context fact (``context.CODE``)."""

    field: str
    value: Any

    def text_fr(self) -> str:
        """What a user reads: a context fact's sentence and its source, else « champ = valeur »."""
        value = self.value
        if isinstance(value, dict) and value.get("fact"):
            source = value.get("document_id")
            return f"{value['fact']} [{source}]" if source else str(value["fact"])
        if isinstance(value, float):
            value = fr_decimal(value, 0) if value.is_integer() else fr_decimal(value, 2)
        elif isinstance(value, bool):
            value = "oui" if value else "non"
        return f"{self.field} = {value}"


class CriterionResult(BaseModel):
    """A fired criterion of the référentiel with what fired it."""

    code: str
    label: str
    evidence: list[TextEvidence | FieldEvidence]
    reference: str = Field(..., description="source of the criterion (text and section)")


class ContextItem(BaseModel):
    """A fact the public databases hold about the dossier's products, with its cited passage."""

    fact: str
    source_hit: Hit
    date: str | None = Field(None, description="date of the fact (ISO); null: « état actuel, non daté » "
                             "(state of its source's edition)")
    raises_level: bool = Field(True, description="false when the fact is undated and the dossier was received "
                               "before its source's edition: shown, but fires no criterion")


class FiredSummary(BaseModel):
    """A fired criterion as the explanation lists it (French keys)."""

    code: str
    label: str
    plancher: RiskLevel | None = Field(..., description="floor level the criterion imposes")
    poids: float = Field(..., description="weight of the criterion")


class Contribution(BaseModel):
    """A term of the model's linear score for this dossier."""

    feature: str
    contribution: float


class Explanation(BaseModel):
    """Why this level (French keys, as shown to evaluators)."""

    niveau_plancher_criteres: RiskLevel = Field(..., description="highest floor among the fired criteria")
    niveau_modele: RiskLevel | None = Field(..., description="the model's level; null without a trained model")
    regle: str = Field(..., description="how the final level is chosen")
    criteres_declenches: list[FiredSummary]
    contributions_modele: list[Contribution]
    probabilites: dict[str, float] = Field(..., description="calibrated probability of each model head")
    motifs_revue: list[str] | None = Field(None, exclude_if=_unset,
                                           description="why a human review is asked (absent when none)")


class PageSpan(BaseModel):
    """Where a page of the source document lies in ``dossier.text``."""

    page: int
    start: int
    end: int


class IntakeInfo(BaseModel):
    """What intake read besides the dossier (each key only when known); more keys may follow."""

    model_config = ConfigDict(extra="allow")

    declared_seriousness: list[str] | None = Field(None, exclude_if=_unset,
                                                   description="seriousness criteria the reporter declared")
    format: str | None = Field(None, exclude_if=_unset, description="format read: pdf, docx, e2b-r3, csv…")
    form: str | None = Field(None, exclude_if=_unset, description="form recognised (CIOMS I)")
    read_from: str | None = Field(None, exclude_if=_unset, description="how the form was read")
    boxes: dict[str, str] | None = Field(None, exclude_if=_unset, description="text of each form box read")
    ticked: list[str] | None = Field(None, exclude_if=_unset, description="seriousness boxes ticked")
    pages: list[PageSpan] | None = Field(None, exclude_if=_unset, description="page spans of the text")


class DuplicateMatch(BaseModel):
    """A report already received that this one probably repeats (same patient, products, dates, narrative)."""

    id: str = Field(..., description="id of the likely twin (dossier or indexed report)")
    score: float = Field(..., ge=0.0, le=1.0, description="duplicate score (1 = same report)")
    source: Literal["évaluations", "historique", "lot"] = Field(
        ..., description="where the twin was found: stored assessments, indexed history, the same batch")
    assessment_id: int | None = Field(None, exclude_if=_unset, description="stored assessment of the twin")
    title: str | None = Field(None, exclude_if=_unset)
    received_at: date | None = Field(None, exclude_if=_unset)
    agreeing: list[str] = Field(..., description="what agrees (French): récit, âge, sexe, produits, dates…")


class TriageResult(BaseModel):
    """Risk level, processing mode and their justification for one dossier."""

    id: str
    type: DossierType
    risk_level: RiskLevel
    risk_score: float = Field(..., ge=0.0, le=1.0)
    needs_review: bool = Field(..., description="« à revoir par un évaluateur »")
    processing_mode: ProcessingMode
    criteria: list[CriterionResult]
    context: list[ContextItem]
    explanation: Explanation
    precedents: list[Hit] = Field(..., description="similar past dossiers with their recorded outcome")
    guidelines: list[Hit] = Field(..., description="closest passages of the référentiel")
    warnings: list[str]
    model_version: str
    referentiel_version: str | None
    signal: SignalContext | None = Field(
        None, exclude_if=_unset,
        description="PV : disproportionnalité (PRR, ROR, χ²) de chaque type de vaccin × terme codé, sur les "
                    "signalements VAERS reçus avant le mois du dossier ; absent sans corpus VAERS ou sans vaccin")
    intake: IntakeInfo | None = Field(None, exclude_if=_unset, description="what intake read besides the dossier")
    duplicates: list[DuplicateMatch] | None = Field(
        None, exclude_if=_unset, description="PV: reports already received that this one probably repeats, best "
        "first (absent when none)")
    assessment_id: int | None = Field(None, exclude_if=_unset,
                                      description="API only: id of the stored assessment (GET /assessments/{id})")


def criterion_results(fired: Sequence[FiredCriterion]) -> list[CriterionResult]:
    """Fired criteria (``classifier.criteria.FiredCriterion``) in the result's shape."""
    out = []
    for c in fired:
        evidence: list[TextEvidence | FieldEvidence] = []
        for ev in c.evidence:
            if ev.get("field") is not None:
                evidence.append(FieldEvidence(field=ev["field"], value=ev.get("value")))
            else:
                evidence.append(TextEvidence(start=ev["start"], end=ev["end"], text=ev["text"]))
        out.append(CriterionResult(code=c.code, label=c.label, evidence=evidence, reference=c.reference))
    return out


def triage_result(dossier: Dossier, assessment: Assessment, context: ContextResult | None,
                  referentiel_version: str | None) -> TriageResult:
    """The result of one assessed dossier, before precedents and guidelines are looked up.

    The processing mode comes from the policy for the dossier's type and level, with the
    expertises of the fired criteria merged in.
    ``context`` is None when the databases were not crossed for this triage (a warning says so).
    """
    context_warnings = [NO_CONTEXT_WARNING] if context is None else list(context.warnings)
    level = unicodedata.normalize("NFC", assessment.level)
    return TriageResult(
        id=dossier.id,
        type=dossier.type,
        risk_level=level,  # type: ignore[arg-type]
        risk_score=assessment.risk_score,
        needs_review=assessment.needs_review,
        processing_mode=processing_mode(dossier.type, level, expertises_of(assessment.fired)),
        criteria=criterion_results(assessment.fired),
        context=[ContextItem(fact=f.fact, source_hit=f.source_hit, date=f.date, raises_level=f.raises)
                 for f in context.facts] if context else [],
        explanation=assessment.explanation,
        precedents=[],
        guidelines=[],
        warnings=[*assessment.warnings, *assessment.reasons, *context_warnings],
        model_version=assessment.model_version,
        referentiel_version=referentiel_version,
    )
