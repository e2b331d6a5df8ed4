"""Reading the French tab-separated files (BDPM, HAS): encodings, line endings, dates, quotes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from corpora.errors import EncodingProblem, InputError

_SPACES_RE = re.compile(r"[ \t\u00a0]+")
_BR_RE = re.compile(r"\s*<br\s*/?>\s*", re.IGNORECASE)


def iter_tsv(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)`` for each non-blank line of a tab-separated file without header.

    Lines end with LF or CRLF; fields keep their inner spaces. A byte that the stated encoding
    cannot decode raises :class:`EncodingProblem` with the file and line, in French.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Fichier introuvable : {path}")
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise EncodingProblem(
                    f"{path.name} : ligne {number} illisible en {encoding} (octet invalide en position "
                    f"{exc.start}). Le fichier a-t-il été modifié ou réencodé ?"
                ) from exc
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            yield number, line.split("\t")


def clean(value: str | None) -> str | None:
    """Strip spaces; empty is ``None``."""
    if value is None:
        return None
    value = _SPACES_RE.sub(" ", value).strip()
    return value or None


def unquote(value: str) -> str:
    """Remove the quotes some exporters wrap around a field (``" text "``) and undouble ``""``."""
    text = value.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text.strip()


def html_to_text(value: str) -> str:
    """``<br>`` as line breaks, spaces collapsed within each line."""
    lines = [_SPACES_RE.sub(" ", part).strip() for part in _BR_RE.split(value)]
    return "\n".join(line for line in lines if line)


def parse_fr_date(value: str | None) -> date | None:
    """``dd/mm/yyyy`` (BDPM) or ``yyyymmdd`` (HAS) or ``d.mm.yyyy`` (ctgov) → date; else ``None``."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{8}", text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None
