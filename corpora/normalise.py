"""Pure name normalisation shared by loaders, lookups and the classifier's database crossing.

``normalise_substance`` maps the many spellings of an active substance found in BDPM
(``"CHLORHYDRATE DE TRAMADOL"``), the ANSM thesaurus (``"TRAMADOL"``, ``"SODIUM (CHLORURE DE)"``),
HAS rationales or a free-text dossier (``"tramadol chlorhydrate"``) to one key: lowercase,
accents stripped, salt and hydrate words removed, spaces collapsed. It is deliberately
conservative: a mineral salt whose base is only an ion (``"chlorure de sodium"``) is kept whole,
since there the salt *is* the substance.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["bar_join", "fold", "normalise_name", "normalise_substance", "substance_keys"]

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


def fold(text: str) -> str:
    """Lowercase, accents stripped, typographic apostrophes made plain, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("œ", "oe").replace("æ", "ae").replace("Œ", "oe").replace("Æ", "ae")
    return _SPACES_RE.sub(" ", plain.lower()).strip()


def normalise_name(name: str) -> str:
    """A product or class name as a matching key: :func:`fold` plus edge punctuation removed."""
    return _PUNCT_EDGE_RE.sub("", fold(name))


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
    text = fold(name)
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
