"""Classification of one dossier (or a batch): level, score, fired criteria, explanation.

Framework-free. The final level is ``max(model level, floor of the fired criteria)``:
the model may raise a level, a criterion's floor is never lowered. Without a trained
model (``criteria`` registry entry) the level is the floor alone and ``model_version``
says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from classifier.amm_features import AmmFeatureSpec, amm_feature_row
from classifier.context import ContextFact
from classifier.criteria import FiredCriterion, evaluate_criteria
from classifier.extraction import Finding, extract
from classifier.features import FeatureOptions, FeatureRow, detect_language, feature_row, mask_dossier
from classifier.levels import floor_level
from classifier.models import REVIEW_REASON, CriteriaOnlyModel, ModelOutput
from classifier.result import Contribution, Explanation, FiredSummary
from corpora.model import RISK_LEVELS, Dossier

FINAL_LEVEL_RULE = "niveau final = max(niveau du modèle, plancher des critères déclenchés)"

# Indicative score of a criteria-only assessment, per floor (no probability without a model).
_FLOOR_SCORE = {"faible": 0.05, "modéré": 0.25, "élevé": 0.7, "critique": 0.95}


@dataclass
class Analysis:
    """Language-independent reading of a dossier: extraction findings and fired criteria."""

    findings: list[Finding] = field(default_factory=list)
    fired: list[FiredCriterion] = field(default_factory=list)
    language: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Criteria fired without the context facts: what the models read. The models are trained and
    # evaluated without context, so they are served without it; context acts through the floors.
    model_fired: list[FiredCriterion] | None = None


@dataclass
class Assessment:
    level: str
    risk_score: float
    needs_review: bool
    reasons: list[str]
    fired: list[FiredCriterion]
    explanation: Explanation
    model_version: str
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    probabilities: dict[str, float] = field(default_factory=dict)  # calibrated heads, unrounded
    model_level: int | None = None


#: Ages (years) a patient can have; outside (or not a number) the age is set aside with a warning.
MIN_AGE, MAX_AGE = 0.0, 130.0


def analyse(dossier: Dossier, context: Sequence[ContextFact] | None = None) -> Analysis:
    """Run extraction and the référentiel's criteria on a dossier (no model)."""
    lang = detect_language(dossier.text) if dossier.text.strip() else "und"
    text_lang = lang if lang in ("fr", "en") else dossier.language
    findings = list(extract(dossier.text, text_lang)) if dossier.text.strip() else []
    facts = list(context or [])
    fired = list(evaluate_criteria(dossier, findings=findings, context=facts))
    model_fired = list(evaluate_criteria(dossier, findings=findings)) if facts else fired
    return Analysis(findings=findings, fired=fired, language=lang, warnings=[], model_fired=model_fired)


def features_for(dossier: Dossier, analysis: Analysis, mask_outcomes: bool = False,
                 amm_spec: AmmFeatureSpec | None = None) -> FeatureRow:
    """Features the model reads: the criteria fired without context (as at training and evaluation);
    an AMM dossier scored by a model trained with an ``amm_spec`` gets its submission-time features."""
    fired = analysis.fired if analysis.model_fired is None else analysis.model_fired
    if amm_spec is not None and dossier.type == "amm":
        return amm_feature_row(dossier, analysis.findings, fired, amm_spec)
    return feature_row(dossier, analysis.findings, fired, FeatureOptions(mask_outcomes=mask_outcomes))


def dossier_features(dossier: Dossier, context: Sequence[ContextFact] | None = None,
                     masked: bool = False) -> tuple[Dossier, Analysis, FeatureRow]:
    """THE feature function of a dossier, for training, evaluation and serving alike.

    Extraction and criteria run on the dossier (with ``masked``: on :func:`~classifier.features.mask_dossier`
    of it, so no outcome word reaches the criteria either), then :func:`feature_row` reads the dossier as
    the extraction read it. Returns the dossier actually read, its analysis and its feature row.
    """
    dossier, analysis = read_dossier(dossier, context, masked)
    return dossier, analysis, features_for(dossier, analysis, mask_outcomes=masked)


def read_dossier(dossier: Dossier, context: Sequence[ContextFact] | None = None,
                 masked: bool = False) -> tuple[Dossier, Analysis]:
    """The dossier as :func:`dossier_features` reads it (masked when asked) and its analysis."""
    if masked:
        dossier = mask_dossier(dossier)
    age = dossier.fields.patient_age
    if age is None or MIN_AGE <= age <= MAX_AGE:
        return dossier, analyse(dossier, context)
    # An impossible age (typo, unit slip) must not fire the infant or elderly criteria: it is set aside.
    dossier = dossier.model_copy(update={"fields": dossier.fields.model_copy(update={"patient_age": None})})
    analysis = analyse(dossier, context)
    analysis.warnings.append(f"âge invraisemblable ({age:g} ans) ignoré : vérifiez l'âge du patient")
    return dossier, analysis


def model_version(model: Any) -> str:
    return str(getattr(model, "version", None) or getattr(model, "version_", None) or CriteriaOnlyModel.version)


def combine(dossier: Dossier, analysis: Analysis, output: ModelOutput | None, model: Any) -> Assessment:
    """Final level = max(model level, floor of fired criteria); explanation and review reasons."""
    floor = floor_level(analysis.fired)
    reasons: list[str] = []
    warnings = list(analysis.warnings)
    if output is None:
        level = floor
        weights = [float(c.weight or 0.0) for c in analysis.fired]
        score = _FLOOR_SCORE[floor]
        for w in weights:
            if 0 < w < 1:
                score = 1 - (1 - score) * (1 - 0.1 * w)
        score = min(score, 0.99)
        model_level = None
    else:
        model_level = RISK_LEVELS[output.level]
        level = RISK_LEVELS[max(output.level, RISK_LEVELS.index(floor))]
        score = output.risk_score
        reasons += output.reasons
    if analysis.language is None:
        reasons.append("texte ni en français ni en anglais")
    if not dossier.text.strip():
        warnings.append("texte vide : évaluation fondée sur les seuls champs structurés")
    explanation = Explanation(
        niveau_plancher_criteres=floor,  # type: ignore[arg-type]
        niveau_modele=model_level,  # type: ignore[arg-type]
        regle=FINAL_LEVEL_RULE,
        criteres_declenches=[FiredSummary(code=c.code, label=c.label, plancher=c.floor,  # type: ignore[arg-type]
                                          poids=c.weight) for c in analysis.fired],
        contributions_modele=[Contribution.model_validate(c) for c in output.contributions] if output else [],
        probabilites={h: round(p, 4) for h, p in output.probabilities.items()} if output else {},
        motifs_revue=reasons or None,
    )
    return Assessment(
        level=level,
        risk_score=round(float(min(1.0, max(0.0, score))), 4),
        needs_review=bool(reasons),
        reasons=[f"{REVIEW_REASON} : {r}" for r in reasons],
        fired=analysis.fired,
        explanation=explanation,
        model_version=model_version(model),
        warnings=warnings,
        findings=analysis.findings,
        probabilities=dict(output.probabilities) if output else {},
        model_level=output.level if output else None,
    )


def _scores(model: Any, rows: list[FeatureRow], langs: list[str | None],
            explain: bool = True) -> list[ModelOutput | None]:
    if model is None or isinstance(model, CriteriaOnlyModel):
        return [None] * len(rows)
    if not explain:
        return list(model.score_rows(rows, langs, explain=0))
    return list(model.score_rows(rows, langs))


def assess_batch(
    dossiers: Sequence[Dossier], model: Any, contexts: Sequence[Sequence[ContextFact]] | None = None,
    masked: bool = False, explain: bool = True,
) -> list[Assessment]:
    """Assess several dossiers of any types; ``model`` maps a dossier type to its model (or is one model).

    ``masked`` (evaluation only): outcome words masked, see :func:`dossier_features`. ``explain=False``
    skips the per-dossier contributions (batch evaluation); probabilities and levels are the same.
    """
    read = [read_dossier(d, contexts[i] if contexts else None, masked) for i, d in enumerate(dossiers)]
    dossiers = [r[0] for r in read]
    analyses = [r[1] for r in read]
    results: list[Assessment | None] = [None] * len(dossiers)
    by_type: dict[str, list[int]] = {}
    for i, d in enumerate(dossiers):
        by_type.setdefault(d.type, []).append(i)
    for dtype, idx in by_type.items():
        m = model.get(dtype) if isinstance(model, dict) else model
        if m is not None and getattr(m, "dossier_type", "*") not in ("*", dtype):
            m = None
        outs: list[ModelOutput | None] = [None] * len(idx)
        if m is not None and not isinstance(m, CriteriaOnlyModel):  # features only for a model to read them
            spec = getattr(m, "amm_spec_", None)
            rows = [features_for(dossiers[i], analyses[i], masked, spec) for i in idx]
            outs = _scores(m, rows, [analyses[i].language for i in idx], explain)
        for j, i in enumerate(idx):
            results[i] = combine(dossiers[i], analyses[i], outs[j], m or CriteriaOnlyModel())
    return [r for r in results if r is not None]


def assess(dossier: Dossier, model: Any, context: Sequence[ContextFact] | None = None) -> Assessment:
    """Assess one dossier (see :func:`assess_batch`)."""
    return assess_batch([dossier], model, [list(context or [])])[0]
