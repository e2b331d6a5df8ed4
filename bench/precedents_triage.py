"""Precedents as users get them: VAERS reports through ``gdr triage``, scored on the precedents of its output.

Prints figures (not a test). Run after ``gdr run`` (its index and trained PV model), for example::

    gdr corpora convert vaers ../shared/corpora/vaers/2004VAERSData.zip --out vaers-2004.jsonl
    python bench/precedents_triage.py vaers-2004.jsonl

Queries: every ``--every``-th report that has a vaccine type and a coded reaction, at most ``--n``. Labels
(as ``gdr eval retrieval``): P@5 on ≥ 2 shared coded symptoms, recorded seriousness equal to the query's,
same age band. Baseline in the same run, on the same index: BM25 on the report's title and narrative,
filtered on its vaccine types, the report itself and documents received on or after it dropped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.services.resources import Resources  # noqa: E402
from assistant.settings import get_settings  # noqa: E402
from corpora.loaders.cases import is_serious  # noqa: E402
from retrieval.facets import age_band, norm_word  # noqa: E402


def labels(query: dict[str, Any], docs: list[Any]) -> tuple[float, list[bool], list[bool]]:
    """P@5 on ≥ 2 shared symptoms, seriousness agreement and same age band of one query's precedents."""
    symptoms = {norm_word(s) for s in query["fields"]["symptoms"]}
    band = age_band(query["fields"].get("patient_age"))
    serious = is_serious(query.get("outcome") or {})
    shared = sum(len(symptoms & {norm_word(s) for s in str(d.metadata.get("symptoms") or "").split("|") if s}) >= 2
                 for d in docs)
    ages = [age_band(d.metadata.get("age") or d.metadata.get("patient_age")) == band for d in docs] if band else []
    return shared / 5, [is_serious(d.outcome or {}) == serious for d in docs], ages


def main() -> None:
    ap = argparse.ArgumentParser(description="Précédents de gdr triage à côté de BM25 + filtre vaccin.")
    ap.add_argument("input", type=Path, help="JSON Lines de gdr corpora convert vaers")
    ap.add_argument("--every", type=int, default=20, help="un signalement sur N (défaut 20)")
    ap.add_argument("--n", type=int, default=300, help="au plus N requêtes (défaut 300)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.input.read_text(encoding="utf-8").splitlines() if line.strip()]
    queries = [d for d in rows if d["fields"].get("vaccine_types") and d["fields"].get("symptoms")]
    queries = queries[:: args.every][: args.n]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as fh:
        fh.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in queries)
    gdr = Path(sys.executable).with_name("gdr")
    start = time.perf_counter()
    done = subprocess.run([str(gdr), "triage", fh.name, "--json", "--workers", str(args.workers)],
                          capture_output=True, text=True, check=True)
    print(f"gdr triage : {len(queries)} signalements en {time.perf_counter() - start:.0f} s")
    results = {r["id"]: r for r in (json.loads(line) for line in done.stdout.splitlines())}
    scores: dict[str, tuple[list[float], list[bool], list[bool]]] = {
        "gdr triage": ([], [], []), "BM25 + filtre vaccin": ([], [], [])}
    with Resources(get_settings()) as resources, resources.retriever() as retriever:
        for q in queries:
            received = date.fromisoformat(q["received_at"])
            hits = retriever.search(f"{q['title']}\n{q['text']}"[:10_000], k=30, method="lexical",
                                    filters={"type": "pv", "vaccine_type": q["fields"]["vaccine_types"]})
            base = [d for d in (retriever.get_document(h.document_id) for h in hits)
                    if d.id != q["id"] and d.received_at is not None and d.received_at < received][:5]
            ours = [retriever.get_document(h["document_id"]) for h in results[q["id"]].get("precedents", [])]
            for name, docs in (("gdr triage", ours), ("BM25 + filtre vaccin", base)):
                p5, serious, ages = labels(q, docs)
                scores[name][0].append(p5)
                scores[name][1].extend(serious)
                scores[name][2].extend(ages)
    print("| méthode | P@5 (≥ 2 symptômes partagés) | gravité concordante | même tranche d'âge |")
    print("|---|---:|---:|---:|")
    for name, (p5, serious, ages) in scores.items():
        print(f"| {name} | {sum(p5) / len(p5):.3f} | {sum(serious) / max(len(serious), 1):.3f} | "
              f"{sum(ages) / max(len(ages), 1):.3f} |")


if __name__ == "__main__":
    main()
