"""Fixtures of the retrieval tests (fake embedder, temporary data dir)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from retrieval_fixtures import DOCS

from retrieval.config import RetrievalConfig
from retrieval.indexing import build_index


@pytest.fixture()
def make_config(tmp_path: Path) -> Callable[..., RetrievalConfig]:
    def make(**kw: object) -> RetrievalConfig:
        values: dict[str, object] = {"data_dir": tmp_path / "var", "embedder": "fake", "threads": 1,
                                     "dense_vaers_since_year": 2000}
        values.update(kw)
        return RetrievalConfig(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture()
def built(make_config: Callable[..., RetrievalConfig]) -> RetrievalConfig:
    config = make_config()
    build_index(config, DOCS, progress=False)
    return config


