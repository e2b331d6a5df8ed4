"""Benchmark of batch triage: dossiers per second, without and with precedents.

Usage (from the repository root)::

    GDR_CORPORA_DIR=../shared/corpora .venv/bin/python bench/triage.py [--n 2000] [--workers 2]
        [--input FILE.jsonl] [--precedents-n 100]

Input: a converted JSON Lines file, else the first N reports of the latest VAERS year of
the corpora dir, else the bundled sample repeated. Uses the models and index found under
GDR_DATA_DIR (criteria only when none). Prints one line per configuration.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _dossiers(settings, path: str | None, n: int) -> list:  # type: ignore[no-untyped-def]
    from corpora.io import iter_jsonl
    from corpora.loaders.base import LoadReport
    from corpora.model import dossier_from_json

    if path:
        return [dossier_from_json(o) for _, o, _ in itertools.islice(iter_jsonl(path), n) if o]
    if settings.uses_real_corpora:
        from classifier.training import vaers_year_paths
        from corpora.loaders.vaers import iter_vaers_records

        paths = vaers_year_paths(settings.corpora_dir)
        latest = paths[max(paths)]
        return [r.dossier for r in iter_vaers_records([latest], LoadReport(source="vaers"), limit=n)]
    from corpora.loaders.sample import iter_sample_records

    sample = [r.dossier for r in iter_sample_records()]
    return [d.model_copy(update={"id": f"{d.id}-{i}"}) for i, d in zip(range(n), itertools.cycle(sample))]


def _run(settings, dossiers, precedents: bool, workers: int) -> float:  # type: ignore[no-untyped-def]
    """Steady-state rate: the clock starts once the first result is out (models, knowledge base and
    process pool loaded), so start-up is reported apart."""
    from assistant.services.triage import triage_dossiers

    start = time.perf_counter()
    first = None
    count = 0
    for _ in triage_dossiers(settings, dossiers, with_precedents=precedents, workers=workers,
                             chunk_size=128):
        count += 1
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    assert first is not None
    print(f"  (démarrage {first - start:.1f} s, {count} dossiers en {end - start:.1f} s au total)")
    return (count - 1) / max(end - first, 1e-9)


def main() -> None:
    from assistant.services.classifier import load_models
    from assistant.settings import get_settings

    ap = argparse.ArgumentParser(description="Débit du tri par lots (dossiers/s).")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--precedents-n", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--input")
    args = ap.parse_args()
    settings = get_settings()
    dossiers = _dossiers(settings, args.input, args.n)
    models = load_models(settings)
    version = getattr(models["pv"], "version", "?")
    print(f"modèle PV : {version} ; {len(dossiers)} dossiers ; {args.workers} processus")
    for workers in sorted({1, args.workers}):
        rate = _run(settings, dossiers, False, workers)
        print(f"sans précédents, {workers} processus : {rate:.1f} dossiers/s")
    rate = _run(settings, dossiers[: args.precedents_n], True, args.workers)
    print(f"avec précédents ({args.precedents_n} dossiers), {args.workers} processus : {rate:.1f} dossiers/s")


if __name__ == "__main__":
    main()
