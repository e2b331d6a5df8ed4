"""Dependencies injected into the routes (typed aliases for ``Depends``) and the shared retriever."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from assistant.services.resources import INDEX_MISSING, RetrieverCache
from assistant.settings import Settings

__all__ = ["INDEX_MISSING", "RetrieverCache", "SessionDep", "SettingsDep"]


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def get_retrievers(request: Request) -> RetrieverCache:
    cache: RetrieverCache = request.app.state.retrievers
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
RetrieversDep = Annotated[RetrieverCache, Depends(get_retrievers)]
