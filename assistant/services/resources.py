"""Resources a process keeps open for its services (API, chat, ``gdr ask``): the retriever.

Framework-free: :func:`assistant.api.app.create_app` and the CLI build one and hand it to services.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from assistant.settings import Settings
from corpora.errors import StoreError

if TYPE_CHECKING:
    from retrieval.search import Retriever

INDEX_MISSING = "Index de recherche absent : lancez « gdr index build »."


class RetrieverCache:
    """One open :class:`~retrieval.search.Retriever` per process, reopened when the index changes.

    Opening an index (lexical arrays, document store) and loading the encoder costs seconds;
    the API keeps them open. Calls are serialised by a lock (the stores are not thread-safe).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._retriever: Retriever | None = None

    def _index_key(self) -> tuple[Any, ...] | None:
        index_dir = self.settings.index_dir
        if not index_dir.is_dir():
            return None
        parts: list[Any] = []
        for path in (self.settings.layout.docstore_path, self.settings.layout.lexical_dir):
            if not path.exists():
                return None
            parts.append(path.stat().st_mtime_ns)
            if path.is_dir():
                parts += sorted((p.name, p.stat().st_mtime_ns) for p in path.iterdir())
        return tuple(parts)

    @property
    def key(self) -> tuple[Any, ...] | None:
        """Identity of the index currently open (changes when it is rebuilt)."""
        return self._key

    @contextmanager
    def use(self) -> Iterator[Retriever]:
        """The open retriever (a French 409 when no index was built)."""
        from assistant.services.retrieval import open_retriever

        with self._lock:
            key = self._index_key()
            if key is None:
                self.close_unlocked()
                raise StoreError(INDEX_MISSING)
            if self._retriever is None or key != self._key:
                self.close_unlocked()
                self._retriever = open_retriever(self.settings)
                self._key = key
            yield self._retriever

    def close_unlocked(self) -> None:
        if self._retriever is not None:
            self._retriever.close()
        self._retriever = None
        self._key = None

    def close(self) -> None:
        with self._lock:
            self.close_unlocked()
