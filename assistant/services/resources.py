"""What the application keeps open between calls: the retriever, the risk models, the knowledge base.

One :class:`Resources` per application, created by its composition root (``create_app(settings)``
for the API and the chat it mounts, each ``gdr`` command for itself) and handed to the services
(triage, search, the conversation service).
Each part is opened on first use and reopened when its files change (index rebuilt, model
retrained); ``close()`` releases them. Thread-safe: the API and the chat call the services from
worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from assistant.settings import Settings
from corpora.errors import StoreError

if TYPE_CHECKING:
    from classifier.knowledge_base import KnowledgeBase
    from classifier.signal_counts import SignalCounts
    from retrieval.config import RetrievalConfig
    from retrieval.duplicates import BlockIndex
    from retrieval.search import Retriever

INDEX_MISSING = "Index de recherche absent : lancez « gdr index build »."


class Resources:
    """The application's open retriever, risk models and knowledge base (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # The retriever's stores (SQLite, Chroma) are not thread-safe: one thread at a time. Reentrant,
        # so that a service using the retriever may call another that does (the chat triages a dossier).
        self._retriever_lock = threading.RLock()
        self._retriever_depth = 0
        self._retriever: Retriever | None = None
        self._config: RetrievalConfig | None = None
        self._index_key: tuple[Any, ...] | None = None
        # Models and knowledge base are read-only once loaded: the lock only guards their loading.
        self._load_lock = threading.Lock()
        self._models: dict[str, Any] | None = None
        self._models_key: tuple[str | None, ...] | None = None
        self._knowledge_base: KnowledgeBase | None = None
        self._signal_counts: SignalCounts | None = None
        self._signal_loaded = False
        # Blocking index of the indexed PV history (duplicate reports), rebuilt with the index.
        self._duplicates: BlockIndex | None = None
        self._duplicates_key: tuple[Any, ...] | None = None

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ retriever

    def _retrieval_config(self) -> RetrievalConfig:
        if self._config is None:
            from assistant.services.retrieval import retrieval_config

            self._config = retrieval_config(self.settings)
        return self._config

    def _current_index_key(self) -> tuple[Any, ...] | None:
        """Modification times of the index files (None when no index was built)."""
        layout = self.settings.layout
        if not layout.docstore_path.is_file():
            return None
        parts: list[Any] = [layout.docstore_path.stat().st_mtime_ns]
        if layout.lexical_dir.is_dir():
            parts += sorted((p.name, p.stat().st_mtime_ns) for p in layout.lexical_dir.iterdir())
        return tuple(parts)

    @contextmanager
    def retriever(self) -> Iterator[Retriever]:
        """The open retriever for the duration of the block (callers take turns).

        StoreError when no index was built, or when it is corrupted or built for another encoder
        (the retrieval library says which).
        """
        from retrieval.search import Retriever

        with self._retriever_lock:
            if self._retriever_depth == 0:  # never reopened under an outer caller's feet
                key = self._current_index_key()
                if key is None:
                    self._close_retriever()
                    raise StoreError(INDEX_MISSING)
                if self._retriever is None or key != self._index_key:
                    self._close_retriever()
                    self._retriever = Retriever.open(self._retrieval_config())
                    self._index_key = key
            retriever = self._retriever
            assert retriever is not None
            self._retriever_depth += 1
            try:
                yield retriever
            finally:
                self._retriever_depth -= 1

    @property
    def index_key(self) -> tuple[Any, ...] | None:
        """Identity of the index currently open (changes when it is rebuilt); None before the first use."""
        return self._index_key

    def _close_retriever(self) -> None:
        if self._retriever is not None:
            self._retriever.close()
        self._retriever = None
        self._index_key = None

    # ------------------------------------------------------------------ models and knowledge base

    def models(self) -> dict[str, Any]:
        """The risk model of each dossier type (see :func:`assistant.services.classifier.load_models`)."""
        from assistant.services.classifier import TRAINABLE, load_models
        from classifier.artefacts import latest_version

        key = tuple(latest_version(self.settings.models_dir, t) for t in TRAINABLE)
        with self._load_lock:
            if self._models is None or key != self._models_key:
                self._models = load_models(self.settings)
                self._models_key = key
            return self._models

    def knowledge_base(self) -> KnowledgeBase:
        """Facts of the public databases for the context (empty without real corpora)."""
        from classifier.knowledge_base import build_knowledge_base

        with self._load_lock:
            if self._knowledge_base is None:
                self._knowledge_base = build_knowledge_base(self.settings.effective_corpora_dir,
                                                            self.settings.cache_dir)
            return self._knowledge_base

    def signal_counts(self) -> SignalCounts | None:
        """Monthly VAERS counts for disproportionality, built on first use when ``gdr run`` has not (None
        without a VAERS corpus)."""
        from classifier.signal_counts import open_counts

        with self._load_lock:
            if not self._signal_loaded:
                self._signal_counts = open_counts(self.settings.effective_corpora_dir / "vaers",
                                                  self.settings.layout.signal_counts_path)
                self._signal_loaded = True
            return self._signal_counts

    def duplicate_history(self, retriever: Retriever) -> BlockIndex:
        """Blocking index of the indexed PV reports, for duplicate lookups; call inside ``retriever()``."""
        from retrieval.duplicates import history_index

        with self._load_lock:
            if self._duplicates is None or self._duplicates_key != self._index_key:
                self._duplicates = history_index(retriever.store)
                self._duplicates_key = self._index_key
            return self._duplicates

    def close(self) -> None:
        """Release the open index and counts (models and knowledge base are plain objects, dropped with this)."""
        with self._retriever_lock:
            self._close_retriever()
        with self._load_lock:
            if self._signal_counts is not None:
                self._signal_counts.close()
            self._signal_counts = None
            self._signal_loaded = False
