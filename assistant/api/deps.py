"""Dependencies injected into the routes (typed aliases for ``Depends``) and the shared retriever."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from assistant.settings import Settings
from corpora.errors import StoreError

if TYPE_CHECKING:
    from retrieval.search import Retriever

INDEX_MISSING = "Index de recherche absent : lancez « gdr index build »."


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


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
        for path in (index_dir / "docs.sqlite", index_dir / "lexical"):
            if not path.exists():
                return None
            parts.append(path.stat().st_mtime_ns)
            if path.is_dir():
                parts += sorted((p.name, p.stat().st_mtime_ns) for p in path.iterdir())
        return tuple(parts)

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


def get_retrievers(request: Request) -> RetrieverCache:
    cache: RetrieverCache = request.app.state.retrievers
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
RetrieversDep = Annotated[RetrieverCache, Depends(get_retrievers)]
