"""Sentence-aware chunking with exact code-point offsets (pure functions).

A chunk's ``excerpt`` is always ``document.text[start:end]``: offsets refer to the
stored document text, never to the indexed text, which may carry a compact header
of structured fields (title, vaccine types, substances, ATC, coded symptoms…).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from corpora.normalise import bar_split

# A sentence ends at . ! ? ; or … followed by whitespace, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?;…])\s+|\n\s*")
_SPACE = re.compile(r"\s")

# Structured fields kept with the text (metadata key → header label), in this order.
HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("vaccine_types", "vaccins"),
    ("vaccine_names", "vaccins"),
    ("products", "produits"),
    ("substances", "substances"),
    ("inn", "DCI"),
    ("atc_codes", "ATC"),
    ("atc", "ATC"),
    ("therapeutic_area", "domaine"),
    ("symptoms", "symptômes"),
    ("level", "niveau"),
    ("status", "statut"),
)
MAX_HEADER_ITEMS = 20


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage of a document."""

    id: str
    document_id: str
    n: int
    start: int
    end: int
    excerpt: str
    indexed_text: str


def chunk_id(document_id: str, n: int) -> str:
    return f"{document_id}#{n}"


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text``, surrounding whitespace excluded."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _SENTENCE_END.finditer(text):
        _append_stripped(text, pos, match.start(), spans)
        pos = match.end()
    _append_stripped(text, pos, len(text), spans)
    return spans


# For quoting, a sentence ends at . ! ? … before a capital, a quote, a parenthesis or the end, or at a line
# break, and not after an abbreviation (« art. 6(7) », « n° », « cf. »). The chunker's split above cuts
# there too, which is harmless for indexing but quotes fragments such as « 42 (déclaration des SUSAR). ».
_QUOTE_END = re.compile(r"[.!?…](?=\s+[«\"(\[A-ZÀ-ÖØ-Þ]|\s*$)|\n")
_ABBREVIATIONS = frozenset({"art", "arts", "cf", "p", "pp", "ex", "n", "no", "vol", "réf", "ref", "al", "vs", "env",
                            "m", "mme", "dr", "pr", "st", "éd", "fig", "chap", "sect", "e.g", "i.e"})
_LAST_WORD = re.compile(r"([\w.]+)$")


def quotable_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the whole sentences of ``text[start:end]`` (surrounding whitespace excluded), for quoting."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for match in _QUOTE_END.finditer(text, start, end):
        newline = match.group() == "\n"
        word = None if newline else _LAST_WORD.search(text, pos, match.start())
        if word and word.group(1).lower() in _ABBREVIATIONS:
            continue
        _append_stripped(text, pos, match.start() if newline else match.end(), spans)
        pos = match.end()
    _append_stripped(text, pos, end, spans)
    return spans


def _append_stripped(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def _hard_split(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split an over-long sentence at whitespace (or anywhere if it has none)."""
    out: list[tuple[int, int]] = []
    while end - start > max_chars:
        cut = start + max_chars
        space = text.rfind(" ", start + max_chars // 2, cut)
        if space > start:
            cut = space
        _append_stripped(text, start, cut, out)
        start = cut
    _append_stripped(text, start, end, out)
    return out


def chunk_spans(text: str, max_chars: int = 1200) -> list[tuple[int, int]]:
    """Pack whole sentences into spans of at most ``max_chars`` code points.

    A text shorter than ``max_chars`` is one span (most VAERS narratives). An empty
    text gives one empty span ``(0, 0)`` so every document has at least one chunk.
    """
    if max_chars < 50:
        raise ValueError("max_chars must be at least 50")
    stripped: list[tuple[int, int]] = []
    _append_stripped(text, 0, len(text), stripped)
    if not stripped:
        return [(0, 0)]
    if stripped[0][1] - stripped[0][0] <= max_chars:
        return stripped
    pieces: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        pieces.extend(_hard_split(text, s, e, max_chars) if e - s > max_chars else [(s, e)])
    spans: list[tuple[int, int]] = []
    cur_start, cur_end = pieces[0]
    for s, e in pieces[1:]:
        if e - cur_start <= max_chars:
            cur_end = e
        else:
            spans.append((cur_start, cur_end))
            cur_start, cur_end = s, e
    spans.append((cur_start, cur_end))
    return spans


def field_header(title: str, metadata: Mapping[str, Any]) -> str:
    """Compact header of the structured fields prefixed to a chunk's indexed text."""
    parts = [title.strip()] if title and title.strip() else []
    seen_labels: dict[str, list[str]] = {}
    for key, label in HEADER_FIELDS:
        items = [i.strip() for i in bar_split(metadata.get(key)) if i and i.strip()]
        if not items:
            continue
        bucket = seen_labels.setdefault(label, [])
        for item in items:
            if item not in bucket and len(bucket) < MAX_HEADER_ITEMS:
                bucket.append(item)
    parts.extend(f"{label} : {', '.join(items)}" for label, items in seen_labels.items())
    return " | ".join(parts)


def chunk_document(
    document_id: str, title: str, text: str, metadata: Mapping[str, Any], max_chars: int = 1200
) -> list[Chunk]:
    """Chunks of one document: ids ``<document_id>#<n>``, offsets into ``text``, header in indexed text."""
    header = field_header(title, metadata)
    chunks = []
    for n, (start, end) in enumerate(chunk_spans(text, max_chars)):
        excerpt = text[start:end]
        indexed = f"{header}\n{excerpt}" if header and excerpt else (header or excerpt)
        chunks.append(Chunk(chunk_id(document_id, n), document_id, n, start, end, excerpt, indexed))
    return chunks
