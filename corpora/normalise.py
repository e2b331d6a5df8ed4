"""Text normalisation shared by every layer: folding, keys, dates, languages, stop words.

One place for the small jobs that loaders, the lexical index and the classifier all need, so they
fold, join and date things the same way. Pure functions; the word lists are data files in
``corpora/data/`` (read once, on first use).

Two foldings, because two jobs need them:

- :func:`fold` makes *matching forms*: lowercase, accents stripped, ``œ``/``æ`` spelt out, spaces
  collapsed (``"Myocardite  AIGUË, œdème"`` → ``"myocardite aigue, oedeme"``).
- :func:`fold_in_place` only lowercases and strips accents, character for character, so offsets into
  the folded view still point into the original text (masking words in place) and the risk models
  keep reading the form they were trained on.

``normalise_substance`` maps the many spellings of an active substance found in BDPM
(``"CHLORHYDRATE DE TRAMADOL"``), the ANSM thesaurus (``"TRAMADOL"``, ``"SODIUM (CHLORURE DE)"``),
HAS rationales or a free-text dossier (``"tramadol chlorhydrate"``) to one key: folded, typographic
apostrophes made plain, salt and hydrate words removed. It is deliberately conservative: a mineral
salt whose base is only an ion (``"chlorure de sodium"``) is kept whole, since there the salt *is*
the substance. Loaders that store a name as published (EMA metadata) store :func:`fold` of it, salts
included; whoever matches names applies ``normalise_substance`` to it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "bar_join", "bar_split", "detect_language", "dossier_language", "fold", "fold_in_place", "lone_surrogate",
    "normalise_name", "normalise_substance", "parse_date", "plain_apostrophes", "read_word_list", "stop_words",
    "substance_keys",
]

DATA_DIR = Path(__file__).resolve().parent / "data"

_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str) -> str | None:
    r"""A French description of the first lone surrogate of ``text`` (None when the text is clean).

    Python strings can hold code points U+D800–U+DFFF that no UTF-8 text contains: a JSON escape
    such as ``"\ud800"`` without its pair, or a byte that was not UTF-8 kept by ``surrogateescape``
    (command-line arguments, standard input). Such a string cannot be encoded, hashed, stored or
    printed, so every reader of user text refuses it up front with this description.

    >>> lone_surrogate("café") is None
    True
    >>> lone_surrogate("caf\udce9")
    'octet 0xe9'
    >>> lone_surrogate("\ud800 x")
    "caractère U+D800 isolé (moitié d'une paire UTF-16)"
    """
    m = _SURROGATE.search(text)
    if m is None:
        return None
    code = ord(m.group(0))
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte that could not be decoded
        return f"octet 0x{code - 0xDC00:02x}"
    return f"caractère U+{code:04X} isolé (moitié d'une paire UTF-16)"

# Salt words written before the base ("chlorhydrate de tramadol"), already folded.
_SALT_PREFIXES = (
    "dichlorhydrate", "chlorhydrate", "bromhydrate", "iodhydrate", "fluorhydrate", "hydrochlorure",
    "sulfate", "hydrogenosulfate", "bisulfate", "phosphate", "dihydrogenophosphate", "hydrogenophosphate",
    "maleate", "hydrogenomaleate", "mesilate", "mesylate", "dimesilate", "besilate", "besylate",
    "tosilate", "tosylate", "tartrate", "hydrogenotartrate", "bitartrate", "fumarate", "hemifumarate",
    "hydrogenofumarate", "succinate", "hemisuccinate", "citrate", "dihydrogenocitrate", "acetate",
    "propionate", "dipropionate", "valerate", "butyrate", "benzoate", "salicylate", "lactate", "gluconate",
    "glucoheptonate", "malate", "oxalate", "napadisilate", "pamoate", "embonate", "stearate", "palmitate",
    "laurilsulfate", "edisilate", "isetionate", "nitrate", "bromure", "iodure", "chlorure", "carbonate",
    "bicarbonate", "hydrogenocarbonate", "orotate", "aspartate", "glutamate", "xinafoate", "furoate",
    "decanoate", "enanthate", "undecanoate", "cipionate", "caproate", "hexanoate", "teoclate",
    "methylsulfate", "metilsulfate", "sel", "sels",
)
# Salt, counter-ion and hydrate words written after the base ("esomeprazole magnesique trihydrate").
_SALT_SUFFIXES = (
    "sodique", "disodique", "monosodique", "trisodique", "potassique", "dipotassique", "calcique",
    "magnesique", "lithique", "zincique", "ferreux", "ferrique", "aluminique", "ammonique", "meglumine",
    "trometamol", "arginine", "lysine", "hydrate", "hydratee", "monohydrate", "monohydratee", "dihydrate",
    "dihydratee", "trihydrate", "trihydratee", "tetrahydrate", "tetrahydratee", "pentahydrate",
    "pentahydratee", "hexahydrate", "hexahydratee", "heptahydrate", "heptahydratee", "sesquihydrate",
    "sesquihydratee", "hemihydrate", "hemihydratee", "anhydre", "base", "micronise", "micronisee",
    "amorphe", "cristallise", "cristallisee",
)
# Bases that are only an ion or an element: "chlorure de sodium" stays whole.
_ION_BASES = frozenset({
    "sodium", "potassium", "calcium", "magnesium", "lithium", "zinc", "fer", "aluminium", "ammonium",
    "cuivre", "manganese", "strontium", "baryum", "argent", "or", "cobalt", "chrome", "selenium",
    "bismuth", "fluor", "iode", "hydrogene", "sodium et de potassium",
})
# Parenthetical notes that are not part of the name: "(sel de ...)", "(sous forme de ...)", "(exprimé en ...)".
_NOTE_RE = re.compile(
    r"\((?:sel|sels|sous forme|forme|exprime|exprimee|equivalant|equivalent|correspondant|soit|"
    r"qsp|c\s?\d|voie|y compris)[^)]*\)"
)
# "TRAMADOL (CHLORHYDRATE DE)" → "chlorhydrate de tramadol"; "SODIUM (CHLORURE DE)" → "chlorure de sodium".
_INVERTED_RE = re.compile(r"^(?P<base>[^()]+?)\s*\((?P<salt>[^()]+?)\s+(?P<de>de|d')\s*\)$")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "´": "'", "`": "'", "ʼ": "'"})
_SPACES_RE = re.compile(r"\s+")
_PUNCT_EDGE_RE = re.compile(r"^[\s,;.:\-]+|[\s,;.:\-]+$")


def fold_in_place(text: str) -> str:
    """Lowercase and accents stripped, nothing else: spaces, apostrophes and ligatures stay as they are.

    ``"Décédé À l’Hôpital"`` → ``"decede a l’hopital"``: one character in gives one character out for
    Latin text, so a match in the folded view has the same offsets in the original.
    """
    if text.isascii():  # most narratives: NFKD changes nothing and nothing combines
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """The matching form of a text: :func:`fold_in_place`, ``œ``/``æ`` spelt out, spaces collapsed."""
    return " ".join(fold_in_place(text).replace("œ", "oe").replace("æ", "ae").split())


def plain_apostrophes(text: str) -> str:
    """Typographic apostrophes (``’ ‘ ´ ` ʼ``) as ``'``, so ``d’irinotécan`` and ``d'irinotécan`` agree."""
    return text.translate(_APOSTROPHES)


def normalise_name(name: str) -> str:
    """A product or class name as a matching key: :func:`fold`, plain apostrophes, edge punctuation removed."""
    return _PUNCT_EDGE_RE.sub("", fold(plain_apostrophes(name)))


def _strip_salt(words: list[str]) -> list[str]:
    # "chlorhydrate de X" / "acetate d'X": drop the prefix unless X is only an ion.
    while len(words) >= 3 and words[0] in _SALT_PREFIXES and words[1] in ("de", "d'"):
        rest = words[2:]
        if " ".join(rest).replace("d' ", "d'") in _ION_BASES:
            break
        words = rest
    # Trailing words: counter-ions and hydrates ("X sodique trihydraté") and salt words written after
    # the base ("tramadol chlorhydrate"); keep at least one word, keep "sulfate ferreux" and
    # "potassium chlorure" whole (a lone anion or ion is not a substance).
    changed = True
    while changed and len(words) >= 2:
        changed = False
        last, rest = words[-1], words[:-1]
        salt_after = last in _SALT_PREFIXES and " ".join(rest) not in _ION_BASES and rest[-1] not in ("de", "d'")
        counter_ion = last in _SALT_SUFFIXES and not (len(rest) == 1 and rest[0] in _SALT_PREFIXES)
        if salt_after or counter_ion:
            words, changed = rest, True
    return words


def normalise_substance(name: str) -> str:
    """One matching key for an active substance name (INN), whatever its spelling.

    >>> normalise_substance("CHLORHYDRATE DE TRAMADOL")
    'tramadol'
    >>> normalise_substance("Ésoméprazole magnésique trihydraté")
    'esomeprazole'
    >>> normalise_substance("SODIUM (CHLORURE DE)")
    'chlorure de sodium'
    """
    text = fold(plain_apostrophes(name))
    if not text:
        return ""
    text = _NOTE_RE.sub(" ", text)
    text = _SPACES_RE.sub(" ", text).strip()
    inverted = _INVERTED_RE.match(text)
    if inverted:
        de = "d'" if inverted.group("de") == "d'" else "de "
        text = f"{inverted.group('salt').strip()} {de}{inverted.group('base').strip()}"
    # "d'" becomes its own token ("acetate d'x" → ["acetate", "d'", "x"]) for the prefix test.
    tokens = re.sub(r"\bd'\s*", "d' ", text).split()
    tokens = _strip_salt(tokens)
    result = " ".join(tokens).replace("d' ", "d'")
    return _PUNCT_EDGE_RE.sub("", result)


def substance_keys(names: Iterable[str | None]) -> list[str]:
    """Normalised, de-duplicated keys of several names, in first-seen order (empty names dropped)."""
    seen: dict[str, None] = {}
    for name in names:
        if name:
            key = normalise_substance(name)
            if key:
                seen.setdefault(key, None)
    return list(seen)


def bar_join(values: Iterable[str] | None) -> str:
    """``"|a|b|"`` so that a metadata substring test ``"|a|"`` matches one whole value; ``""`` if empty.

    Chroma metadata only holds scalars, so lists are stored this way.
    """
    items = [v.replace("|", "/").strip() for v in values or [] if v and v.strip()]
    return "|" + "|".join(items) + "|" if items else ""


def bar_split(value: Any) -> list[str]:
    """The items of a metadata value: ``"|a|b|"`` (:func:`bar_join`) or a plain string, a list of them,
    or a product-like mapping (its ``name``, else ``vaccine_type``). ``None`` and booleans hold none;
    a number is one item.
    """
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split("|") if part.strip()]
    if isinstance(value, Mapping):
        return bar_split(value.get("name") or value.get("vaccine_type"))
    if isinstance(value, Iterable):
        return [item for v in value for item in bar_split(v)]
    return [str(value)]


# --------------------------------------------------------------------------- dates

_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?")
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(value: Any, *, month_first: bool = False) -> date | None:
    """A date from a spreadsheet cell, a JSON value or a text field; ``None`` when it is not one.

    Accepts ``date``/``datetime`` objects, ISO ``YYYY-MM-DD`` (a time after it is ignored), ``YYYYMMDD``
    (HAS) and ``DD/MM/YYYY`` or ``D.MM.YYYY`` (BDPM, EMA, ClinicalTrials.gov export); with
    ``month_first`` the slashed form is ``MM/DD/YYYY`` (VAERS). An impossible date (31/02) is ``None``.
    """
    if isinstance(value, str):
        return _parse_date_text(value, month_first)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _parse_date_text(str(value), month_first)


@functools.lru_cache(maxsize=8192)  # loaders meet the same few thousand dates again and again
def _parse_date_text(value: str, month_first: bool) -> date | None:
    text = value.strip()
    try:
        sep = "/" if "/" in text else "." if "." in text else None
        if sep is not None:
            parts = text.split(sep)
            if len(parts) != 3:
                return None
            a, b, year = parts
            if not (a + b + year).isdigit() or len(year) != 4 or len(a) > 2 or len(b) > 2:
                return None
            day, month = (int(b), int(a)) if month_first else (int(a), int(b))
            return date(int(year), month, day)
        if m := _ISO_DATE_RE.fullmatch(text) or _COMPACT_DATE_RE.fullmatch(text):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None


# --------------------------------------------------------------------------- word lists and language

_LETTERS_RE = re.compile(r"[a-z]+")


def read_word_list(path: Path) -> list[str]:
    """The lines of a versioned word-list file (UTF-8), blank lines and ``#`` comments left out."""
    raw = Path(path).read_text(encoding="utf-8")
    return [line for line in raw.splitlines() if line.strip() and not line.startswith("#")]


@functools.cache
def stop_words() -> frozenset[str]:
    """Folded stop words of French and English (``corpora/data/stopwords_*.txt``), for the lexical index."""
    words = read_word_list(DATA_DIR / "stopwords_fr.txt") + read_word_list(DATA_DIR / "stopwords_en.txt")
    return frozenset(fold(w.strip()) for w in words)


@functools.cache
def language_words() -> dict[str, frozenset[str]]:
    """Language code → the short words that mark it (``corpora/data/language_words.txt``), folded."""
    out: dict[str, frozenset[str]] = {}
    for line in read_word_list(DATA_DIR / "language_words.txt"):
        code, _, words = line.partition("\t")
        out[code.strip()] = frozenset(fold_in_place(w) for w in words.split())
    return out


def detect_language(text: str, extra: Mapping[str, Collection[str]] | None = None) -> str | None:
    """``"fr"``, ``"en"``, ``"und"`` (no marker word at all) or ``None`` (neither), from marker-word counts.

    Lenient on purpose: terse clinical notes ("8 x 5 cm erythematous injection site reaction") carry
    few marker words, so ``None`` needs positive evidence of another language (its words outnumber the
    French and English ones). ``extra`` adds words per language (the classifier adds its medical
    lexicon, so that a terse English note still reads as English).
    """
    words = _LETTERS_RE.findall(fold_in_place(text))
    markers = language_words()
    extra = extra or {}
    en_words, fr_words = extra.get("en", ()), extra.get("fr", ())
    en = sum(w in markers["en"] or w in en_words for w in words)
    fr = sum(w in markers["fr"] or w in fr_words for w in words)
    others = [stops for code, stops in markers.items() if code not in ("fr", "en")]
    other = max(sum(w in stops for w in words) for stops in others) if words else 0
    if other >= 2 and other > max(en, fr):
        return None
    if en == 0 and fr == 0:
        return "und"
    return "fr" if fr > en else "en"


def dossier_language(text: str, default: str = "fr") -> str:
    """A dossier's ``language``: ``"fr"`` or ``"en"`` by :func:`detect_language`, else ``default``."""
    language = detect_language(text)
    return language if language in ("fr", "en") else default


def fr_decimal(value: float, digits: int | None = 1) -> str:
    """``value`` with ``digits`` decimals (``None``: as Python writes it) and a French decimal comma
    (``12,5``), for texts users read."""
    return (str(value) if digits is None else f"{value:.{digits}f}").replace(".", ",")


def fr_int(value: int) -> str:
    """An integer with French digit grouping (« 200 000 »), formatted alone so that the rest of a message
    (a file name with a comma) is never touched."""
    return f"{value:,}".replace(",", " ")
