"""Pseudonymisation of submitted dossiers (issue 13 §2): personal data out before storage.

What is found, French and English: person names (spaCy's French NER model ``fr_core_news_sm``,
installed as a package, plus titles such as « Mme », « Dr », « Mr » followed by capitalised words),
dates of birth (a date after « né(e) le », « date de naissance », « DDN », « born », « DOB »…), phone
numbers (Google's ``phonenumbers`` matcher, French region first, then international), e-mail
addresses, postal addresses (number + street type + name, and a postal code + town), the NIR (French
social security number: shape, department and month checked, key ``97 - n mod 97`` checked, or
written after « NIR », « n° de sécurité sociale »…), and patient or record numbers (after « dossier
n° », « IPP », « patient n° », « MRN », « record number »…).

Each value is replaced by a placeholder such as ``[NOM-1]`` (the same value keeps the same placeholder
within a dossier); offsets are those of the pseudonymised text, the one stored and analysed, so the
evidence and citations computed afterwards point into it. The placeholder → value mapping is returned
for the caller to keep apart (encrypted: :mod:`assistant.services.pseudonyms`). Pure: no I/O besides
loading the NER model once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

#: entity kind → placeholder stem
KINDS = {
    "name": "NOM",
    "birth_date": "DATE-NAISSANCE",
    "phone": "TÉLÉPHONE",
    "email": "COURRIEL",
    "address": "ADRESSE",
    "nir": "NIR",
    "record_id": "N°-DOSSIER",
}
PLACEHOLDER = re.compile(r"\[(?:" + "|".join(re.escape(v) for v in KINDS.values()) + r")-\d+\]")

NameFinder = Callable[[str], list[tuple[int, int]]]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str

    def text(self, source: str) -> str:
        return source[self.start:self.end]


# --------------------------------------------------------------------------- patterns

_UPPER = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÆŒ"
_LOWER = "a-zàâäçéèêëîïôöùûüÿæœß"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}]+(?:[-'’][{_UPPER}]?[{_LOWER}]+)*|[{_UPPER}]{{2,}}(?:-[{_UPPER}]{{2,}})*"
_TITLES = (r"Mme|Mmes|Mlle|Madame|Mademoiselle|Monsieur|M\.|MM\.|Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?|Docteur|Doctor|"
           r"Pr\.?|Professeur|Professor|Me|Maître|Sir")
_TITLED_NAME = re.compile(rf"\b(?:{_TITLES})\s+((?:{_NAME_WORD})(?:\s+(?:{_NAME_WORD}|[{_UPPER}]\.)){{0,3}})")
_NAMED = re.compile(
    rf"\b(?i:patiente?|nommée?|appelée?|prénommée?|named|called|patient|the patient|fils|fille|épouse|époux|"
    rf"mère|père|son|daughter|wife|husband|mother|father|de|of),?\s+((?:{_NAME_WORD})\s+(?:{_NAME_WORD})"
    rf"(?:\s+(?:{_NAME_WORD})){{0,1}})(?=[\s,.;:)(]|$)")
_TITLE_WORD = re.compile(rf"(?:{_TITLES})[,;:]?")

_DATE = (r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}|"
         r"\d{1,2}(?:er)?\s+(?:janv(?:ier)?|févr(?:ier)?|fevrier|mars|avr(?:il)?|mai|juin|juil(?:let)?|août|aout|"
         r"sept(?:embre)?|oct(?:obre)?|nov(?:embre)?|déc(?:embre)?|decembre)\.?\s+\d{4}|"
         r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|"
         r"Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|"
         r"\d{1,2}(?:st|nd|rd|th)?\s+(?:January|February|March|April|May|June|July|August|September|October|"
         r"November|December)\s+\d{4})")
_BIRTH = re.compile(
    r"(?:\bnée?s?\s+(?:le\s+)?|\bdate\s+de\s+naissance\s*:?\s*(?:le\s+)?|\bDDN\s*:?\s*|\bD\.D\.N\.?\s*:?\s*|"
    r"\bborn\s+(?:on\s+)?|\bdate\s+of\s+birth\s*:?\s*|\bDOB\s*:?\s*|\bD\.O\.B\.?\s*:?\s*|\bbirth\s*date\s*:?\s*)"
    rf"({_DATE})", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")
_STREET = (r"rue|avenue|av\.|boulevard|bd|place|allée|allee|chemin|impasse|route|quai|cours|square|passage|"
           r"résidence|lotissement|street|st\.|road|rd\.|lane|drive|way|court")
_ADDRESS = re.compile(
    rf"\b\d{{1,4}}(?:\s?(?:bis|ter|[A-Za-z]))?,?\s+(?:{_STREET})\b[^\n,;]{{1,60}}?"
    rf"(?:,?\s+\d{{5}}\s+[{_UPPER}][\w\-' ]{{1,40}}?(?=[,.;)\n]|\s+(?:et|and|tél|tel|phone)\b|$)|(?=[,.;)\n]|$))",
    re.IGNORECASE)
_ADDRESS_EN = re.compile(rf"\b\d{{1,4}}\s+(?:[{_UPPER}][{_LOWER}]+\s+){{1,3}}(?:Street|Road|Lane|Avenue|Drive|Way|"
                         rf"Court|Close|Gardens|Square|Place|Terrace|Crescent)\b(?:,\s+[{_UPPER}][{_LOWER}]+)?")
_TOWN_WORD = rf"(?:[{_UPPER}][{_LOWER}]+|[{_UPPER}]{{3,}})"
_POSTCODE_TOWN = re.compile(rf"\b\d{{5}}\s+{_TOWN_WORD}(?:-(?:sur-|sous-|en-|lès-|les-|le-|la-)?{_TOWN_WORD}){{0,3}}"
                            rf"(?:\s+Cedex(?:\s+\d+)?)?")
_NIR = re.compile(r"(?<![\d])([1-478])\s?(\d{2})\s?(0[1-9]|1[0-2]|[2-9]\d)\s?(\d{2}|2[ABab])\s?(\d{3})\s?(\d{3})"
                  r"\s?(\d{2})(?![\d])")
_NIR_CONTEXT = re.compile(r"(?:NIR|INSEE|sécurité\s+sociale|securite\s+sociale|n°\s*SS|\bSS\b|social\s+security|"
                          r"carte\s+vitale)[^\n]{0,25}$", re.IGNORECASE)
_RECORD = re.compile(
    r"(?:dossier|patient|patiente|IPP|NIP|NDA|MRN|record|case|chart|hospital|admission|séjour|sejour|"
    r"identifiant|ID)\s*(?:n°|no\.?|num(?:éro|ero)?\.?|number|#|nr\.?|:)\s*(?:de\s+(?:patient|dossier)\s*)?:?\s*"
    r"([A-Z]{0,4}[\-/]?\d[\d\-/]{3,}[A-Z0-9]*)|\b(?:IPP|NIP|MRN|NDA)\s*:?\s*([A-Z0-9][\dA-Z\-/]{4,})",
    re.IGNORECASE)
_PHONE_LIKE = re.compile(r"(?:\+|00)\d[\d\s.\-()]{7,18}\d|\b0[1-9](?:[\s.\-]?\d{2}){4}\b")


def nir_key_ok(digits: str) -> bool:
    """The NIR key check: ``97 - (n mod 97)``, Corsica's 2A/2B read as 19/18."""
    body, key = digits[:13].upper(), digits[13:]
    body = body.replace("2A", "19") if body[5:7] == "2A" else body.replace("2B", "18") if body[5:7] == "2B" else body
    if not body.isdigit() or not key.isdigit():
        return False
    return 97 - int(body) % 97 == int(key)


def _nir_spans(text: str) -> Iterable[Span]:
    for m in _NIR.finditer(text):
        digits = "".join(m.groups())
        if nir_key_ok(digits) or _NIR_CONTEXT.search(text[max(0, m.start() - 40):m.start()]):
            yield Span(m.start(), m.end(), "nir")


def _phone_spans(text: str) -> Iterable[Span]:
    import phonenumbers

    found: list[Span] = []
    for region in ("FR", "GB"):
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            if sum(c.isdigit() for c in match.raw_string) >= 8:  # not « 1 000 », « 2001/83 »
                found.append(Span(match.start, match.end, "phone"))
    for m in _PHONE_LIKE.finditer(text):  # formats the matcher skips (dots, odd grouping)
        found.append(Span(m.start(), m.end(), "phone"))
    return found


def _regex_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    spans += [Span(m.start(1), m.end(1), "birth_date") for m in _BIRTH.finditer(text)]
    spans += [Span(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]
    spans += list(_nir_spans(text))
    spans += [Span(m.start(), m.end(), "address") for m in _ADDRESS.finditer(text)]
    spans += [Span(m.start(), m.end(), "address") for m in _POSTCODE_TOWN.finditer(text)]
    spans += [Span(m.start(), m.end(), "address") for m in _ADDRESS_EN.finditer(text)]
    for m in _RECORD.finditer(text):
        group = 1 if m.group(1) else 2
        spans.append(Span(m.start(group), m.end(group), "record_id"))
    taken = [s for s in spans if s.kind in ("nir", "record_id", "birth_date")]
    spans += [p for p in _phone_spans(text) if not any(_overlap(p, t) for t in taken)]
    spans += [Span(m.start(1), m.end(1), "name") for m in _TITLED_NAME.finditer(text)]
    spans += [Span(m.start(1), m.end(1), "name") for m in _NAMED.finditer(text) if not _common(m.group(1))]
    return spans


# Capitalised words that follow « de », « patient »… without being names (sentence starts, drugs, places
# are left to the NER model's judgement; this list only guards the regular expression above).
_NOT_NAMES = frozenset([
    "la", "le", "les", "un", "une", "des", "du", "au", "aux", "ce", "cette", "son", "sa", "ses", "leur",
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
    "décembre", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "the", "a", "an",
    "his", "her", "their", "this", "that", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "hôpital", "hopital", "centre", "service", "chu", "chru", "crpv", "ansm",
])


# Disease and sign eponyms: proper names that are clinical facts, never replaced when found by the NER model.
EPONYMS = frozenset([
    "guillain", "barre", "creutzfeldt",
    "guillain-barre", "crohn", "alzheimer", "parkinson", "stevens-johnson", "lyell", "kawasaki", "basedow",
    "hashimoto", "cushing", "addison", "raynaud", "quincke", "reye", "wernicke", "creutzfeldt-jakob", "behcet",
    "sjogren", "hodgkin", "kaposi", "dravet", "lennox-gastaut", "brugada", "takotsubo", "lyme", "marfan",
    "tourette", "huntington", "meniere", "paget", "willebrand", "waldenstrom", "burkitt", "dress", "nikolsky",
    "koebner", "babinski", "glasgow", "apgar",
])


def _fold_word(word: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")


def _common(words: str) -> bool:
    first = words.split()[0]
    return first.lower() in _NOT_NAMES and not (first.isupper() and len(words.split()) > 2)


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


_LOAD_LOCK = threading.Lock()


def spacy_names(model: str = "fr_core_news_sm") -> NameFinder:
    """A name finder from an installed spaCy model (PER entities); loaded once per process, whatever the
    number of threads asking for it at the same time (the API's first concurrent requests)."""
    with _LOAD_LOCK:
        return _spacy_names(model)


@lru_cache(maxsize=2)
def _spacy_names(model: str) -> NameFinder:
    import spacy

    nlp = spacy.load(model, exclude=["parser", "lemmatizer", "attribute_ruler", "senter"])

    def find(text: str) -> list[tuple[int, int]]:
        spans = []
        for ent in nlp(text).ents:
            if ent.label_ not in ("PER", "PERSON"):
                continue
            # « Mme Jeanne Martin » → the name only; « Signalement de Monsieur » → nothing.
            tokens = [t for t in ent if not _TITLE_WORD.fullmatch(t.text) and not t.is_punct]
            # At least a first name and a last name, all proper nouns (a lone capitalised word or a common
            # noun at a sentence start — « Demande », « Nourrisson » — is not taken for a name), and no
            # eponym of a disease (« Guillain-Barré », « Crohn »): those are clinical facts.
            if len(tokens) < 2 or any(t.pos_ != "PROPN" or not t.text[:1].isupper() for t in tokens):
                continue
            start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
            words = text[start:end]
            if (_fold_word(words) in EPONYMS or any(_fold_word(t.text) in EPONYMS for t in tokens)
                    or _common(tokens[0].text)):
                continue
            spans.append((start, end))
        return spans

    return find


def find_entities(text: str, names: NameFinder | None = None) -> list[Span]:
    """Personal data spans of ``text``, non-overlapping, left to right (the longest wins an overlap)."""
    if not text:
        return []
    spans = _regex_spans(text)
    if names is not None:
        spans += [Span(s, e, "name") for s, e in names(text)]
    priority = {"nir": 0, "email": 1, "birth_date": 2, "record_id": 3, "phone": 4, "address": 5, "name": 6}
    spans.sort(key=lambda s: (s.start, -(s.end - s.start), priority[s.kind]))
    kept: list[Span] = []
    for span in spans:
        if span.end <= span.start:
            continue
        clashes = [k for k in kept if _overlap(k, span)]
        if not clashes:
            kept.append(span)
            continue
        # A structured match (NIR, e-mail, date, number…) wins over a name; otherwise the longest wins.
        if all((span.kind != "name" and k.kind == "name") or
               ((span.kind != "name") == (k.kind != "name") and span.end - span.start > k.end - k.start)
               for k in clashes):
            kept = [k for k in kept if k not in clashes] + [span]
            kept.sort(key=lambda s: s.start)
    return [s for s in kept if not PLACEHOLDER.fullmatch(text[s.start:s.end])]


@dataclass
class Pseudonymiser:
    """Replaces personal data by placeholders; one instance per dossier keeps the numbering consistent."""

    names: NameFinder | None = None
    mapping: dict[str, str] | None = None  # placeholder → original value

    def __post_init__(self) -> None:
        if self.mapping is None:
            self.mapping = {}
        self._by_value = {(self._kind_of(p), v): p for p, v in self.mapping.items()}

    @staticmethod
    def _kind_of(placeholder: str) -> str:
        stem = placeholder[1:].rsplit("-", 1)[0]
        return next(k for k, v in KINDS.items() if v == stem)

    def placeholder(self, kind: str, value: str) -> str:
        assert self.mapping is not None
        key = (kind, " ".join(value.split()))
        if key not in self._by_value:
            n = sum(1 for p in self.mapping if self._kind_of(p) == kind) + 1
            self._by_value[key] = f"[{KINDS[kind]}-{n}]"
            self.mapping[self._by_value[key]] = key[1]
        return self._by_value[key]

    def __call__(self, text: str) -> str:
        """``text`` with every personal data span replaced by its placeholder."""
        return self.with_offsets(text)[0]

    def with_offsets(self, text: str) -> tuple[str, Callable[[int], int]]:
        """The pseudonymised text and a function taking an offset of ``text`` to the same place in it.

        An offset inside a replaced value goes to the start of its placeholder.
        """
        out: list[str] = []
        moves: list[tuple[int, int, int, int]] = []  # (old start, old end, new start, new end)
        last = size = 0
        for span in find_entities(text, self.names):
            out.append(text[last:span.start])
            size += span.start - last
            placeholder = self.placeholder(span.kind, span.text(text))
            moves.append((span.start, span.end, size, size + len(placeholder)))
            out.append(placeholder)
            size += len(placeholder)
            last = span.end
        out.append(text[last:])

        def remap(offset: int) -> int:
            shift = 0
            for start, end, new_start, new_end in moves:
                if offset < start:
                    break
                if offset < end:
                    return new_start
                shift = new_end - end
            return offset + shift

        return "".join(out), remap
