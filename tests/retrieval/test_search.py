from __future__ import annotations

import pytest
from retrieval_fixtures import DOCS

from corpora.errors import InputError, InputTooLarge, NotFound
from retrieval.config import RetrievalConfig
from retrieval.search import Retriever, parse_where

TEXTS = {d.id: d.text for d in DOCS}


def test_hits_resolve_to_exact_spans(built: RetrievalConfig) -> None:
    with Retriever.open(built) as r:
        for method in ("lexical", "dense", "hybrid"):
            hits = r.search("myocarditis chest pain", k=5, method=method)
            assert hits, method
            for h in hits:
                assert h.id == f"{h.document_id}#0"
                assert TEXTS[h.document_id][h.start : h.end] == h.excerpt
                assert 0.0 <= h.similarity <= 1.0
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_french_query_finds_english_reports(built: RetrievalConfig) -> None:
    with Retriever.open(built) as r:
        hits = r.search("myocardite après vaccination", k=3, method="lexical", filters={"source": "vaers"})
    assert hits[0].document_id == "vaers:1001"
    assert hits[0].outcome == {"hospitalised": True}


def test_filters(built: RetrievalConfig) -> None:
    with Retriever.open(built) as r:
        assert {h.source for h in r.search("vaccine", k=10, filters={"source": "sample"})} <= {"sample"}
        hits = r.search("fever vaccine", k=10, filters=parse_where(["vaccin=dtap", "année=2003"]))
        assert hits and all(h.document_id in {"vaers:1002", "vaers:1003"} for h in hits)
        assert all(h.kind == "guideline" for h in r.search("décès grave", k=5, filters={"kind": "guideline"}))
        serious = r.search("chest pain", k=10, filters=parse_where(["serious=oui"]))
        assert {h.document_id for h in serious} == {"vaers:1001", "sample:pv-900"}  # hospitalised
        assert r.search("voriconazole", k=3, filters={"atc": "J02"})[0].document_id.startswith("ema-epar:")


def test_near_duplicates_are_collapsed(built: RetrievalConfig) -> None:
    with Retriever.open(built) as r:
        ids = [h.document_id for h in r.search("febrile seizure DTaP", k=10)]
    assert ("vaers:1002" in ids) != ("vaers:1003" in ids)  # identical narratives: only one is shown


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda r: r.search("", k=5), InputError),
        (lambda r: r.search("   ", k=5), InputError),
        (lambda r: r.search("a" * 100_000), InputTooLarge),
        (lambda r: r.search("x", filters={"colour": "red"}), InputError),
        (lambda r: r.search("x", filters=parse_where(["serious=peut-être"])), InputError),
        (lambda r: r.search("x", k=0), InputError),
        (lambda r: r.search("x", method="magic"), InputError),
        (lambda r: r.get_document("vaers:999999"), NotFound),
    ],
)
def test_bad_input_is_refused_in_french(built: RetrievalConfig, call, error) -> None:  # type: ignore[no-untyped-def]
    with Retriever.open(built) as r, pytest.raises(error) as exc:
        call(r)
    assert exc.value.message and exc.value.message[0].isupper()


def test_malformed_where() -> None:
    with pytest.raises(InputError, match="mal formé"):
        parse_where(["year"])


def test_guidelines_and_get_document(built: RetrievalConfig) -> None:
    with Retriever.open(built) as r:
        g = r.find_guidelines("Le patient est décédé après la vaccination", dossier_type="pv", k=3)
        assert [h.document_id for h in g] == ["referentiel:PV-DECES"]
        doc = r.get_document("vaers:1001")
        assert doc.text == TEXTS["vaers:1001"] and doc.outcome == {"hospitalised": True}
