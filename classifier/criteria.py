"""Evaluate the référentiel's criteria on a dossier (pure: no I/O, never reads an outcome).

A criterion fires when any of its direct triggers fires (an affirmed finding, a pattern,
a structured-field condition, a context fact, a substance of a shared list) or when every
sub-detection of ``all_of`` fires. Only affirmed findings count: negated, hypothetical,
past-history and family-history findings never fire a criterion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from classifier.context import ContextFact
from classifier.extraction import Finding, extract
from classifier.referentiel import Criterion, Detection, FieldCondition, criteria_for, load_referentiel

__all__ = ["FiredCriterion", "dossier_substances", "evaluate_criteria"]


@dataclass(frozen=True, slots=True)
class FiredCriterion:
    code: str
    label: str
    axis: str
    expertises: list[str]
    floor: str | None
    weight: float
    evidence: list[dict[str, Any]]
    reference: str


@dataclass(slots=True)
class _Inputs:
    text: str
    fields: dict[str, Any]
    findings: dict[str, list[Finding]]
    context: dict[str, list[ContextFact]]
    substances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # key -> evidence
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)  # key -> its words


@lru_cache(maxsize=65536)
def _norm_sub(name: str) -> str:
    from corpora.normalise import normalise_substance

    return normalise_substance(name) or ""


@lru_cache(maxsize=8)
def _substance_lists(directory: str | None) -> dict[str, tuple[frozenset[str], ...]]:
    ref = load_referentiel(directory)
    return {
        name: tuple(frozenset(_norm_sub(s).split()) for s in items if _norm_sub(s))
        for name, items in ref.meta.substance_lists.items()
    }


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.UNICODE)


def dossier_substances(dossier: Any, findings: Sequence[Finding] = ()) -> dict[str, list[dict[str, Any]]]:
    """Normalised substance keys of the dossier with their evidence (fields first, then text)."""
    out: dict[str, list[dict[str, Any]]] = {}

    def add(name: str | None, ev: dict[str, Any]) -> None:
        if not name:
            return
        key = _norm_sub(name)
        if key:
            out.setdefault(key, []).append(ev)

    f = dossier.fields
    for s in f.substances or []:
        add(s, {"field": "fields.substances", "value": s})
    if f.inn:
        for part in re.split(r"\s*(?:/|,|;|\+|\bet\b|\band\b)\s*", f.inn):
            add(part, {"field": "fields.inn", "value": f.inn})
    for i, p in enumerate(f.products or []):
        if p.role == "concomitant":
            continue
        for s in p.substances or []:
            add(s, {"field": f"fields.products[{i}].substances", "value": s})
        if p.name and not p.substances:
            add(p.name, {"field": f"fields.products[{i}].name", "value": p.name})
    for fd in findings:
        if fd.code == "DRUG" and fd.affirmed and fd.substance:
            add(fd.substance, {"start": fd.start, "end": fd.end, "text": fd.text})
    return out


def _field_values(fields: dict[str, Any], path: str) -> list[Any]:
    parts = path.removeprefix("fields.").split(".")
    values: list[Any] = [fields]
    for part in parts:
        nxt: list[Any] = []
        for v in values:
            if isinstance(v, dict):
                nxt.append(v.get(part))
            elif isinstance(v, list):
                nxt.extend(x.get(part) for x in v if isinstance(x, dict))
        values = nxt
    flat: list[Any] = []
    for v in values:
        if isinstance(v, list) and parts[-1] not in ("population", "countries", "atc_codes", "vaccine_types",
                                                      "substances", "symptoms", "manufacturers"):
            flat.extend(v)
        else:
            flat.append(v)
    return [v for v in flat if v is not None and v != [] and v != ""]


def _check(cond: FieldCondition, value: Any) -> bool:
    op, target = cond.op, cond.value
    try:
        if op == "is_true":
            return value is True
        if op == "is_false":
            return value is False
        if op == "present":
            return bool(value)
        if op == "eq":
            return bool(value == target)
        if op == "ne":
            return bool(value != target)
        if op in ("lt", "le", "gt", "ge"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            return {"lt": value < target, "le": value <= target, "gt": value > target, "ge": value >= target}[op]
        if op == "in":
            return value in (target or [])
        if op == "contains":
            if isinstance(value, list):
                return any(str(x).lower() == str(target).lower() for x in value)
            return str(target).lower() in str(value).lower()
        if op == "regex":
            items = value if isinstance(value, list) else [value]
            return any(_compiled(str(target)).search(str(x)) for x in items)
        if op == "min_len":
            return isinstance(value, list) and len(value) >= int(target)
    except TypeError:
        return False
    return False


def _detect(det: Detection, inp: _Inputs, lists: dict[str, tuple[frozenset[str], ...]]) -> list[dict[str, Any]]:
    """Evidence items when ``det`` fires, else an empty list."""
    evidence: list[dict[str, Any]] = []
    for code in det.findings:
        for fd in inp.findings.get(code, ()):
            evidence.append({"start": fd.start, "end": fd.end, "text": fd.text})
    for cond in det.fields:
        for value in _field_values(inp.fields, cond.field):
            if _check(cond, value):
                evidence.append({"field": "fields." + cond.field.removeprefix("fields."), "value": value})
                break
    for pattern in det.patterns:
        from classifier.extraction.engine import _modifiers, load_patterns

        cp = load_patterns()
        for m in _compiled(pattern).finditer(inp.text):
            mods = _modifiers(cp, inp.text, m.start(), m.end())
            if not (mods["negated"] or mods["hypothetical"] or mods["history"] or mods["family"]):
                evidence.append({"start": m.start(), "end": m.end(), "text": m.group(0)})
    for code in det.context:
        for fact in inp.context.get(code, ()):
            evidence.append(_fact_evidence(fact))
    if det.substance_lists and inp.substances:
        for key, evs in inp.substances.items():
            tokens = inp.tokens[key]
            if any(entry <= tokens for name in det.substance_lists for entry in lists.get(name, ())):
                evidence.extend(evs[:1])
    if det.all_of:
        parts = [_detect(sub, inp, lists) for sub in det.all_of]
        if all(parts):
            for p in parts:
                evidence.extend(p)
    if evidence and det.unless is not None and _detect(det.unless, inp, lists):
        return []
    return _dedupe(evidence)


def _fact_evidence(fact: ContextFact) -> dict[str, Any]:
    return {"field": f"context.{fact.code}", "value": {"fact": fact.fact, "document_id": fact.source_hit.document_id}}


def _dedupe(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for it in items:
        key = repr(sorted(it.items(), key=lambda kv: kv[0]))
        if key not in seen:
            seen.add(key)
            out.append(it)
    return out


def evaluate_criteria(
    dossier: Any,
    findings: Sequence[Finding] | None = None,
    context: Iterable[ContextFact] | None = None,
    *,
    criteria: Sequence[Criterion] | None = None,
) -> list[FiredCriterion]:
    """Fired criteria of ``dossier`` (a ``corpora.model.Dossier``), in référentiel order.

    ``findings`` defaults to ``extract(dossier.text, dossier.language)``; ``context`` is the
    ``facts`` of ``classifier.context.gather_context`` (optional).
    """
    if findings is None:
        findings = extract(dossier.text or "", dossier.language)
    affirmed: dict[str, list[Finding]] = {}
    for fd in findings:
        if fd.affirmed:
            affirmed.setdefault(fd.code, []).append(fd)
    ctx: dict[str, list[ContextFact]] = {}
    for fact in context or ():
        if getattr(fact, "raises", True):  # an undated fact newer than the dossier fires nothing
            ctx.setdefault(fact.code, []).append(fact)
    inp = _Inputs(
        text=dossier.text or "",
        fields=dossier.fields.model_dump(mode="json"),
        findings=affirmed,
        context=ctx,
        substances=dossier_substances(dossier, findings),
    )
    inp.tokens = {key: frozenset(key.split()) for key in inp.substances}
    lists = _substance_lists(None)
    fired: list[FiredCriterion] = []
    for crit in criteria if criteria is not None else criteria_for(dossier.type):
        evidence = _detect(crit.detection, inp, lists)
        if evidence:
            fired.append(
                FiredCriterion(
                    code=crit.code,
                    label=crit.label,
                    axis=crit.axis,
                    expertises=list(crit.expertises),
                    floor=crit.effect.floor,
                    weight=crit.effect.weight,
                    evidence=evidence,
                    reference=crit.reference,
                )
            )
    return fired
