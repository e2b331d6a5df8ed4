"""Property-based tests (hypothesis, bounded examples): parsers never crash, chunks and evidence offsets hold.

Bounded to keep CI fast (``max_examples`` per test below; ``deadline`` off because the shared CI
machine is noisy); the seed is hypothesis' own, printed with any failing example.
"""

from __future__ import annotations

import json
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.extraction import extract
from corpora.errors import GdrError
from corpora.intake import decode_bytes, parse_upload
from corpora.io import MAX_JSON_DEPTH, loads_json
from corpora.limits import IntakeLimits
from retrieval.chunking import chunk_document, chunk_spans, split_sentences

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLINICAL = st.sampled_from([
    "Patient décédé.", "Hospitalisation pour hépatite.", "Pas de fièvre.", "Le patient n'a pas eu de choc.",
    "Anaphylaxie après le vaccin.", "Patient died after the second dose.", "No seizure was reported.",
    "Femme enceinte de 12 semaines.", "Antécédent d'infarctus.", "Syndrome de Stevens-Johnson suspecté.",
    "Âgé de 84 ans.", "Convulsions fébriles chez un enfant de 2 ans.", "Insuffisance rénale aiguë.",
])
TEXTS = st.one_of(
    st.text(max_size=3000),
    st.lists(st.one_of(CLINICAL, st.text(max_size=40)), max_size=40).map(" ".join),
)


@BOUNDED
@given(st.binary(max_size=4096), st.sampled_from([None, "x.txt", "x.json", "x.jsonl", "x.xml", "x.csv", "x.pdf",
                                                   "x.docx", "x.zip", "x.md"]))
def test_parse_upload_returns_dossiers_or_a_french_error(data: bytes, filename: str | None) -> None:
    try:
        items = parse_upload(data, filename=filename, max_bytes=1 << 20, limits=IntakeLimits())
    except GdrError as exc:
        assert exc.message and exc.http_status in (400, 413, 415, 422)
        return
    assert items and all(item.dossier.type in ("pv", "amm", "aec") for item in items)


@BOUNDED
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=2000), st.booleans())
def test_utf8_text_is_read_back_as_written(text: str, bom: bool) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    try:
        decoded, warnings = decode_bytes(data)
    except GdrError as exc:  # empty, binary-looking or UTF-16-looking: refused in French
        assert exc.message and exc.http_status in (400, 422)
        return
    assert decoded == unicodedata.normalize("NFC", text) and warnings == []


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=40)


@BOUNDED
@given(json_values, st.integers(min_value=0, max_value=3 * MAX_JSON_DEPTH))
def test_json_depth_is_bounded(value: object, extra: int) -> None:
    wrapped: object = value
    for _ in range(extra):
        wrapped = [wrapped]
    text = json.dumps(wrapped)
    try:
        assert loads_json(text) == wrapped
    except json.JSONDecodeError as exc:
        assert extra >= MAX_JSON_DEPTH - 10 and "imbrication" in exc.msg


@BOUNDED
@given(TEXTS, st.integers(min_value=50, max_value=600))
def test_chunks_cover_the_text_in_order_with_exact_offsets(text: str, max_chars: int) -> None:
    spans = chunk_spans(text, max_chars=max_chars)
    assert spans
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start <= end <= len(text)
        assert end - start <= max_chars
        previous_end = end
    # Nothing but white space is ever dropped between chunks.
    kept = "".join(text[s:e] for s, e in spans)
    assert "".join(kept.split()) == "".join(text.split())
    chunks = chunk_document("doc:p", "Titre", text, {}, max_chars=max_chars)
    assert all(text[c.start:c.end] == c.excerpt for c in chunks)
    for s, e in split_sentences(text):
        assert 0 <= s <= e <= len(text)


@BOUNDED
@given(TEXTS, st.sampled_from(["fr", "en", None]))
def test_evidence_offsets_point_into_the_text(text: str, language: str | None) -> None:
    for finding in extract(text, language):
        assert 0 <= finding.start <= finding.end <= len(text)
        assert text[finding.start:finding.end] == finding.text
