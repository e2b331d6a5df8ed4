"""Pseudonymisation: recall and precision per entity type on the project's seeded FR/EN sentences.

Prints figures (not a test): ``python bench/pseudonymisation.py``. Two draws of the same templates:
seed 13 (the set the patterns were written against, also checked by the tests) and seed 2026 (drawn
afterwards, never used to change a pattern), each with the patterns alone (baseline, no NER) and with
the patterns plus spaCy's ``fr_core_news_sm`` names; then the time per sentence.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpora.pseudonymise import find_entities, spacy_names  # noqa: E402
from corpora.pseudonymise_eval import build_set, evaluate, table  # noqa: E402


def main() -> None:
    names = spacy_names()
    for seed, role in ((13, "mise au point, vérifié par les tests"), (2026, "tirage tenu à l'écart")):
        sentences = build_set(seed=seed, size=240)
        print(f"\n## graine {seed} ({role}) : {len(sentences)} phrases, "
              f"{sum(s.language == 'fr' for s in sentences)} en français")
        print("\nmotifs seuls (référence) :\n" + table(evaluate(sentences)))
        start = time.perf_counter()
        scores = evaluate(sentences, lambda text: find_entities(text, names))
        per = (time.perf_counter() - start) / len(sentences) * 1000
        print(f"\nmotifs + noms spaCy fr_core_news_sm ({per:.1f} ms par phrase) :\n" + table(scores))
    sample_false_positives(names)


def sample_false_positives(names: object) -> None:
    """Spans found in the 43 bundled sample dossiers, which hold no personal data (all are false positives)."""
    import json

    from assistant.settings import BUNDLED_SAMPLE_DIR

    rows = [json.loads(line) for line in (BUNDLED_SAMPLE_DIR / "dossiers.jsonl").read_text("utf-8").splitlines()]
    spans = [s for r in rows for s in find_entities(f"{r['title']}\n{r['text']}", names)]  # type: ignore[arg-type]
    chars = sum(len(r["text"]) for r in rows)
    size = f"{chars:,}".replace(",", " ")
    print(f"\nfaux positifs sur les {len(rows)} dossiers de l'échantillon (aucune donnée personnelle, "
          f"{size} caractères) : {len(spans)}")


if __name__ == "__main__":
    main()
