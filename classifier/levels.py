"""Risk levels: the four NFC strings and their ordering.

``faible < modéré < élevé < critique``. Pure helpers, no I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from corpora.model import RISK_LEVELS
from corpora.normalise import fold_in_place

_RANK: dict[str, int] = {level: i for i, level in enumerate(RISK_LEVELS)}
# tolerated spellings (no accents, English) mapped to the canonical level
_ALIASES: dict[str, str] = {
    "modere": "modéré",
    "eleve": "élevé",
    "low": "faible",
    "moderate": "modéré",
    "high": "élevé",
    "critical": "critique",
}


def normalise_level(value: str) -> str:
    """Return the canonical NFC level for ``value`` (accents optional); ValueError if unknown."""
    text = unicodedata.normalize("NFC", str(value).strip().lower())
    if text in _RANK:
        return text
    plain = fold_in_place(text)
    if plain in _ALIASES:
        return _ALIASES[plain]
    raise ValueError(f"niveau de risque inconnu : {value!r}")


def level_rank(level: str) -> int:
    """0 for faible … 3 for critique."""
    return _RANK[normalise_level(level)]


def level_from_rank(rank: int) -> str:
    return RISK_LEVELS[max(0, min(len(RISK_LEVELS) - 1, int(rank)))]


def max_level(*levels: str | None) -> str:
    """The highest of the given levels (None ignored); ``faible`` when none."""
    ranks = [level_rank(x) for x in levels if x]
    return RISK_LEVELS[max(ranks)] if ranks else RISK_LEVELS[0]


def is_serious(level: str) -> bool:
    """ICH E2A seriousness (grave) corresponds to élevé or critique."""
    return level_rank(level) >= 2


def floor_level(fired: Iterable[Any]) -> str:
    """Highest floor among fired criteria (objects or dicts with a ``floor``); ``faible`` if none."""
    floors: list[str | None] = []
    for item in fired:
        floor = item.get("floor") if isinstance(item, dict) else getattr(item, "floor", None)
        floors.append(floor)
    return max_level(*floors)
