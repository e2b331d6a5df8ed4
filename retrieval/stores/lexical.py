"""Lexical side of the index, rebuilt from the document store at the end of every build (cheap).

- ``text``: BM25 (bm25s) over each chunk's indexed text (field header + passage), French/English analysis;
- ``codes``: BM25 over each document's structured codes (vaccine types, coded symptoms, substances,
  ATC levels, age band, sex): what precedent search matches on besides words;
- ``table``: columnar facets of every document (for metadata filters) and the chunk → document map.

Everything is written into a fresh folder, then swapped in with a rename: a reader never sees a
half-written lexical index.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from corpora.errors import StoreError
from corpora.io import atomic_writer
from retrieval.analysis import analyze
from retrieval.facets import FACETS
from retrieval.stores.docstore import DocStore

FORMAT_VERSION = 1


def code_tokens(facets: dict[str, Any]) -> list[str]:
    """Structured tokens of a document or dossier (pure)."""
    toks = [f"v:{v}" for v in facets.get("vaccine_type") or []]
    toks += [f"s:{s.replace(' ', '_')}" for s in facets.get("symptom") or []]
    toks += [f"u:{s.replace(' ', '_')}" for s in facets.get("substance") or []]
    for code in facets.get("atc") or []:
        toks += sorted({f"c:{code[:n]}" for n in (3, 4, 5, 7) if len(code) >= n})
    if facets.get("age_band"):
        toks.append(f"a:{facets['age_band']}")
    if facets.get("sex"):
        toks.append(f"x:{facets['sex']}")
    return toks


def _bm25(corpus_tokens: list[list[str]]) -> Any:
    import bm25s
    from bm25s.tokenization import Tokenized

    vocab: dict[str, int] = {"": 0}
    ids: list[list[int]] = []
    for toks in corpus_tokens:
        row = []
        for t in toks:
            tid = vocab.get(t)
            if tid is None:
                tid = vocab[t] = len(vocab)
            row.append(tid)
        ids.append(row or [0])
    model = bm25s.BM25(k1=1.2, b=0.75)
    model.index(Tokenized(ids=ids, vocab=vocab), show_progress=False)
    return model


def _date_ordinal(value: str | None) -> int:
    if not value:
        return -1
    try:
        return date.fromisoformat(value[:10]).toordinal()
    except ValueError:
        return -1


@dataclass
class FacetTable:
    """Columnar facets of the documents (row i = document i)."""

    doc_ids: list[str]
    fingerprints: list[str]
    received: np.ndarray  # date ordinal, -1 unknown
    columns: dict[str, Any]  # str/int/bool facet → array; list/code facet → {value: rows}

    def to_json(self) -> dict[str, Any]:
        cols: dict[str, Any] = {}
        for name, col in self.columns.items():
            if isinstance(col, dict):
                cols[name] = {k: v.tolist() for k, v in col.items()}
            elif isinstance(col, tuple):
                cols[name] = {"categories": col[1], "codes": col[0].tolist()}
            else:
                cols[name] = col.tolist()
        return {"doc_ids": self.doc_ids, "fingerprints": self.fingerprints,
                "received": self.received.tolist(), "columns": cols}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> FacetTable:
        columns: dict[str, Any] = {}
        for name, kind in FACETS.items():
            raw = obj["columns"][name]
            if kind in ("list", "code"):
                columns[name] = {k: np.asarray(v, dtype=np.int32) for k, v in raw.items()}
            elif kind == "str":
                columns[name] = (np.asarray(raw["codes"], dtype=np.int32), raw["categories"])
            else:
                columns[name] = np.asarray(raw, dtype=np.int32)
        return cls(obj["doc_ids"], obj["fingerprints"], np.asarray(obj["received"], dtype=np.int64), columns)


def build_facet_table(rows: list[tuple[str, str, str | None, dict[str, Any]]]) -> FacetTable:
    """``rows`` = (doc id, fingerprint, received_at, facets) in index order."""
    columns: dict[str, Any] = {}
    for name, kind in FACETS.items():
        if kind in ("list", "code"):
            postings: dict[str, list[int]] = {}
            for i, (_, _, _, f) in enumerate(rows):
                for v in f.get(name) or []:
                    postings.setdefault(v, []).append(i)
            columns[name] = {k: np.asarray(v, dtype=np.int32) for k, v in postings.items()}
        elif kind == "str":
            cats: dict[str, int] = {}
            codes = np.full(len(rows), -1, dtype=np.int32)
            for i, (_, _, _, f) in enumerate(rows):
                v = f.get(name)
                if v is not None:
                    codes[i] = cats.setdefault(str(v), len(cats))
            columns[name] = (codes, list(cats))
        elif kind == "bool":
            columns[name] = np.asarray(
                [-1 if f.get(name) is None else int(bool(f.get(name))) for _, _, _, f in rows], dtype=np.int32
            )
        else:
            columns[name] = np.asarray(
                [-1 if f.get(name) is None else int(f[name]) for _, _, _, f in rows], dtype=np.int32
            )
    return FacetTable(
        doc_ids=[r[0] for r in rows],
        fingerprints=[r[1] for r in rows],
        received=np.asarray([_date_ordinal(r[2]) for r in rows], dtype=np.int64),
        columns=columns,
    )


class LexicalIndex:
    """The loaded lexical side: BM25 over chunks and over document codes, facets, chunk map."""

    def __init__(self, text_bm25: Any, codes_bm25: Any, table: FacetTable, chunk_doc: np.ndarray,
                 chunk_n: np.ndarray, chunk_dense: np.ndarray, info: dict[str, Any]) -> None:
        self.text_bm25 = text_bm25
        self.codes_bm25 = codes_bm25
        self.table = table
        self.chunk_doc = chunk_doc
        self.chunk_n = chunk_n
        self.chunk_dense = chunk_dense
        self.info = info
        self.doc_row = {d: i for i, d in enumerate(table.doc_ids)}
        first = np.full(len(table.doc_ids), -1, dtype=np.int64)
        for i in range(len(chunk_doc) - 1, -1, -1):
            first[chunk_doc[i]] = i
        self.doc_first_chunk = first

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_doc)

    @property
    def n_docs(self) -> int:
        return len(self.table.doc_ids)

    def chunk_id(self, row: int) -> str:
        return f"{self.table.doc_ids[self.chunk_doc[row]]}#{self.chunk_n[row]}"

    def chunk_row(self, chunk_id: str) -> int | None:
        doc_id, _, n = chunk_id.rpartition("#")
        d = self.doc_row.get(doc_id)
        if d is None:
            return None
        first = int(self.doc_first_chunk[d])
        row = first + int(n)
        if 0 <= row < self.n_chunks and self.chunk_doc[row] == d:
            return row
        return None

    @staticmethod
    def _scores(model: Any, tokens: list[str], size: int) -> np.ndarray:
        known = [t for t in tokens if t in model.vocab_dict]
        if not known:
            return np.zeros(size, dtype=np.float32)
        return np.asarray(model.get_scores(known), dtype=np.float32)

    def text_scores(self, tokens: list[str]) -> np.ndarray:
        return self._scores(self.text_bm25, tokens, self.n_chunks)

    def code_scores(self, tokens: list[str]) -> np.ndarray:
        return self._scores(self.codes_bm25, tokens, self.n_docs)

    @classmethod
    def build(cls, store: DocStore, out_dir: Path, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Rebuild the lexical index from the document store into ``out_dir`` (atomic swap)."""
        import bm25s

        from retrieval.facets import document_facets

        t0 = time.perf_counter()
        doc_rows: list[tuple[str, str, str | None, dict[str, Any]]] = []
        code_corpus: list[list[str]] = []
        docs: dict[str, tuple[int, str, str]] = {}
        for d in store.iter_documents():
            facets = document_facets(d.source, d.kind, d.language, d.received_at, d.metadata, d.outcome)
            docs[d.id] = (len(doc_rows), d.language, d.header)
            doc_rows.append((d.id, d.fingerprint, d.received_at, facets))
            code_corpus.append(code_tokens(facets))
        chunk_doc: list[int] = []
        chunk_n: list[int] = []
        chunk_dense: list[bool] = []
        text_corpus: list[list[str]] = []
        query = (
            'SELECT c.document_id, c.n, c.start, c."end", c.dense, d.text FROM chunks c '
            "JOIN documents d ON d.id = c.document_id ORDER BY c.document_id, c.n"
        )
        for doc_id, n, start, end, dense, text in store.db.execute(query):
            row, lang, header = docs[doc_id]
            text_corpus.append(analyze(f"{header}\n{text[start:end]}", lang))
            chunk_doc.append(row)
            chunk_n.append(int(n))
            chunk_dense.append(bool(dense))
            if progress is not None:
                progress(1)
        if not text_corpus:
            raise StoreError("L'index est vide : aucun document n'a été indexé.")
        text_model = _bm25(text_corpus)
        codes_model = _bm25(code_corpus)
        table = build_facet_table(doc_rows)
        tmp = out_dir.with_name(out_dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        text_model.save(str(tmp / "text"), show_progress=False)
        codes_model.save(str(tmp / "codes"), show_progress=False)
        np.savez(tmp / "chunks.npz", doc=np.asarray(chunk_doc, dtype=np.int32),
                 n=np.asarray(chunk_n, dtype=np.int32), dense=np.asarray(chunk_dense, dtype=bool))
        with atomic_writer(tmp / "table.json") as fh:
            json.dump(table.to_json(), fh, ensure_ascii=False)
        info = {"format": FORMAT_VERSION, "documents": len(doc_rows), "chunks": len(chunk_doc),
                "dense_chunks": int(sum(chunk_dense)), "bm25s": bm25s.__version__,
                "seconds": round(time.perf_counter() - t0, 2)}
        with atomic_writer(tmp / "info.json") as fh:
            json.dump(info, fh)
        old = out_dir.with_name(out_dir.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
        return info

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        if not (directory / "info.json").exists():
            raise StoreError(
                f"Index lexical introuvable : {directory}. Construisez l'index avec « gdr index build »."
            )
        try:
            info = json.loads((directory / "info.json").read_text(encoding="utf-8"))
            text_model = bm25s.BM25.load(str(directory / "text"), show_progress=False)
            codes_model = bm25s.BM25.load(str(directory / "codes"), show_progress=False)
            arrays = np.load(directory / "chunks.npz")
            table = FacetTable.from_json(json.loads((directory / "table.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise StoreError(
                f"Index lexical corrompu : {directory} ({exc}). Reconstruisez-le avec « gdr index build »."
            ) from exc
        return cls(text_model, codes_model, table, arrays["doc"], arrays["n"], arrays["dense"], info)

