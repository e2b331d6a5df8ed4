"""Index build: documents → chunks → (dense vectors for some) → document store + Chroma + lexical index.

Idempotent and resumable. Documents are processed in batches; each batch is committed to Chroma
(upsert by chunk id) and then to the document store together with a journal row, in one SQLite
transaction. A document whose content hash is already stored (with its vectors when it should have
them) is skipped, so a rerun after ``kill -9`` only finishes the missing batches and ends with the
exact same counts, never duplicates. The lexical index is rebuilt from the document store at the
end (cheap), and swapped in atomically.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from corpora.errors import StoreError
from corpora.model import Document
from retrieval.chunking import chunk_document, field_header
from retrieval.config import RetrievalConfig
from retrieval.embeddings import Embedder, EmbeddingCache, get_embedder
from retrieval.facets import document_facets, fingerprint
from retrieval.stores.docstore import ChunkRow, DocStore, StoredDocument
from retrieval.stores.lexical import LexicalIndex
from retrieval.stores.vector import VectorStore, check_compatible, drop_vector_store, open_vector_store

INDEX_FORMAT = "1"
# Small sources whose every document gets a vector (when listed in the dense sources), whatever the cap:
# the référentiel (guidelines are found by meaning) and the bundled sample.
ALWAYS_DENSE = frozenset({"referentiel", "sample"})


@dataclass
class BuildReport:
    """What a build did."""

    seen: int = 0
    written: int = 0
    unchanged: int = 0
    duplicates: int = 0
    chunks_written: int = 0
    dense_chunks_written: int = 0
    encoded: int = 0
    cache_hits: int = 0
    batches: int = 0
    by_source: Counter[str] = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)
    totals_by_source: dict[str, tuple[int, int]] = field(default_factory=dict)
    seconds: float = 0.0
    encode_seconds: float = 0.0
    lexical_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents_seen": self.seen, "documents_written": self.written, "documents_unchanged": self.unchanged,
            "duplicates_in_input": self.duplicates, "chunks_written": self.chunks_written,
            "dense_chunks_written": self.dense_chunks_written, "texts_encoded": self.encoded,
            "embedding_cache_hits": self.cache_hits, "batches": self.batches,
            "index_totals": self.totals,
            "index_by_source": {k: {"documents": v[0], "dense_documents": v[1]}
                                for k, v in self.totals_by_source.items()},
            "seconds": round(self.seconds, 2), "encode_seconds": round(self.encode_seconds, 2),
            "lexical_seconds": round(self.lexical_seconds, 2),
        }


class DensePolicy:
    """Decides which documents get dense vectors (deterministic given the input order)."""

    def __init__(self, sources: Iterable[str], max_per_source: int, vaers_since_year: int) -> None:
        self.sources = frozenset(sources)
        self.max_per_source = max_per_source
        self.vaers_since_year = vaers_since_year
        self.counts: Counter[str] = Counter()

    def wants(self, doc: Document) -> bool:
        if doc.source not in self.sources:
            return False
        if doc.source == "vaers" and (doc.received_at is None or doc.received_at.year < self.vaers_since_year):
            return False
        if doc.source in ALWAYS_DENSE:
            return True
        self.counts[doc.source] += 1
        return self.counts[doc.source] <= self.max_per_source


def content_hash(doc: Document, max_chars: int) -> str:
    payload = json.dumps(
        [INDEX_FORMAT, max_chars, doc.source, doc.kind, doc.title, doc.text, doc.metadata, doc.language,
         doc.received_at.isoformat() if doc.received_at else None, doc.outcome],
        ensure_ascii=False, sort_keys=True, default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def chunk_metadata(doc: Document, facets: dict[str, Any], n: int) -> dict[str, Any]:
    """Scalar metadata stored with each vector in Chroma."""
    return {
        "document_id": doc.id, "n": n, "source": doc.source, "kind": doc.kind, "type": facets.get("type"),
        "language": facets.get("language"), "year": facets.get("year"),
        "date": doc.received_at.isoformat() if doc.received_at else None,
        "vaccine_type": facets.get("vaccine_type"), "substance": facets.get("substance"),
        "atc": facets.get("atc"), "serious": facets.get("serious"), "died": facets.get("died"),
        "hospitalised": facets.get("hospitalised"), "life_threatening": facets.get("life_threatening"),
    }


def reset_index(config: RetrievalConfig) -> None:
    """Delete the index (document store, Chroma, lexical). The embedding cache is kept.

    On a vector server (``chroma_host``) the collection is dropped there too.
    """
    drop_vector_store(config)
    for path in (config.docstore_path, config.docstore_path.with_name("docs.sqlite-wal"),
                 config.docstore_path.with_name("docs.sqlite-shm")):
        path.unlink(missing_ok=True)
    for d in (config.chroma_dir, config.lexical_dir):
        shutil.rmtree(d, ignore_errors=True)


def _check_docstore_meta(store: DocStore, embedder: Embedder) -> None:
    meta = store.get_meta()
    check_compatible({"embedder": meta.get("embedder"), "dim": meta.get("dim")}, embedder.name, embedder.dim,
                     f"({store.path.parent})")


def build_index(
    config: RetrievalConfig,
    documents: Iterable[Document],
    *,
    embedder: Embedder | None = None,
    reset: bool = False,
    progress: bool = True,
    expected_total: int | None = None,
    batch_docs: int = 256,
    on_batch: Callable[[int], None] | None = None,
    log: Callable[[str], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Build or update the index under ``config.data_dir`` from ``documents``.

    ``on_batch(n)`` is called after batch ``n`` is committed (tests use it to simulate a crash);
    ``on_progress(seen)`` with the documents read so far (background jobs show it).
    """
    from tqdm import tqdm

    t0 = time.perf_counter()
    if reset:
        reset_index(config)
    embedder = embedder or get_embedder(config.embedder, threads=config.threads)
    store = DocStore(config.docstore_path, create=True)
    report = BuildReport()
    try:
        _check_docstore_meta(store, embedder)
        vectors: VectorStore = open_vector_store(config, embedder.name, embedder.dim, create=True)
        store.set_meta({"embedder": embedder.name, "dim": str(embedder.dim), "format": INDEX_FORMAT,
                        "referentiel_version": config.referentiel_version or "aucune",
                        "chunk_max_chars": str(config.chunk_max_chars)})
        if config.referentiel_version:
            vectors.set_info({"referentiel_version": config.referentiel_version})
        cache = EmbeddingCache(config.embedder_cache_dir, embedder)
        policy = DensePolicy(config.dense_sources, config.dense_max_per_source, config.dense_vaers_since_year)
        bar = tqdm(total=expected_total, unit="doc", desc="Indexation", file=sys.stderr, disable=not progress,
                   dynamic_ncols=True, smoothing=0.05)
        batch: list[Document] = []
        try:
            for doc in documents:
                batch.append(doc)
                if len(batch) >= batch_docs:
                    _process_batch(batch, config, store, vectors, cache, policy, report)
                    bar.update(len(batch))
                    batch = []
                    if on_batch is not None:
                        on_batch(report.batches)
                    if on_progress is not None:
                        on_progress(report.seen)
            if batch:
                _process_batch(batch, config, store, vectors, cache, policy, report)
                bar.update(len(batch))
                if on_batch is not None:
                    on_batch(report.batches)
            if on_progress is not None:
                on_progress(report.seen)
        finally:
            bar.close()
            report.encode_seconds = cache.encode_seconds
            cache.close()
        if log:
            log("Reconstruction de l'index lexical…")
        t1 = time.perf_counter()
        if store.counts()["chunks"]:
            LexicalIndex.build(store, config.lexical_dir)
        report.lexical_seconds = time.perf_counter() - t1
        report.totals = store.counts()
        report.totals["vectors"] = vectors.count()
        report.totals_by_source = store.counts_by_source()
        if report.totals["vectors"] != report.totals["dense_chunks"]:
            raise StoreError(
                f"Incohérence : {report.totals['vectors']} vecteurs dans Chroma pour "
                f"{report.totals['dense_chunks']} passages vectorisés. Relancez « gdr index build »."
            )
    finally:
        store.close()
    report.seconds = time.perf_counter() - t0
    return report


def _process_batch(
    batch: Sequence[Document], config: RetrievalConfig, store: DocStore, vectors: VectorStore,
    cache: EmbeddingCache, policy: DensePolicy, report: BuildReport,
) -> None:
    unique: dict[str, Document] = {}
    for doc in batch:
        report.seen += 1
        if doc.id in unique:
            report.duplicates += 1
        unique[doc.id] = doc
    states = store.states(list(unique))
    stored: list[StoredDocument] = []
    chunk_rows: list[ChunkRow] = []
    dense_ids: list[str] = []
    dense_texts: list[str] = []
    dense_meta: list[dict[str, Any]] = []
    stale: list[str] = []
    for doc in unique.values():
        wants_dense = policy.wants(doc)
        h = content_hash(doc, config.chunk_max_chars)
        state = states.get(doc.id)
        if state is not None and state[0] == h and (state[2] or not wants_dense):
            report.unchanged += 1
            continue
        chunks = chunk_document(doc.id, doc.title, doc.text, doc.metadata, config.chunk_max_chars)
        facets = document_facets(doc.source, doc.kind, doc.language, doc.received_at, doc.metadata, doc.outcome)
        if state is not None and state[1] > len(chunks):
            stale.extend(f"{doc.id}#{n}" for n in range(len(chunks), state[1]))
        for c in chunks:
            chunk_rows.append(ChunkRow(c.id, doc.id, c.n, c.start, c.end, wants_dense))
            if wants_dense:
                dense_ids.append(c.id)
                dense_texts.append(c.indexed_text)
                dense_meta.append(chunk_metadata(doc, facets, c.n))
        stored.append(StoredDocument(
            id=doc.id, source=doc.source, kind=doc.kind, dossier_type=facets.get("type"), title=doc.title,
            text=doc.text, header=field_header(doc.title, doc.metadata), metadata=doc.metadata,
            language=doc.language, received_at=doc.received_at.isoformat() if doc.received_at else None,
            outcome=doc.outcome, content_hash=h, fingerprint=fingerprint(doc.title, doc.text),
            n_chunks=len(chunks), dense=wants_dense,
        ))
        report.by_source[doc.source] += 1
    if not stored:
        return
    if dense_ids:
        hits_before, misses_before = cache.hits, cache.misses
        vecs = np.zeros((0, 0), dtype=np.float32)
        parts = []
        for i in range(0, len(dense_texts), config.batch_size):
            parts.append(cache.embed_passages(dense_texts[i : i + config.batch_size]))
        vecs = np.concatenate(parts)
        report.encoded += cache.misses - misses_before
        report.cache_hits += cache.hits - hits_before
        vectors.upsert(dense_ids, vecs, dense_meta)
    # A document that lost vectors or chunks: remove its stale vectors.
    stale += [f"{d.id}#{n}" for d in stored if not d.dense and (states.get(d.id) or ("", 0, False))[2]
              for n in range(d.n_chunks)]
    if stale:
        vectors.delete(stale)
    store.write_batch(stored, chunk_rows, len(dense_ids))
    report.written += len(stored)
    report.chunks_written += len(chunk_rows)
    report.dense_chunks_written += len(dense_ids)
    report.batches += 1
