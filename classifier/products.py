"""Product recognition in free text (French or English): BDPM brand names and substances (pure).

:func:`brand_index` turns BDPM product names into brand phrases (``"INFANRIX HEXA, poudre et
suspension…"`` → ``"infanrix hexa"``; ``"DOLIPRANE 1000 mg, comprimé"`` → ``"doliprane"``), each with
the substances of its products; the knowledge base keeps it (``KnowledgeBase.products``).
:func:`recognise_brands` finds those phrases in a narrative, accents and case folded
(``corpora.normalise.fold_in_place`` keeps offsets), longest phrase first. A brand is attached only
when it is unambiguous: a phrase that starts with a generic word (« vaccin », « solution », « acide »…)
is never a brand, and a bare first word (« Infanrix », « Vitamine ») is never taken for a whole name.
:func:`resolve_brand` does the same for a name given in a structured field. Nothing is
guessed: a name that matches nothing is reported as not recognised.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpora.normalise import fold, fold_in_place, plain_apostrophes

MIN_BRAND_CHARS = 4
# Words that start BDPM names without being a brand: a generic denomination names a substance or a form.
GENERIC_WORDS = frozenset(
    """
    vaccin vaccins solution solutions eau acide serum sérum glucose chlorure sodium potassium calcium
    magnesium bicarbonate gel sirop pommade creme crème collyre lait huile poudre comprime comprimé gelule
    gélule bain alcool oxygene oxygène azote air protoxyde dioxyde medicament medicament produit
    immunoglobuline immunoglobulines albumine plasma sang insuline extrait allergenes allergènes souche
    virus toxine anatoxine antigene antigène facteur complexe association emulsion émulsion vitamine vitamines
    dialyse hemodialyse nutrition lipides acides melange mélange electrolytes solute soluté ringer
    """.split()  # noqa: SIM905
)
# One-word BDPM brands that are everyday French or English words, prefixes or first names: never read alone.
AMBIGUOUS_BRANDS = frozenset(
    """
    daily drill diane thais estima divina carlin lenia cyclo doxy lyso toco femi magne marga ceris serc keal
    edex ixel iodure evra duova haima olamy zanea ideos kipos isalia ludeal
    """.split()  # noqa: SIM905
)
# Common French names that are neither a BDPM brand nor an INN, with the substance key they stand for.
COMMON_NAMES: dict[str, str] = {"aspirine": "acide acetylsalicylique"}
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # « d'Advil » is « d » + « advil »
_DOSE = re.compile(r"\d")
# Pharmaceutical forms: a BDPM name without a comma (« BEXSERO suspension injectable… ») stops there too.
_FORMS = frozenset(
    """
    suspension solution comprime comprimes gelule gelules creme poudre dispersion sirop collyre pommade gel
    emulsion injectable lyophilisat capsule capsules granules granule lotion pate dispositif film patch
    collutoire ovule suppositoire shampooing mousse vernis implant concentre
    """.split()  # noqa: SIM905
)
_UNIT = frozenset("mg g ml µg microgrammes microgramme milligrammes ui u pour cent %".split())  # noqa: SIM905


def without_dose(name: str) -> str:
    """A name's folded words before its dose or form (``"Prednisone 5 mg"`` → ``"prednisone"``)."""
    head = fold(plain_apostrophes(name)).split(",", 1)[0]
    words: list[str] = []
    for token in head.split():
        if _DOSE.search(token) or token in _UNIT or (words and token.strip(".") in _FORMS):
            break
        words.extend(_WORD.findall(token))
    return " ".join(words)


def brand_phrase(product_name: str) -> str | None:
    """The brand part of a BDPM name: folded words before the comma, stopped at the first dose, unit or form."""
    words = without_dose(product_name).split()
    if not words or words[0] in GENERIC_WORDS:
        return None
    phrase = " ".join(words)
    return phrase if len(phrase.replace(" ", "")) >= MIN_BRAND_CHARS else None


def _display(product_name: str) -> str:
    """The brand as the BDPM writes it: ``"DÉPAKINE CHRONO 500 mg, comprimé"`` → ``"DÉPAKINE CHRONO"``."""
    words: list[str] = []
    for token in product_name.split(",", 1)[0].split():
        if _DOSE.search(token) or token.lower() in _UNIT or (words and fold(token).strip(".") in _FORMS):
            break
        words.append(token)
    return " ".join(words) or product_name.split(",", 1)[0].strip()


def brand_index(products: Iterable[tuple[str, list[str]]]) -> dict[str, dict[str, Any]]:
    """``{phrase: {"name", "substances", "n"}}`` from (BDPM product name, substance names) pairs.

    Only whole brand phrases are indexed: a bare first word is never a brand of its own (« Infanrix » may be
    Hexa, Quinta or Tetra; « dialyse », « vitamine », « fraction » start BDPM names without being brands).
    """
    index: dict[str, dict[str, Any]] = {}
    known: set[str] = set()
    for name, substances in products:
        known.update(substances)
        phrase = brand_phrase(name)
        if phrase is None or not substances or phrase in AMBIGUOUS_BRANDS:
            continue
        entry = index.setdefault(phrase, {"name": _display(name), "substances": [], "n": 0})
        entry["n"] += 1
        for s in substances:
            if s not in entry["substances"]:
                entry["substances"].append(s)
    for common, substance in COMMON_NAMES.items():
        if common not in index and substance in known:
            index[common] = {"name": common, "substances": [substance], "n": 0}
    return index


@dataclass(frozen=True, slots=True)
class RecognisedProduct:
    """A brand found in a text: its span (``text[start:end]``), the BDPM brand and its substances."""

    start: int
    end: int
    text: str
    brand: str
    substances: tuple[str, ...]


def recognise_brands(text: str, index: Mapping[str, Mapping[str, Any]], max_words: int = 5) -> list[RecognisedProduct]:
    """The BDPM brands named in ``text``, longest phrase first, never overlapping, in text order."""
    folded = fold_in_place(plain_apostrophes(text))
    tokens = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded)]
    found: list[RecognisedProduct] = []
    i = 0
    while i < len(tokens):
        for n in range(min(max_words, len(tokens) - i), 0, -1):
            phrase = " ".join(t[2] for t in tokens[i:i + n])
            entry = index.get(phrase)
            if entry is None:
                continue
            start, end = tokens[i][0], tokens[i + n - 1][1]
            found.append(RecognisedProduct(start, end, text[start:end], str(entry["name"]),
                                           tuple(entry["substances"])))
            i += n - 1
            break
        i += 1
    return found


def resolve_brand(name: str, index: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Substances of a product name given in a field (« Infanrix Hexa », « DOLIPRANE 1000 mg »); [] if none."""
    phrase = brand_phrase(name)
    if phrase is None:
        return []
    entry = index.get(phrase)
    return list(entry["substances"]) if entry else []


COMPARATOR_CUES_FILE = Path(__file__).resolve().parent / "data" / "comparator_cues.yaml"
_ARTICLES = r"(?:(?:le|la|les|l'|du|de|des|d'|a|au|aux|un|une|the|an?)\s*){0,2}"


@functools.cache
def _comparator_cue() -> re.Pattern[str]:
    import yaml

    cues = yaml.safe_load(COMPARATOR_CUES_FILE.read_text(encoding="utf-8"))["cues"]
    return re.compile(rf"\b(?:{'|'.join(cues)})\s+{_ARTICLES}$")


def is_comparator(text: str, start: int) -> bool:
    """Whether the name starting at ``start`` in ``text`` follows a comparator cue (« versus », « comparé à »)."""
    before = fold_in_place(plain_apostrophes(text[max(0, start - 40):start]))
    return bool(_comparator_cue().search(before))


def with_brands(text: str, index: Mapping[str, Mapping[str, Any]], findings: Iterable[Any],
                skip_comparators: bool = False) -> tuple[list[str], list[Any], dict[str, set[str]]]:
    """(substances of the brands named in ``text``, ``findings`` without the drug findings inside a brand,
    substance matching key → brand phrases naming it).

    The bundled lexicon reads « Infanrix » as a generic DTP vaccine; once « Infanrix Hexa » is recognised
    as a BDPM brand, its exact substances replace that reading. With ``skip_comparators``, a brand or a drug
    named as a comparator (:func:`is_comparator`) gives no substance and no finding.
    """
    from classifier.knowledge_base import match_key

    brands = recognise_brands(text, index) if index else []
    kept = [f for f in findings
            if not (f.code == "DRUG" and any(b.start < f.end and f.start < b.end for b in brands))]
    if skip_comparators:
        brands = [b for b in brands if not is_comparator(text, b.start)]
        kept = [f for f in kept if f.code != "DRUG" or not is_comparator(text, f.start)]
    names = list(dict.fromkeys(s for b in brands for s in b.substances))
    by_key: dict[str, set[str]] = {}
    for b in brands:
        phrase = brand_phrase(b.brand) or b.brand.lower()
        for s in b.substances:
            by_key.setdefault(match_key(s), set()).add(phrase)
    return names, kept, by_key


# Facts about one BDPM product (« La spécialité X (substance) … »), not about the substance as a whole.
PRODUCT_LEVEL_CODES = frozenset({"CTX_BDPM_SUSPENDED", "CTX_SURVEILLANCE_RENFORCEE", "CTX_SHORTAGE",
                                 "CTX_PRESCRIPTION_RESTREINTE", "CTX_MITM"})


def fact_product(fact: Any) -> str | None:
    """Brand phrase of the BDPM product a product-level fact cites (None for other facts)."""
    if getattr(fact, "code", None) not in PRODUCT_LEVEL_CODES:
        return None
    hit = fact.source_hit
    return brand_phrase(hit.title or "") if hit.source == "bdpm" else None


def keep_named_products(facts: list[Any], brand_substances: Mapping[str, set[str]],
                        direct_keys: set[str]) -> list[Any]:
    """Drop product-level facts about another brand than the one the dossier names.

    ``brand_substances``: substance matching key → brand phrases the dossier names with it; a substance
    the dossier also names directly (``direct_keys``) keeps the facts of every product holding it.
    """
    from classifier.knowledge_base import match_key

    kept = []
    for f in facts:
        key = match_key(f.substance or "")
        brands = brand_substances.get(key)
        product = fact_product(f)
        if brands and key not in direct_keys and product is not None and product not in brands:
            continue
        kept.append(f)
    return kept
