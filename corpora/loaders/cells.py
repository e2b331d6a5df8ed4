"""Cell parsers shared by the table and JSON loaders: cells by header, text, top-level lists, ATC codes, yes/no.

Pure functions over a spreadsheet cell or a JSON value (``None``, text, number, ``datetime``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from corpora.normalise import bar_join, fold


def column_getter(columns: Mapping[str, int], row: Sequence[Any],
                  convert: Callable[[Any], Any] | None = None) -> Callable[[str], Any]:
    """Cell access by column name for one row (``columns``: name → position, from the header).

    A column the file's layout lacks, or a short row, reads as ``None``; ``convert`` (e.g. a cleaner)
    is applied to every value read, ``None`` included.
    """

    def get(name: str) -> Any:
        i = columns.get(name)
        value = row[i] if i is not None and i < len(row) else None
        return value if convert is None else convert(value)

    return get


def clean_text(value: Any) -> str | None:
    """A cell as text: stripped, non-breaking spaces made plain, blank → None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = str(value).replace("\xa0", " ").strip()
    return text or None


def split_top_level(value: str | None, separators: str = ",;") -> list[str]:
    """Split on separators outside parentheses/brackets: ``"a (x, y), b"`` → ``["a (x, y)", "b"]``."""
    if not value:
        return []
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in value:
        if ch in "([{":
            depth += 1
        elif ch in ")]}" and depth:
            depth -= 1
        if ch in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in (re.sub(r"\s+", " ", x) for x in parts) if p.strip()]


def substances_key(values: Iterable[str] | None) -> str:
    """Substance names as published (folded, salts kept), de-duplicated and bar-joined for metadata."""
    seen: dict[str, None] = {}
    for v in values or []:
        n = fold(v)
        if n:
            seen.setdefault(n, None)
    return bar_join(list(seen))


_ATC_RE = re.compile(r"^[A-Z]\d{2}(?:[A-Z](?:[A-Z](?:\d{2})?)?)?$")


def parse_atc(value: Any) -> list[str]:
    """ATC codes found in a cell (``"L01XC, L01XE03"``), upper-case, de-duplicated, in order."""
    text = clean_text(value)
    if not text:
        return []
    out: list[str] = []
    for tok in re.split(r"[\s,;/]+", text.upper()):
        if _ATC_RE.match(tok) and tok not in out:
            out.append(tok)
    return out


def parse_yes_no(value: Any) -> bool | None:
    """``Yes``/``No`` (also ``oui``/``non``, ``true``/``false``, ``1``/``0``) → bool; anything else → None."""
    if isinstance(value, bool):
        return value
    text = clean_text(value)
    if text is None:
        return None
    low = text.lower()
    if low in {"yes", "y", "true", "oui", "1"}:
        return True
    if low in {"no", "n", "false", "non", "0"}:
        return False
    return None
