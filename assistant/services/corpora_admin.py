"""Corpus administration: counts per source (``gdr corpora stats``) and downloads (``gdr corpora fetch``).

Thin orchestration over :mod:`corpora.catalog` and :mod:`corpora.fetch`; no printing here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from corpora.errors import GdrError, InputError
from corpora.loaders.base import LoadReport


@dataclass
class SourceStats(LoadReport):
    """What one source holds: its :class:`LoadReport` (rows read, written, skipped with French reasons),
    the source's kind, unit and folder, and its French error when its files are unreadable."""

    kind: str = ""
    unit: str = ""
    folder: str = "."
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """One JSON line of ``gdr corpora stats --json`` (files counted, seconds to the hundredth)."""
        return {
            "source": self.source,
            "kind": self.kind,
            "unit": self.unit,
            "folder": self.folder,
            "read": self.read,
            "written": self.written,
            "skipped_total": self.skipped_total,
            "skipped": dict(self.skipped),
            "seconds": round(self.seconds, 2),
            "files": len(self.files),
            "error": self.error,
        }


def default_corpora_dir(settings: Settings) -> Path:
    """The corpora dir of the settings (``GDR_CORPORA_DIR``), else the bundled sample."""
    return settings.effective_corpora_dir


def default_fetch_dest(settings: Settings) -> Path:
    """Where ``fetch`` writes by default: ``GDR_CORPORA_DIR`` when set, else ``<data dir>/corpora``."""
    return settings.corpora_dir if settings.corpora_dir is not None else settings.data_dir / "corpora"


def _count(corpora_dir: Path, source: str, report: LoadReport, vaers_years: Sequence[int] | None) -> None:
    from corpora import catalog

    if source == "vaers":
        # Same loader as `gdr corpora convert vaers` (so the same counts), without building documents.
        from corpora.loaders.vaers import iter_vaers_records

        paths = catalog.vaers_zip_paths(corpora_dir, vaers_years)
        for _ in iter_vaers_records(paths, report):
            pass
        return
    reports: dict[str, LoadReport] = {}
    for _ in catalog.iter_documents(corpora_dir, sources=[source], reports=reports, vaers_years=vaers_years):
        pass
    report.merge(reports[source])


def corpora_stats(
    corpora_dir: Path,
    sources: Sequence[str] | None = None,
    vaers_years: Sequence[int] | None = None,
    on_source: Callable[[SourceStats], None] | None = None,
) -> list[SourceStats]:
    """Count every source present in ``corpora_dir`` (or the ones named), source by source.

    A source whose files are unreadable gets its French error in ``error``; the others are still
    counted.
    """
    from corpora import catalog

    corpora_dir = Path(corpora_dir)
    if not corpora_dir.is_dir():
        raise InputError(f"Dossier des corpus introuvable : {corpora_dir}")
    names = catalog.check_sources(sources) if sources else catalog.available_sources(corpora_dir)
    if sources:
        missing = [n for n in names if not catalog.REGISTRY[n].present(corpora_dir)]
        if missing:
            raise InputError(f"Source(s) absente(s) de {corpora_dir} : {', '.join(missing)}.")
    if not names:
        raise InputError(
            f"Aucun corpus reconnu dans {corpora_dir} (dossiers attendus : vaers, bdpm, has, ema, "
            "ansm_interactions, ctgov_stopped, ou dossiers.jsonl)."
        )
    out: list[SourceStats] = []
    for name in names:
        spec = catalog.REGISTRY[name]
        stats = SourceStats(source=name, kind=spec.kind, unit=spec.unit_fr, folder=spec.folder or ".")
        try:
            _count(corpora_dir, name, stats, vaers_years)
        except GdrError as exc:
            stats.error = exc.message
        out.append(stats.finish())
        if on_source is not None:
            on_source(stats)
    return out


def fetch(
    dest: Path,
    mirror: str | None = None,
    only: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> Any:
    """Download (or copy from a mirror) and verify the corpora files; see :mod:`corpora.fetch`."""
    from corpora.fetch import DEFAULT_TIMEOUT_S, fetch_corpora

    return fetch_corpora(Path(dest), mirror=mirror, only=only, progress=progress,
                         timeout=timeout or DEFAULT_TIMEOUT_S)
