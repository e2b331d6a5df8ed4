"""Where everything GDR Santé writes lives under its data dir: the one place that computes the layout.

The application settings (``Settings.layout``) and the retrieval library's configuration (a
``RetrievalConfig`` is a ``DataLayout``) both use it, so the index, models, caches and reports are found
where they were written whoever asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataLayout:
    """The folders and files under one data dir (``GDR_DATA_DIR``, ``var`` by default)."""

    data_dir: Path = Path("var")

    @property
    def index_dir(self) -> Path:
        """The retrieval index: ``docs.sqlite``, ``lexical/`` and ``chroma/``."""
        return self.data_dir / "index"

    @property
    def docstore_path(self) -> Path:
        return self.index_dir / "docs.sqlite"

    @property
    def lexical_dir(self) -> Path:
        return self.index_dir / "lexical"

    @property
    def chroma_dir(self) -> Path:
        return self.index_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        """Trained risk models, one folder per dossier type and version."""
        return self.data_dir / "models"

    @property
    def cache_dir(self) -> Path:
        """Caches that can be deleted and rebuilt (knowledge base, embeddings)."""
        return self.data_dir / "cache"

    @property
    def signal_counts_path(self) -> Path:
        """Monthly report counts per vaccine type × coded term, for disproportionality (rebuildable)."""
        return self.data_dir / "signal" / "vaers-counts.sqlite"

    @property
    def embeddings_cache_dir(self) -> Path:
        return self.cache_dir / "embeddings"

    @property
    def reports_dir(self) -> Path:
        """Evaluation reports written by the commands."""
        return self.data_dir / "reports"

    @property
    def eval_dir(self) -> Path:
        """The small indexes of the retrieval evaluation, one folder per labelled set."""
        return self.data_dir / "eval"

    @property
    def auth_dir(self) -> Path:
        """The token signing key created on first start when none is configured."""
        return self.data_dir / "auth"

    @property
    def sqlite_path(self) -> Path:
        """The default database (SQLite) when no database URL is set."""
        return self.data_dir / "gdr.sqlite3"
