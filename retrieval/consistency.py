"""Similar situations: which dossiers tell the same story (pure), for the consistency monitor.

« À situation égale, traitement égal » : two dossiers are compared by the TF-IDF cosine of their
*situation*: the title and narrative words, plus one token per structured fact an evaluator weighs
(product or vaccine type, substance, ATC, coded reaction term, age band, sex, procedure…). Pairs at
or above a similarity are returned, best first; the monitor keeps those whose decisions differ.
The product of the sparse matrix with itself is taken by blocks of rows, so a few tens of thousands
of dossiers are compared in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from retrieval.facets import age_band, norm_code, norm_word

DEFAULT_MIN_SIMILARITY = 0.5
BLOCK_ROWS = 1000
_FIELD_TOKENS = ("procedure", "application_type", "therapeutic_area", "inn", "phase", "trial_phase")


def _tokens(prefix: str, values: Any) -> list[str]:
    if values is None:
        return []
    items = values if isinstance(values, list | tuple) else [values]
    out = []
    for v in items:
        code = norm_code(str(v)) if v is not None else ""
        if code:
            out.append(f"{prefix}{code}".lower())
    return out


def situation_text(dossier: Mapping[str, Any]) -> str:
    """Words of the title and narrative, then tokens of the structured facts (``dossier`` as JSON)."""
    fields = dossier.get("fields") or {}
    products = fields.get("products") or []
    facts: list[str] = []
    facts += _tokens("zvt", fields.get("vaccine_types"))
    facts += _tokens("zvt", [p.get("vaccine_type") for p in products if isinstance(p, dict)])
    facts += _tokens("zsub", fields.get("substances"))
    facts += _tokens("zsub", [s for p in products if isinstance(p, dict) for s in p.get("substances") or []])
    facts += _tokens("zatc", fields.get("atc_codes"))
    facts += _tokens("zsym", fields.get("symptoms"))
    facts += _tokens("zsex", fields.get("patient_sex"))
    band = age_band(fields.get("patient_age"))
    if band:
        facts.append(f"zage{norm_code(band)}".lower())
    for name in _FIELD_TOKENS:
        facts += _tokens(f"z{name.replace('_', '')}", fields.get(name))
    words = norm_word(f"{dossier.get('title') or ''} {dossier.get('text') or ''}")
    return f"{words} {' '.join(facts)}".strip()


def similar_pairs(texts: Sequence[str], min_similarity: float = DEFAULT_MIN_SIMILARITY,
                  keep: Callable[[int, int], bool] | None = None) -> list[tuple[int, int, float]]:
    """``(i, j, cosine)`` with ``i < j`` and cosine ≥ ``min_similarity``, best first; ``keep(i, j)`` filters."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < 2 or not any(t.strip() for t in texts):
        return []
    matrix = TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w\w+\b").fit_transform(
        [t or "" for t in texts])
    out: list[tuple[int, int, float]] = []
    for start in range(0, matrix.shape[0], BLOCK_ROWS):
        block = (matrix[start:start + BLOCK_ROWS] @ matrix.T).tocoo()
        for r, j, value in zip(block.row, block.col, block.data, strict=True):
            i = start + int(r)
            j = int(j)
            if i < j and value >= min_similarity and (keep is None or keep(i, j)):
                out.append((i, j, round(float(value), 4)))
    out.sort(key=lambda t: (-t[2], t[0], t[1]))
    return out
