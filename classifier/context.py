"""Context by crossing the databases: cited facts about a dossier's products (pure).

``gather_context(dossier, kb)`` looks up, in a :class:`~classifier.knowledge_base.KnowledgeBase`
built by :func:`~classifier.knowledge_base.build_knowledge_base`, each substance or product of
the dossier and returns cited facts (``ContextFact`` with a ``Hit`` whose
``excerpt == document.text[start:end]``), the names it could not match (``unmatched``, never
guessed) and warnings. Facts dated after the dossier's reception are left out, so a model
trained on a time split never sees the future.

Facts without a date of their own (the current BDPM status of a product, a shortage, the 2020
ANSM interaction thesaurus…) describe the state of their source at its edition: they are shown
with « état actuel, non daté » and the edition, and never fire a criterion (hence never raise a
level) for a dossier received before that edition existed (``ContextFact.raises`` is false).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from classifier.extraction import Finding, extract
from classifier.knowledge_base import KnowledgeBase, brand_word, match_key, passage_span
from corpora.model import Dossier, Hit


@dataclass(frozen=True, slots=True)
class ContextFact:
    """A fact about the dossier's product, cited by the passage of the source document."""

    code: str
    fact: str
    source_hit: Hit
    substance: str | None = None
    outcome_related: bool = False
    # ISO date of the fact itself (an opinion, a referral…); None: undated, state of the source's edition.
    date: str | None = None
    # ISO date from which the fact's source existed (its own date, else the edition of the source).
    since: str | None = None
    # False when the dossier was received before ``since``: the fact is shown but fires no criterion.
    raises: bool = True


# Edition of each source whose facts carry no date of their own (see the corpora README): an
# undated fact describes the state of that edition, which did not exist before this date.
SOURCE_EDITIONS: dict[str, tuple[str, str]] = {
    "bdpm": ("2025-07-01", "BDPM, instantané de juillet 2025"),
    "has-smr": ("2022-06-01", "HAS, extraction de juin 2022"),
    "has-asmr": ("2022-06-01", "HAS, extraction de juin 2022"),
    "ansm-interaction": ("2020-10-20", "thésaurus ANSM des interactions, édition d'octobre 2020"),
}
EMA_EDITION = ("2025-12-18", "tables EMA, état de décembre 2025")
UNDATED = "état actuel, non daté"


def source_edition(source: str) -> tuple[str, str]:
    """(ISO date, label) of the edition of ``source``: when its undated facts began to exist."""
    if source in SOURCE_EDITIONS:
        return SOURCE_EDITIONS[source]
    return EMA_EDITION if source.startswith("ema") else ("9999-12-31", f"{source}, édition inconnue")


def dated_fact(code: str, fact: str, hit: Hit, received: date | None, substance: str | None = None,
               outcome_related: bool = False, when: str | None = None) -> ContextFact:
    """A fact with its date, or marked « état actuel, non daté » with its source's edition.

    An undated fact raises no level for a dossier received before its source's edition: it is
    kept (shown, cited) with ``raises=False`` and says so.
    """
    if when:
        return ContextFact(code, fact, hit, substance, outcome_related, date=when, since=when, raises=True)
    since, label = source_edition(hit.source)
    raises = received is None or received.isoformat() >= since
    text = fact.rstrip()
    note = f" ({UNDATED} ; {label})"
    if text.endswith("."):
        text = text[:-1] + note + "."
    else:
        text += note
    if not raises:
        text += (f" Sans effet sur le niveau : dossier reçu le {received.isoformat()}, "  # type: ignore[union-attr]
                 "avant cette source.")
    return ContextFact(code, text, hit, substance, outcome_related, date=None, since=since, raises=raises)


@dataclass
class ContextResult:
    """The facts found, the names that matched nothing and warnings (French)."""

    facts: list[ContextFact] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _split_names(text: str | None) -> list[str]:
    if not text:
        return []
    parts = re.split(r"\s*(?:[,;/+\n]|\bet\b|\band\b)\s*", text)
    return [p.strip(" .") for p in parts if p and len(p.strip(" .")) >= 3]


def _dossier_names(dossier: Dossier, findings: Iterable[Finding]) -> tuple[list[str], list[str]]:
    """(suspect/evaluated names, co-medication names) of the dossier."""
    f = dossier.fields
    names: list[str] = []
    names.extend(f.substances or [])
    names.extend(_split_names(f.inn))
    for p in f.products or []:
        if p.role == "concomitant":
            continue
        names.extend(p.substances or [])
        if p.name and not p.substances:
            names.append(p.name)
    names.extend(fd.substance for fd in findings if fd.code == "DRUG" and fd.affirmed and fd.substance)
    co = _split_names(f.other_medications)
    for p in f.products or []:
        if p.role == "concomitant":
            co.extend(p.substances or ([p.name] if p.name else []))
    return list(dict.fromkeys(n for n in names if n)), list(dict.fromkeys(n for n in co if n))


def _resolve(kb: KnowledgeBase, name: str) -> list[tuple[str, str]]:
    """(key, display) pairs for a name: a substance, or a BDPM brand name resolved to its substances."""
    from classifier.products import GENERIC_WORDS, resolve_brand, without_dose

    key = match_key(name)
    if key and key in kb.names:
        return [(key, kb.names[key])]
    key = match_key(without_dose(name) or name)  # « prednisone 5 mg »
    if key and key in kb.names:
        return [(key, kb.names[key])]
    if kb.products:  # BDPM brand phrases (classifier.products): exact brand, never a generic word
        return [(k, kb.names[k]) for k in dict.fromkeys(match_key(s) for s in resolve_brand(name, kb.products))
                if k in kb.names]
    brand = brand_word(name)
    if brand and brand in kb.brands and brand not in GENERIC_WORDS:
        out = []
        for sub in kb.brands[brand]:
            k = match_key(sub)
            if k in kb.names:
                out.append((k, kb.names[k]))
        return out
    return []


def _before(rec: dict[str, Any], received: date | None) -> bool:
    return received is None or not rec.get("date") or rec["date"] <= received.isoformat()


def gather_context(dossier: Dossier, kb: KnowledgeBase, findings: Iterable[Finding] | None = None) -> ContextResult:
    """Cited facts about the dossier's substances and products (pure; never reads an outcome)."""
    warnings: list[str] = []
    if kb.empty:
        return ContextResult(warnings=["Contexte indisponible : aucun corpus réel chargé (échantillon seulement)."])
    if findings is None:
        findings = extract(dossier.text or "", dossier.language, kb.lexicon())
    from classifier.products import with_brands

    # an AMM or AEC text names comparators (« versus tériflunomide »): their facts are not this dossier's
    brand_substances, findings, named_brands = with_brands(dossier.text or "", kb.products, findings,
                                                           skip_comparators=dossier.type in ("amm", "aec"))
    suspects, comeds = _dossier_names(dossier, findings)
    direct_keys = {k for n in suspects for k, _ in _resolve(kb, n)}
    suspects = list(dict.fromkeys([*suspects, *brand_substances]))
    facts: list[ContextFact] = []
    unmatched: list[str] = []
    seen_keys: set[str] = set()
    received = dossier.received_at
    for name in suspects:
        pairs = _resolve(kb, name)
        if not pairs:
            unmatched.append(name)
            continue
        for key, display in pairs:
            if key in seen_keys:
                continue
            seen_keys.add(key)
            for rec in kb.facts.get(key, []):
                if not _before(rec, received):
                    continue
                facts.append(dated_fact(rec["code"], rec["fact"], Hit.model_validate(rec["hit"]), received,
                                        display, bool(rec.get("outcome_related")), rec.get("date")))
    if named_brands:  # a brand named: no product-level fact about another brand with the same substance
        from classifier.products import keep_named_products

        facts = keep_named_products(facts, named_brands, direct_keys)
    # ANSM interactions among suspects and co-medications
    if kb.interactions:
        index = kb.ansm_index()
        drug_names: list[str] = []
        for name in suspects + comeds:
            pairs = _resolve(kb, name) or [(match_key(name), name)]
            known = False
            for key, display in pairs:
                thesaurus = kb.ansm_names(key)
                drug_names.extend(thesaurus or [display])
                known = known or bool(thesaurus) or key in kb.names
            if not known and name not in unmatched:
                unmatched.append(name)
        from corpora.loaders.ansm import level_label

        for a, c, it in index.interactions_among(dict.fromkeys(drug_names)):
            folded = it.level.replace("-", " ")
            code = ("CTX_ANSM_INTERACTION_CI" if folded.startswith("contre") else
                    "CTX_ANSM_INTERACTION_AD" if "deconseill" in folded else "CTX_ANSM_INTERACTION")
            label = level_label(it.level)
            facts.append(dated_fact(code, f"Interaction {a} + {c} : {label} (thésaurus ANSM).",
                                    _interaction_hit(it, label), received, a))
    # past PV reports for the vaccine types (years strictly before the dossier)
    vtypes = list(dict.fromkeys([v.upper() for v in (dossier.fields.vaccine_types or [])]
                                + [p.vaccine_type.upper() for p in dossier.fields.products or [] if p.vaccine_type]))
    for vt in vtypes:
        years = kb.vaers.get(vt)
        if not years:
            continue
        cut = received.year if received else None
        rows = {y: v for y, v in years.items() if y.isdigit() and (cut is None or int(y) < cut)}
        if not rows:
            continue
        n = sum(v[0] for v in rows.values())
        serious = sum(v[1] for v in rows.values())
        last = max(rows, key=int)
        ex = kb.vaers_examples.get(vt, {}).get(last)
        if ex is None:
            continue
        facts.append(dated_fact(
            "CTX_PV_HISTORY",
            f"{n} signalement(s) antérieur(s) dans VAERS pour le vaccin {vt} ({min(rows, key=int)}–{last}), "
            f"dont {serious} grave(s).", Hit.model_validate(ex), received, vt, when=f"{last}-12-31"))
    if unmatched:
        warnings.append("Produits ou substances non reconnus dans les bases : " + ", ".join(unmatched) + ".")
    return ContextResult(facts, unmatched, warnings)


def _interaction_hit(it: Any, label: str) -> Hit:
    """The thesaurus entry of an interaction, cited at its level line."""
    from corpora.loaders.ansm import interaction_text

    text = interaction_text(it)
    start, end = passage_span(text, ["Niveau :"])
    return Hit(id=f"{it.id}#0", document_id=it.id, source="ansm-interaction", kind="interaction",
               title=f"{it.main} + {it.plus} : {label}", score=1.0, similarity=1.0, start=start, end=end,
               excerpt=text[start:end], outcome=None)
