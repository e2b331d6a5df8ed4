"""Pure feature functions for the risk models.

What a model may read is the :class:`~corpora.model.Dossier` only, never the
recorded outcome. Two deliberate exclusions, documented in the model card:

* ``fields.lab_data`` (tests and results sent with the report) is read as words, but with the outcome
  vocabulary of ``classifier/data/masked_outcomes.yaml`` masked in every mode: VAERS LAB_DATA may hold
  autopsy results, which reveal the outcome (death) rather than describe the case at intake.
* coded symptom terms (``fields.symptoms``, MedDRA preferred terms in VAERS) are
  kept, because at the agency a case is coded at intake from the narrative; but
  terms that *name* an outcome (death of any kind incl. SIDS, autopsy, hospitalisation,
  life-threatening, disability…) are dropped, see ``classifier/data/masked_outcomes.yaml``.

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


@dataclass(frozen=True)
class OutcomeVocabulary:
    """The outcome vocabulary of ``classifier/data/masked_outcomes.yaml``, compiled."""

    narrative: re.Pattern[str]  # on lowercased, accent-folded text
    abbreviations: re.Pattern[str] | None  # case-sensitive, on the original text
    coded_terms: tuple[str, ...]
    finding_codes: frozenset[str]

    def names_outcome(self, coded_term: str) -> bool:
        """True when a coded reaction term (any case, accents allowed) names an outcome."""
        folded = " " + re.sub(r"[^a-z0-9]+", " ", fold_in_place(coded_term)) + " "
        return any(f" {t}" in folded for t in self.coded_terms)  # word prefix: hospital → hospitalisation


@functools.lru_cache(maxsize=1)
def outcome_vocabulary() -> OutcomeVocabulary:
    import yaml

    raw = yaml.safe_load(resources.files("classifier.data").joinpath("masked_outcomes.yaml")
                         .read_text(encoding="utf-8"))
    words = [w for group in raw["narrative"].values() for w in group]
    narrative = re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)
    abbr = raw.get("abbreviations") or []
    abbreviations = re.compile(r"\b(?:" + "|".join(abbr) + r")\b") if abbr else None
    terms = tuple(" ".join(re.findall(r"[a-z0-9]+", fold_in_place(t))) for t in raw["coded_terms"])
    return OutcomeVocabulary(narrative, abbreviations, terms, frozenset(raw["finding_codes"]))


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
    """Replace the outcome words of :func:`outcome_vocabulary` (died, SIDS, hospitalisé…) by :data:`MASK_TOKEN`."""
    vocab = outcome_vocabulary()
    if vocab.abbreviations is not None:
        text = vocab.abbreviations.sub(MASK_TOKEN, text)
    folded_view = fold_in_place(text)
    if len(folded_view) != len(text):  # folding changed lengths (rare ligatures): mask the folded text
        return vocab.narrative.sub(MASK_TOKEN, folded_view)
    out: list[str] = []
    last = 0
    for m in vocab.narrative.finditer(folded_view):
        out.append(text[last:m.start()])
        out.append(MASK_TOKEN)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def normalise_masked(text: str, language: str | None = None) -> str:
    """:func:`normalise_text` with the outcome vocabulary masked before and after the FR→EN mapping (a French
    phrase may map onto an English outcome word)."""
    norm = normalise_text(mask_outcome_words(text), language)
    return outcome_vocabulary().narrative.sub(MASK_TOKEN, norm)


def mask_dossier(dossier: Dossier) -> Dossier:
    """The dossier as the masked evaluation sees it: outcome words masked in the narrative and in the
    free-text intake fields, coded terms that name an outcome dropped (see ``masked_outcomes.yaml``)."""
    f = dossier.fields
    vocab = outcome_vocabulary()
    update: dict[str, Any] = {}
    for name in ("medical_history", "current_illness", "other_medications", "lab_data"):
        value = getattr(f, name)
        if value:
            update[name] = mask_outcome_words(value)
    if f.symptoms:
        update["symptoms"] = [t for t in f.symptoms if not vocab.names_outcome(t)]
    fields = f.model_copy(update=update) if update else f
    return dossier.model_copy(update={"text": mask_outcome_words(dossier.text or ""), "fields": fields})


# Context modifiers of a finding, as the marker written in the text in place of its evidence span.
_MODIFIER_MARKS = (("negated", "neg"), ("hypothetical", "hyp"), ("family", "fam"), ("history", "hist"))


def _modifier_mark(finding: Any) -> str | None:
    for attr, mark in _MODIFIER_MARKS:
        if _code(finding, attr):
            return mark
    return None


def mark_modifiers(text: str, findings: Iterable[Any], mask_codes: frozenset[str] = frozenset(),
                   silence_codes: frozenset[str] = frozenset()) -> str:
    """The text with each negated, hypothetical, family or history finding's evidence replaced by a marker.

    "pas de convulsion" becomes "pas de xxnegimeseizurexx": the model reads what the extraction saw (a
    seizure that did not happen) instead of the bag-of-words "convulsion". A modified finding whose code is
    in ``silence_codes`` (the outcomes: death, hospitalisation…) is removed without a marker: "pas de
    décès" or "son père est décédé" must not raise a level, and a marker would let the model learn the
    extraction's rare misreadings of real deaths as a risk. Findings whose code is in ``mask_codes`` become
    :data:`MASK_TOKEN` whatever their modifiers. Spans are offsets into ``text``.
    """
    spans: list[tuple[int, int, str]] = []
    for fd in findings:
        start, end, code = _code(fd, "start"), _code(fd, "end"), _code(fd, "code")
        if start is None or end is None or not code or not (0 <= start < end <= len(text)):
            continue
        if code in mask_codes:
            spans.append((start, end, MASK_TOKEN))
            continue
        mark = _modifier_mark(fd)
        if mark and code in silence_codes:
            spans.append((start, end, ""))
        elif mark:
            spans.append((start, end, f"xx{mark}{re.sub(r'[^a-z0-9]', '', code.lower())}xx"))
    if not spans:
        return text
    spans.sort()
    out: list[str] = []
    last = 0
    for start, end, repl in spans:
        if start < last:  # overlapping findings: the first one wins
            continue
        out += [text[last:start], f" {repl} "]
        last = end
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
    """Tokens from the structured fields known at intake (never the outcome; lab data with its outcome
    words masked, see :func:`lab_words`)."""
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
    vocab = outcome_vocabulary()
    for term in f.symptoms or []:
        folded = fold_in_place(term).strip()
        if folded and not vocab.names_outcome(folded):
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
    toks.append(f"lab_data={'1' if f.lab_data else '0'}")
    if f.lab_data:
        toks += [f"lab:{w}" for w in lab_words(f.lab_data, dossier.language)]
    return toks


def lab_words(text: str, language: str | None = None) -> list[str]:
    """Words (≥ 3 letters) of the lab data, after the outcome vocabulary is masked and dropped: "autopsy",
    "cause of death", "SIDS", "coroner", "hospital"… never reach the model, whatever the mode. Chosen on
    the validation year (ROC-AUC of "grave" 0.9626 without these words, 0.9658 with them)."""
    return sorted({w for w in _WORD_RE.findall(normalise_masked(text, language)) if len(w) > 2 and w != MASK_TOKEN})


def _band(value: int, edges: tuple[int, ...]) -> str:
    """Label of the band ``value`` falls in, e.g. ``"10-24"`` or ``"400+"``."""
    for lo, hi in itertools.pairwise(edges):
        if lo <= value < hi:
            return f"{lo}-{hi - 1}" if hi - 1 > lo else str(lo)
    return f"{edges[-1]}+"


def finding_tokens(findings: Iterable[Any], drop_codes: frozenset[str] = frozenset(),
                   silence_codes: frozenset[str] = frozenset()) -> list[str]:
    """Tokens from extraction findings (language-independent codes); affirmed ones count most. A negated,
    hypothetical, family or history finding whose code is in ``silence_codes`` gives no token."""
    toks: list[str] = []
    for fd in findings:
        code = _code(fd, "code")
        if not code or code in drop_codes:
            continue
        if code in silence_codes and _modifier_mark(fd):
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
    """The features of one dossier (pure). ``findings`` and ``fired`` come from the criteria layer, run on
    this same dossier (for the masked evaluation: on :func:`mask_dossier` of it).

    The narrative is read as the extraction read it: negated, hypothetical, family and history findings
    are replaced by markers, or removed for outcome findings (:func:`mark_modifiers`). With
    ``options.mask_outcomes`` the outcome vocabulary is masked once more after the FR→EN mapping, and
    outcome findings and the criteria they fire are left out, so no outcome word reaches the model.
    """
    vocab = outcome_vocabulary()
    masked = options.mask_outcomes
    drop = vocab.finding_codes if masked else frozenset()
    parts = [mark_modifiers(dossier.text or "", findings, drop, vocab.finding_codes)]
    f = dossier.fields
    if dossier.type != "pv":
        parts += [dossier.title or "", f.indication or "", f.therapeutic_area or ""]
    text = "\n".join(p for p in parts if p)
    norm = normalise_masked(text, dossier.language) if masked else normalise_text(text, dossier.language)
    kept_fired = list(fired)
    if masked:  # a criterion fired by an outcome finding (its evidence span) says the outcome too
        spans = {(_code(fd, "start"), _code(fd, "end")) for fd in findings if _code(fd, "code") in drop}
        kept_fired = [c for c in fired
                      if not any((_code(e, "start"), _code(e, "end")) in spans for e in _code(c, "evidence") or ())]
    toks = (structured_tokens(dossier) + finding_tokens(findings, drop, vocab.finding_codes)
            + criteria_tokens(kept_fired))
    if masked:
        toks = [t for t in toks if not vocab.narrative.search(t.replace("_", " "))]
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
