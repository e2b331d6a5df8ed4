"""Reading the French tab-separated files (BDPM, HAS): encodings, line endings, quotes, HTML breaks."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from corpora.errors import EncodingProblem, InputError

_SPACES_RE = re.compile(r"[ \t\u00a0]+")
_BR_RE = re.compile(r"\s*<br\s*/?>\s*", re.IGNORECASE)


def iter_tsv(path: Path, encoding: str | Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)`` for each non-blank line of a tab-separated file without header.

    Lines end with LF or CRLF; fields keep their inner spaces. ``encoding`` may list several
    encodings tried in order for each line (e.g. ``("utf-8", "cp1252")``: the BDPM moved from
    Windows-1252 to UTF-8 over the years; a Windows-1252 line with accents is never valid UTF-8).
    A line no listed encoding can decode raises :class:`EncodingProblem` with the file and line.
    """
    path = Path(path)
    encodings = (encoding,) if isinstance(encoding, str) else tuple(encoding)
    if not path.is_file():
        raise InputError(f"Fichier introuvable : {path}")
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            line = _decode(raw, encodings, path, number)
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            yield number, line.split("\t")


def _decode(raw: bytes, encodings: tuple[str, ...], path: Path, number: int) -> str:
    error: UnicodeDecodeError | None = None
    for enc in encodings:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError as exc:
            error = error or exc
    position = error.start if error else 0
    raise EncodingProblem(
        f"{path.name} : ligne {number} illisible en {' ou '.join(encodings)} (octet invalide en position "
        f"{position}). Le fichier a-t-il été modifié ou réencodé ?"
    )


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

