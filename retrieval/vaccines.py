"""Vaccines named in a free-text narrative, as the index's vaccine-type codes (data: ``data/vaccine_names.yaml``).

A PV dossier pasted or uploaded as text carries no structured vaccine type, so the narrowing of
precedents (:meth:`retrieval.search.Searcher.find_precedents`) had nothing to keep to: « vaccin contre la
grippe » brought hepatitis B precedents. A family's plain names count only beside a vaccine word, so
« syndrome grippal » or « flu-like symptoms » name no vaccine. Pure functions; the file is read once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from corpora.normalise import fold

VACCINE_NAMES_FILE = Path(__file__).resolve().parent / "data" / "vaccine_names.yaml"
# French « vaccin (contre la | anti-) X », English « X vaccine | shot | immunization », « vaccine against X »
_FR = r"\bvaccin(?:s|ation|e|ee|es)?\s+(?:(?:contre|anti)\s*-?\s*(?:la\s+|le\s+|les\s+|l['’]\s*)?)?(?:{names})\b"
_EN = (r"\b(?:{names})\s+(?:virus\s+)?(?:vaccin\w*|shot|immuni[sz]ation|booster)\b"
       r"|\bvaccin\w*\s+(?:against|for)\s+(?:{names})\b")


@dataclass(frozen=True)
class VaccineFamily:
    name: str
    pattern: re.Pattern[str]
    codes: re.Pattern[str]


@lru_cache(maxsize=2)
def vaccine_families(path: Path = VACCINE_NAMES_FILE) -> tuple[VaccineFamily, ...]:
    import yaml

    out = []
    for fam in yaml.safe_load(path.read_text(encoding="utf-8"))["families"]:
        names = "|".join(str(n) for n in fam.get("names") or [])
        parts = [_FR.format(names=names), _EN.format(names=names)] if names else []
        parts += [rf"\b(?:{d})\b" for d in fam.get("direct") or []]
        out.append(VaccineFamily(str(fam["name"]), re.compile("|".join(parts)), re.compile(str(fam["codes"]))))
    return tuple(out)


def families_named(text: str) -> list[VaccineFamily]:
    """The vaccine families a narrative names, in the order of the data file."""
    folded = fold(text)
    return [f for f in vaccine_families() if f.pattern.search(folded)]


def vaccine_codes_named(text: str, vocabulary: Iterable[str]) -> list[str]:
    """The codes of ``vocabulary`` (the index's vaccine types) for the vaccines ``text`` names; sorted."""
    families = families_named(text)
    if not families:
        return []
    return sorted({c for c in vocabulary if any(f.codes.match(c) for f in families)})
