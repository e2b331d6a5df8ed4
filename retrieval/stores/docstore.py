"""SQLite document store: each document's stored text, metadata and outcome, its chunks, the build journal.

Hits resolve their ids and offsets here: ``text[start:end]`` of the stored text is the excerpt.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpora.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, kind TEXT NOT NULL, dossier_type TEXT,
    title TEXT NOT NULL, text TEXT NOT NULL, header TEXT NOT NULL, metadata TEXT NOT NULL,
    language TEXT NOT NULL, received_at TEXT, outcome TEXT, content_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL, n_chunks INTEGER NOT NULL, dense INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, document_id TEXT NOT NULL, n INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, dense INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(document_id);
CREATE TABLE IF NOT EXISTS journal (
    batch INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, documents INTEGER NOT NULL,
    chunks INTEGER NOT NULL, dense INTEGER NOT NULL, last_id TEXT
);
"""


@dataclass(frozen=True)
class StoredDocument:
    id: str
    source: str
    kind: str
    dossier_type: str | None
    title: str
    text: str
    header: str
    metadata: dict[str, Any]
    language: str
    received_at: str | None
    outcome: dict[str, Any] | None
    content_hash: str
    fingerprint: str
    n_chunks: int
    dense: bool


@dataclass(frozen=True)
class ChunkRow:
    id: str
    document_id: str
    n: int
    start: int
    end: int
    dense: bool


class DocStore:
    """Thin wrapper over one SQLite file; every write happens inside an explicit transaction."""

    def __init__(self, path: Path, create: bool = False) -> None:
        self.path = path
        if not create and not path.exists():
            raise StoreError(
                f"Index introuvable : {path.parent}. Construisez-le d'abord avec « gdr index build »."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if create:
                self.db.executescript(SCHEMA)
            else:
                tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if not {"documents", "chunks", "meta"} <= tables:
                    raise StoreError(
                        f"Index corrompu ou incomplet : {path}. Reconstruisez-le avec « gdr index build --reset »."
                    )
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"Index corrompu : {path} n'est pas une base SQLite lisible ({exc}). "
                "Reconstruisez-le avec « gdr index build --reset »."
            ) from exc

    def close(self) -> None:
        self.db.close()

    # -- meta
    def get_meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    # -- transactions
    def transaction(self) -> Any:
        db = self.db

        class _Tx:
            def __enter__(self) -> None:
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type: Any, *_: Any) -> None:
                db.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

    # -- documents
    def states(self, ids: Sequence[str]) -> dict[str, tuple[str, int, bool]]:
        """``id → (content_hash, n_chunks, dense)`` for the ids already stored."""
        out: dict[str, tuple[str, int, bool]] = {}
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            marks = ",".join("?" * len(part))
            for row in self.db.execute(
                f"SELECT id, content_hash, n_chunks, dense FROM documents WHERE id IN ({marks})", part
            ):
                out[row[0]] = (row[1], int(row[2]), bool(row[3]))
        return out

    def write_batch(self, docs: Sequence[StoredDocument], chunks: Sequence[ChunkRow], dense_count: int) -> None:
        """Replace these documents and their chunks, and journal the batch, in one transaction."""
        with self.transaction():
            for d in docs:
                self.db.execute("DELETE FROM chunks WHERE document_id = ?", (d.id,))
            self.db.executemany(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (d.id, d.source, d.kind, d.dossier_type, d.title, d.text, d.header,
                     json.dumps(d.metadata, ensure_ascii=False, default=str), d.language, d.received_at,
                     None if d.outcome is None else json.dumps(d.outcome, ensure_ascii=False, default=str),
                     d.content_hash, d.fingerprint, d.n_chunks, int(d.dense))
                    for d in docs
                ],
            )
            self.db.executemany(
                'INSERT OR REPLACE INTO chunks (id, document_id, n, start, "end", dense) VALUES (?,?,?,?,?,?)',
                [(c.id, c.document_id, c.n, c.start, c.end, int(c.dense)) for c in chunks],
            )
            self.db.execute(
                "INSERT INTO journal (at, documents, chunks, dense, last_id) VALUES (?,?,?,?,?)",
                (time.time(), len(docs), len(chunks), dense_count, docs[-1].id if docs else None),
            )

    def _doc(self, row: tuple[Any, ...]) -> StoredDocument:
        return StoredDocument(
            id=row[0], source=row[1], kind=row[2], dossier_type=row[3], title=row[4], text=row[5],
            header=row[6], metadata=json.loads(row[7]), language=row[8], received_at=row[9],
            outcome=None if row[10] is None else json.loads(row[10]), content_hash=row[11],
            fingerprint=row[12], n_chunks=int(row[13]), dense=bool(row[14]),
        )

    def get(self, doc_id: str) -> StoredDocument | None:
        row = self.db.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return None if row is None else self._doc(row)

    def get_many(self, ids: Sequence[str]) -> dict[str, StoredDocument]:
        out: dict[str, StoredDocument] = {}
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            marks = ",".join("?" * len(part))
            for row in self.db.execute(f"SELECT * FROM documents WHERE id IN ({marks})", part):
                doc = self._doc(row)
                out[doc.id] = doc
        return out

    def iter_documents(self) -> Iterator[StoredDocument]:
        for row in self.db.execute("SELECT * FROM documents ORDER BY id"):
            yield self._doc(row)

    def iter_metadata(self, sources: Sequence[str]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """``(id, source, title, metadata)`` of every document of ``sources`` (no text: cheap to scan)."""
        marks = ",".join("?" * len(sources))
        query = f"SELECT id, source, title, metadata FROM documents WHERE source IN ({marks}) ORDER BY id"
        for row in self.db.execute(query, list(sources)):
            yield row[0], row[1], row[2], json.loads(row[3])

    def counts(self) -> dict[str, int]:
        docs = self.db.execute("SELECT COUNT(*), COALESCE(SUM(dense), 0) FROM documents").fetchone()
        chunks = self.db.execute("SELECT COUNT(*), COALESCE(SUM(dense), 0) FROM chunks").fetchone()
        return {"documents": int(docs[0]), "dense_documents": int(docs[1]),
                "chunks": int(chunks[0]), "dense_chunks": int(chunks[1])}

    def counts_by_source(self) -> dict[str, tuple[int, int]]:
        rows = self.db.execute("SELECT source, COUNT(*), SUM(dense) FROM documents GROUP BY source ORDER BY source")
        return {r[0]: (int(r[1]), int(r[2] or 0)) for r in rows}
