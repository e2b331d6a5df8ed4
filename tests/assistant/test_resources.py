"""The application's resources: one open retriever (reopened when the index changes), models reloaded when retrained."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from assistant.services.resources import INDEX_MISSING, Resources
from assistant.settings import Settings, get_settings
from corpora.errors import StoreError


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return get_settings(data_dir=tmp_path / "var", corpora_dir=None, database_url=None,
                        retrieval={"embedder": "fake"}, classifier={"model": "auto"})


def _build(settings: Settings, limit: int) -> None:
    from assistant.services.retrieval import build

    build(settings, sources=["referentiel"], limit=limit, progress=False)


def test_no_index_is_a_french_store_error(settings: Settings) -> None:
    with Resources(settings) as resources, pytest.raises(StoreError) as error, resources.retriever():
        pass
    assert error.value.message == INDEX_MISSING


def test_one_retriever_reopened_when_the_index_is_rebuilt(settings: Settings) -> None:
    _build(settings, 3)
    with Resources(settings) as resources:
        with resources.retriever() as first:
            assert first.search("décès", k=1)
        with resources.retriever() as again:
            assert again is first
        _build(settings, 6)
        with resources.retriever() as rebuilt:
            assert rebuilt is not first and rebuilt.store.counts()["documents"] == 6
        resources.close()
        with resources.retriever() as reopened:
            assert reopened is not rebuilt


def test_callers_take_turns_on_the_retriever(settings: Settings) -> None:
    _build(settings, 3)
    inside, overlaps = [0], []
    lock = threading.Lock()

    def use(resources: Resources) -> None:
        with resources.retriever():
            with lock:
                inside[0] += 1
                overlaps.append(inside[0])
            time.sleep(0.02)
            with lock:
                inside[0] -= 1

    with Resources(settings) as resources:
        threads = [threading.Thread(target=use, args=(resources,)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert overlaps == [1] * 6


def test_models_loaded_once_and_reloaded_when_retrained(settings: Settings) -> None:
    from classifier.artefacts import save_artefact
    from classifier.models import CriteriaOnlyModel

    with Resources(settings) as resources:
        models = resources.models()
        assert resources.models() is models and models["pv"].version.startswith("criteria-only")
        save_artefact(settings.models_dir, "pv", "pv-test-1", CriteriaOnlyModel(), {"version": "pv-test-1"}, "# x")
        reloaded = resources.models()
        assert reloaded is not models and reloaded["pv"].version == "pv-test-1"
        assert resources.models() is reloaded
