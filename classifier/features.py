"""Pure feature functions for the risk models.

What a model may read is the :class:`~corpora.model.Dossier` only, never the
recorded outcome. Two deliberate exclusions, documented in the model card:

* ``fields.lab_data`` is never read: VAERS LAB_DATA may hold autopsy results,
  which reveal the outcome (death) rather than describe the case at intake.
* coded symptom terms (``fields.symptoms``, MedDRA preferred terms in VAERS) are
  kept, because at the agency a case is coded at intake from the narrative; but
  terms that *are* outcomes (death, hospitalisation, disability…) are dropped,
  see :data:`OUTCOME_SYMPTOM_TERMS`.

French and English are scored alike through a shared bilingual layer: text is
lowercased and accent-folded, then a small French→English medical lexicon
(``classifier/data/lexicon_fr_en.txt``) rewrites French phrases into the English
words of the training reports before TF-IDF; extraction findings are
language-independent codes and enter as tokens.

Each dossier becomes a :class:`FeatureRow` (normalised text + a tuple of
structured tokens) that the models in :mod:`classifier.models` vectorise.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple

from corpora import normalise
from corpora.model import Dossier
from corpora.normalise import fold_in_place

MASK_TOKEN = "xxmaskxx"

# MedDRA-like coded terms that state the outcome rather than the reaction (folded, lowercase).
OUTCOME_SYMPTOM_TERMS: frozenset[str] = frozenset(
    {
        "death", "sudden death", "brain death", "cardiac death", "death neonatal", "foetal death",
        "fetal death", "autopsy", "hospitalisation", "hospitalization", "disability", "permanent disability",
        "life threatening", "intensive care", "resuscitation", "congenital anomaly",
    }
)

# Explicit outcome words masked for the "masked" evaluation (English and French, folded forms).
_OUTCOME_WORDS = (
    r"died|dies|die|dying|death|deaths|dead|deceased|expired|expire|passed away|fatal|fatality|autopsy|"
    r"hospitali[sz]ed|hospitali[sz]ation|hospitali[sz]ing|hospital|admitted|admission|admit|readmitted|"
    r"life[- ]threatening|intensive care|icu|picu|nicu|disabled|disability|permanent|"
    r"deces|decede|decedee|decedes|mort|morte|morts|hospitalise|hospitalisee|hospitalises|hospitalisation|"
    r"admis|admise|reanimation|soins intensifs|pronostic vital|invalidite|handicap"
)
_OUTCOME_RE = re.compile(rf"\b(?:{_OUTCOME_WORDS})\b", re.IGNORECASE)

_WORD_RE = re.compile(r"[a-z]+")


@functools.lru_cache(maxsize=1)
def _lexicon() -> tuple[re.Pattern[str], dict[str, str]]:
    raw = resources.files("classifier.data").joinpath("lexicon_fr_en.txt").read_text(encoding="utf-8")
    mapping: dict[str, str] = {}
    for line in raw.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fr, _, en = line.partition("\t")
        if fr and en:
            mapping[fold_in_place(fr.strip())] = en.strip()
    keys = sorted(mapping, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b")
    return pattern, mapping


@functools.lru_cache(maxsize=1)
def _medical_words() -> tuple[frozenset[str], frozenset[str]]:
    """Single medical words of the lexicon: English side and French side (folded, ≥ 4 letters)."""
    _, mapping = _lexicon()
    en = {w for v in mapping.values() for w in _WORD_RE.findall(v) if len(w) >= 4}
    fr = {w for k in mapping for w in _WORD_RE.findall(k) if len(w) >= 4}
    common = en & fr
    return frozenset(en - common), frozenset(fr - common)


def translate_fr(folded: str) -> str:
    """Rewrite French medical phrases of an already folded text into English words."""
    pattern, mapping = _lexicon()
    return pattern.sub(lambda m: mapping[m.group(0)], folded)


def detect_language(text: str) -> str | None:
    """:func:`corpora.normalise.detect_language` with the lexicon's medical words as extra evidence.

    ``"fr"``, ``"en"``, ``"und"`` (too short to tell) or ``None`` (neither): a terse English note
    ("8 x 5 cm erythematous injection site reaction") reads as English through its medical words.
    """
    en_med, fr_med = _medical_words()
    return normalise.detect_language(text, extra={"en": en_med, "fr": fr_med})


def normalise_text(text: str, language: str | None = None) -> str:
    """Language-agnostic normal form: folded, French phrases mapped to English."""
    folded = fold_in_place(text)
    if language != "en":
        folded = translate_fr(folded)
    return folded


def mask_outcome_words(text: str) -> str:
    """Replace explicit outcome words (died, hospitalised, décédé…) by :data:`MASK_TOKEN`."""
    folded_view = fold_in_place(text)
    if len(folded_view) != len(text):  # folding changed lengths (rare ligatures): mask the folded text
        return _OUTCOME_RE.sub(MASK_TOKEN, folded_view)
    out: list[str] = []
    last = 0
    for m in _OUTCOME_RE.finditer(folded_view):
        out.append(text[last:m.start()])
        out.append(MASK_TOKEN)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def age_band(age: float | None) -> str:
    if age is None:
        return "inconnu"
    if age < 1:
        return "0-1"
    if age < 2:
        return "1-2"
    if age < 12:
        return "2-11"
    if age < 18:
        return "12-17"
    if age < 45:
        return "18-44"
    if age < 65:
        return "45-64"
    return "65+"


def _onset_band(days: float | None) -> str:
    if days is None or days < 0:
        return "na"
    if days < 1:
        return "0"
    if days < 2:
        return "1"
    if days < 8:
        return "2-7"
    if days < 31:
        return "8-30"
    return "31+"


def _code(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class FeatureRow(NamedTuple):
    """What a risk model vectorises: normalised text and structured tokens."""

    text: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class FeatureOptions:
    mask_outcomes: bool = False


def structured_tokens(dossier: Dossier) -> list[str]:
    """Tokens from the structured fields known at intake (never outcome, never lab_data)."""
    f = dossier.fields
    toks = [f"type={dossier.type}", f"age={age_band(f.patient_age)}", f"sex={f.patient_sex or 'na'}"]
    vtypes = sorted({fold_in_place(v) for v in (f.vaccine_types or [])})
    if not vtypes and f.products:
        vtypes = sorted({fold_in_place(p.vaccine_type) for p in f.products if p.vaccine_type})
    toks += [f"vax={v}" for v in vtypes]
    nprod = len(f.products or []) or len(vtypes)
    toks.append(f"nprod={min(nprod, 4)}")
    toks.append(f"onset={_onset_band(f.onset_days)}")
    for name in ("medical_history", "current_illness", "other_medications", "prior_vaccinations"):
        toks.append(f"{name}={'1' if getattr(f, name) else '0'}")
    if f.pregnant:
        toks.append("pregnant=1")
    for name in ("administered_by", "funded_by"):
        value = getattr(f, name)
        if value:
            toks.append(f"{name}={fold_in_place(value)}")
    toks.append(f"manufacturer_report={'1' if f.report_type else '0'}")
    kept = 0
    for term in f.symptoms or []:
        folded = fold_in_place(term).strip()
        if folded and folded not in OUTCOME_SYMPTOM_TERMS:
            toks.append("sym=" + folded.replace(" ", "_"))
            kept += 1
    toks.append(f"nsym={_band(kept, (0, 1, 3, 6, 10, 15))}")
    toks.append(f"textlen={_band(len(_WORD_RE.findall(dossier.text or '')), (0, 10, 25, 50, 100, 200, 400))}")
    # words of the history / current illness / other medications free texts (intake data)
    for name in ("medical_history", "current_illness", "other_medications"):
        value = getattr(f, name)
        if value:
            words = {w for w in _WORD_RE.findall(normalise_text(value, dossier.language)) if len(w) > 2}
            toks += [f"{name[:4]}:{w}" for w in sorted(words)]
    return toks


def _band(value: int, edges: tuple[int, ...]) -> str:
    """Label of the band ``value`` falls in, e.g. ``"10-24"`` or ``"400+"``."""
    for lo, hi in itertools.pairwise(edges):
        if lo <= value < hi:
            return f"{lo}-{hi - 1}" if hi - 1 > lo else str(lo)
    return f"{edges[-1]}+"


def finding_tokens(findings: Iterable[Any]) -> list[str]:
    """Tokens from extraction findings (language-independent codes); affirmed ones count most."""
    toks: list[str] = []
    for fd in findings:
        code = _code(fd, "code")
        if not code:
            continue
        if _code(fd, "negated"):
            toks.append(f"find_neg={code}")
        elif _code(fd, "hypothetical"):
            toks.append(f"find_hyp={code}")
        elif _code(fd, "history") or _code(fd, "family"):
            toks.append(f"find_hist={code}")
        else:
            toks.append(f"find={code}")
    return toks


def criteria_tokens(fired: Iterable[Any]) -> list[str]:
    """Tokens from fired criteria: their codes and floors."""
    toks: list[str] = []
    for c in fired:
        code = _code(c, "code")
        if code:
            toks.append(f"crit={code}")
        floor = _code(c, "floor")
        if floor:
            toks.append(f"floor={fold_in_place(str(floor))}")
    return toks


def feature_row(
    dossier: Dossier,
    findings: Sequence[Any] = (),
    fired: Sequence[Any] = (),
    options: FeatureOptions = FeatureOptions(),
) -> FeatureRow:
    """The features of one dossier (pure). ``findings`` and ``fired`` come from the criteria layer."""
    parts = [dossier.text or ""]
    f = dossier.fields
    if dossier.type != "pv":
        parts += [dossier.title or "", f.indication or "", f.therapeutic_area or ""]
    text = "\n".join(p for p in parts if p)
    if options.mask_outcomes:
        text = mask_outcome_words(text)
    norm = normalise_text(text, dossier.language)
    if options.mask_outcomes:
        norm = _OUTCOME_RE.sub(MASK_TOKEN, norm)
    toks = structured_tokens(dossier) + finding_tokens(findings) + criteria_tokens(fired)
    return FeatureRow(norm, tuple(toks))


def oov_ratio(text: str, vocabulary: set[str] | frozenset[str]) -> float:
    """Share of words of a normalised text absent from a model's word vocabulary."""
    words = _WORD_RE.findall(text)
    if not words:
        return 1.0
    return sum(w not in vocabulary for w in words) / len(words)


_SALTS = re.compile(
    r"\b(hydrochloride|hydrochlorid|chlorhydrate|sodium|sodique|potassium|calcium|magnesium|mesilate|mesylate|"
    r"maleate|fumarate|succinate|tartrate|citrate|acetate|phosphate|sulfate|sulphate|bromide|besilate|"
    r"dihydrate|monohydrate|hydrate|anhydrous)\b"
)


def substance_key(name: str) -> str:
    """Normalised substance key: folded, salts and punctuation removed."""
    key = _SALTS.sub(" ", fold_in_place(name))
    return " ".join(re.findall(r"[a-z0-9]+", key))
