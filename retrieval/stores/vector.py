"""Vector stores behind a small protocol and a name registry. ``chroma`` is the real one.

Vectors are always ours (precomputed by our embedder): Chroma's default embedding function
downloads a model, so collections are created with ``embedding_function=None``.
The collection metadata records the embedder name, its dimension and the référentiel version;
opening it with another embedder is refused (:class:`StoreError`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from corpora.errors import StoreError
from retrieval.config import RetrievalConfig


class VectorStore(Protocol):
    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(
        self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None, ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]: ...

    def count(self) -> int: ...

    def info(self) -> dict[str, Any]: ...

    def set_info(self, values: dict[str, Any]) -> None: ...


_REGISTRY: dict[str, Callable[..., VectorStore]] = {}
# How to delete a store's data that does not live under the data dir (a collection on a server).
_DROPPERS: dict[str, Callable[[RetrievalConfig], None]] = {}


def register_vector_store(name: str, factory: Callable[..., VectorStore],
                          drop: Callable[[RetrievalConfig], None] | None = None) -> None:
    if name in _REGISTRY:
        raise ValueError(f"vector store {name!r} is already registered")
    _REGISTRY[name] = factory
    if drop is not None:
        _DROPPERS[name] = drop


def drop_vector_store(config: RetrievalConfig) -> None:
    """Delete what the configured store keeps outside the data dir (nothing for an embedded store)."""
    dropper = _DROPPERS.get(config.vector_store)
    if dropper is not None:
        dropper(config)


def open_vector_store(
    config: RetrievalConfig, embedder_name: str, dim: int, create: bool = False
) -> VectorStore:
    try:
        factory = _REGISTRY[config.vector_store]
    except KeyError:
        raise StoreError(
            f"Base vectorielle inconnue : « {config.vector_store} ». Disponibles : {', '.join(sorted(_REGISTRY))}."
        ) from None
    return factory(config=config, embedder_name=embedder_name, dim=dim, create=create)


def check_compatible(info: dict[str, Any], embedder_name: str, dim: int, where: str) -> None:
    """Refuse a collection built with another embedder or dimension."""
    built_with = info.get("embedder")
    built_dim = info.get("dim")
    if built_with is not None and built_with != embedder_name:
        dims = f" (dimension {built_dim})" if built_dim else ""
        raise StoreError(
            f"L'index {where} a été construit avec l'encodeur « {built_with} »{dims}, pas avec "
            f"« {embedder_name} ». Reconstruisez-le avec « gdr index build --reset » ou choisissez "
            f"l'encodeur « {built_with} » (GDR_RETRIEVAL__EMBEDDER)."
        )
    if built_dim is not None and dim and int(built_dim) != int(dim):
        raise StoreError(
            f"L'index {where} a des vecteurs de dimension {built_dim}, l'encodeur « {embedder_name} » "
            f"produit la dimension {dim}. Reconstruisez-le avec « gdr index build --reset »."
        )


class ChromaStore:
    """Chroma collection: ``PersistentClient`` under the index dir, or ``HttpClient`` when a host is set."""

    def __init__(self, config: RetrievalConfig, embedder_name: str, dim: int, create: bool = False) -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.where = str(config.chroma_dir) if not config.chroma_host else f"{config.chroma_host}:{config.chroma_port}"
        try:
            if config.chroma_host:
                self.client = _http_client(config)
            else:
                if not create and not config.chroma_dir.exists():
                    raise StoreError(
                        f"Index vectoriel introuvable : {config.chroma_dir}. "
                        "Construisez-le d'abord avec « gdr index build »."
                    )
                config.chroma_dir.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(
                    path=str(config.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False))
            if create:
                self.collection = self.client.get_or_create_collection(
                    config.collection,
                    embedding_function=None,
                    metadata={"embedder": embedder_name, "dim": dim, "hnsw:space": "cosine",
                              "referentiel_version": config.referentiel_version or "aucune"},
                )
            else:
                self.collection = self.client.get_collection(config.collection, embedding_function=None)
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types (NotFound, sqlite errors, connection errors)
            raise StoreError(
                f"Impossible d'ouvrir l'index vectoriel Chroma ({self.where}) : {exc}. "
                "Reconstruisez-le avec « gdr index build --reset »."
            ) from exc
        check_compatible(self.info(), embedder_name, dim, f"vectoriel ({self.where})")

    def info(self) -> dict[str, Any]:
        return dict(self.collection.metadata or {})

    def set_info(self, values: dict[str, Any]) -> None:
        meta = {k: v for k, v in self.info().items() if not k.startswith("hnsw:")}
        meta.update(values)
        self.collection.modify(metadata=meta)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]) -> None:
        step = 2000
        for i in range(0, len(ids), step):
            self.collection.upsert(
                ids=list(ids[i : i + step]),
                embeddings=np.asarray(vectors[i : i + step], dtype=np.float32),
                metadatas=[_scalar_meta(m) for m in metadatas[i : i + step]],
            )

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.collection.delete(ids=list(ids))

    def query(
        self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None, ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        total = self.collection.count()
        if total == 0 or n <= 0:
            return []
        kwargs: dict[str, Any] = {"include": ["distances"], "n_results": min(n, total)}
        if where:
            kwargs["where"] = where
        if ids is not None:
            if not ids:
                return []
            kwargs["ids"] = list(ids)
            kwargs["n_results"] = min(n, len(ids))
        query_vec: Any = [np.asarray(vector, dtype=np.float32)]
        result = self.collection.query(query_embeddings=query_vec, **kwargs)
        out_ids = result["ids"][0]
        dists = (result.get("distances") or [[]])[0]
        # cosine distance → cosine similarity
        return [(cid, 1.0 - float(d)) for cid, d in zip(out_ids, dists, strict=True)]

    def count(self) -> int:
        return int(self.collection.count())


def _scalar_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata values must be scalars: lists become ``|``-joined strings, None is dropped."""
    out: dict[str, Any] = {}
    for k, v in meta.items():
        if v is None:
            continue
        if isinstance(v, list | tuple | set):
            out[k] = "|".join(str(x) for x in v)
        elif isinstance(v, bool | int | float | str):
            out[k] = v
        else:
            out[k] = str(v)
    return out


def _http_client(config: RetrievalConfig) -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.HttpClient(host=config.chroma_host or "127.0.0.1", port=config.chroma_port,
                               settings=ChromaSettings(anonymized_telemetry=False))


def _drop_chroma(config: RetrievalConfig) -> None:
    """Drop the collection on the Chroma server (the embedded one is deleted with the index dir)."""
    if not config.chroma_host:
        return
    try:
        client = _http_client(config)
        if config.collection in {c if isinstance(c, str) else c.name for c in client.list_collections()}:
            client.delete_collection(config.collection)
    except Exception as exc:  # connection refused, server error
        raise StoreError(
            f"Impossible de supprimer la collection « {config.collection} » sur le serveur Chroma "
            f"({config.chroma_host}:{config.chroma_port}) : {exc}."
        ) from exc


register_vector_store("chroma", ChromaStore, drop=_drop_chroma)
