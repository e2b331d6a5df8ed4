from __future__ import annotations

from retrieval.chunking import chunk_document, chunk_spans, field_header, split_sentences


def test_short_text_is_one_chunk_with_exact_offsets() -> None:
    text = "  Fièvre à 39 °C après le vaccin.  "
    chunks = chunk_document("vaers:1", "Titre", text, {"vaccine_types": "|DTAP|"})
    assert len(chunks) == 1
    c = chunks[0]
    assert c.id == "vaers:1#0"
    assert text[c.start : c.end] == c.excerpt == "Fièvre à 39 °C après le vaccin."
    assert c.indexed_text.startswith("Titre | vaccins : DTAP\n")


def test_long_text_splits_on_sentences_and_offsets_hold() -> None:
    sentences = [f"Phrase numéro {i} avec des accents éèà et un peu de texte." for i in range(60)]
    text = " ".join(sentences)
    chunks = chunk_document("doc:x", "T", text, {}, max_chars=300)
    assert len(chunks) > 5
    assert [c.id for c in chunks] == [f"doc:x#{i}" for i in range(len(chunks))]
    for c in chunks:
        assert text[c.start : c.end] == c.excerpt
        assert len(c.excerpt) <= 300
        assert c.excerpt.startswith("Phrase numéro") and c.excerpt.endswith(".")
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_overlong_sentence_is_hard_split_at_spaces() -> None:
    text = "mot " * 200
    spans = chunk_spans(text, max_chars=100)
    assert all(e - s <= 100 for s, e in spans)
    assert all(text[s:e].strip() == text[s:e] for s, e in spans)


def test_empty_text_gives_one_empty_chunk() -> None:
    chunks = chunk_document("doc:y", "Seulement un titre", "   ", {})
    assert len(chunks) == 1 and chunks[0].start == chunks[0].end == 0
    assert chunks[0].indexed_text == "Seulement un titre"


def test_split_sentences_and_header() -> None:
    text = "Un. Deux !\nTrois ? Quatre"
    assert [text[s:e] for s, e in split_sentences(text)] == ["Un.", "Deux !", "Trois ?", "Quatre"]
    header = field_header("Vfend", {"substances": "|voriconazole|", "atc_codes": "|J02AC03|", "x": "ignored"})
    assert header == "Vfend | substances : voriconazole | ATC : J02AC03"


def test_chunk_ids_are_stable() -> None:
    text = "Première phrase. " * 100
    a = chunk_document("d:1", "T", text, {}, max_chars=200)
    b = chunk_document("d:1", "T", text, {}, max_chars=200)
    assert [(c.id, c.start, c.end) for c in a] == [(c.id, c.start, c.end) for c in b]
