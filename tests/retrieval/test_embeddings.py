from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.embeddings import CachingEmbedder, EmbeddingCache, FakeEmbedder, get_embedder, minilm_model_path


def test_fake_embedder_is_deterministic_and_normalised() -> None:
    e = FakeEmbedder()
    a = e.embed_passages(["fièvre après vaccin", "rash"])
    b = e.embed_passages(["fièvre après vaccin", "rash"])
    assert a.shape == (2, e.dim) and np.allclose(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)


def test_cache_never_reencodes_unchanged_text(tmp_path: Path) -> None:
    e = FakeEmbedder()
    cache = EmbeddingCache(tmp_path / "cache", e)
    first = cache.embed_passages(["a b c", "d e f", "a b c"])
    assert e.calls == 2 and cache.misses == 2
    again = cache.embed_passages(["d e f", "a b c"])
    assert e.calls == 2 and cache.hits == 2
    assert np.allclose(again[1], first[0])
    cached = CachingEmbedder(cache)
    q1 = cached.embed_query("myocardite")
    calls = e.calls
    assert np.allclose(cached.embed_query("myocardite"), q1) and e.calls == calls
    cache.close()


@pytest.mark.slow
def test_minilm_is_a_real_sentence_transformer_from_the_package() -> None:
    assert (minilm_model_path() / "model.safetensors").exists()
    e = get_embedder("minilm", threads=1)
    v = e.embed_passages(["fever after vaccination", "fièvre après la vaccination", "tax law reform"])
    assert v.shape == (3, 384)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
    assert type(e._get()).__name__ == "SentenceTransformer"  # type: ignore[attr-defined]
