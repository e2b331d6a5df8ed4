"""Rank fusion and near-duplicate collapsing (pure functions)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)


def rrf(rankings: Sequence[Sequence[K]], k: int = 60, weights: Sequence[float] | None = None) -> dict[K, float]:
    """Reciprocal rank fusion: ``score(d) = Σ_i w_i / (k + rank_i(d))`` with ranks starting at 1."""
    weights = weights or [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + w / (k + rank)
    return scores


def rrf_impute(
    lexical: Sequence[int], dense: Sequence[int], has_vector: Sequence[bool] | np.ndarray | None, k: int = 60,
    weights: Sequence[float] = (1.0, 1.0),
) -> dict[int, float]:
    """RRF of a lexical and a dense ranking where passages without a vector are not penalised.

    Only some passages have dense vectors (see the dense policy). A passage without one cannot
    appear in the dense ranking, so its dense term is imputed from its lexical rank:
    ``(w_lex + w_dense) / (k + rank_lex)``. Passages with a vector get the plain RRF sum.
    """
    w_lex, w_dense = weights
    scores: dict[int, float] = {}
    for rank, row in enumerate(lexical, start=1):
        missing = has_vector is not None and not has_vector[row]
        scores[row] = (w_lex + (w_dense if missing else 0.0)) / (k + rank)
    for rank, row in enumerate(dense, start=1):
        scores[row] = scores.get(row, 0.0) + w_dense / (k + rank)
    return scores


def ranked(scores: Mapping[K, float]) -> list[K]:
    """Keys by decreasing score (ties broken by first insertion, i.e. deterministic)."""
    return [key for key, _ in sorted(scores.items(), key=lambda kv: -kv[1])]


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def collapse(
    items: Sequence[K],
    group: Mapping[K, str],
    fingerprint: Mapping[K, str],
    tokens: Mapping[K, frozenset[str]] | None = None,
    threshold: float = 0.9,
    min_tokens: int = 5,
) -> list[K]:
    """Keep the first item of each document, dropping near-duplicates of items already kept.

    Two items are near-duplicates when they belong to the same document (``group``), share a text
    ``fingerprint``, or (when ``tokens`` are given and both have at least ``min_tokens``) their
    token sets have a Jaccard similarity of at least ``threshold``.
    """
    kept: list[K] = []
    seen_groups: set[str] = set()
    seen_prints: set[str] = set()
    kept_tokens: list[frozenset[str]] = []
    for item in items:
        g = group[item]
        fp = fingerprint[item]
        if g in seen_groups or fp in seen_prints:
            continue
        toks = tokens.get(item) if tokens is not None else None
        if toks is not None and len(toks) >= min_tokens and any(
            len(other) >= min_tokens and jaccard(toks, other) >= threshold for other in kept_tokens
        ):
            continue
        kept.append(item)
        seen_groups.add(g)
        seen_prints.add(fp)
        if toks is not None:
            kept_tokens.append(toks)
    return kept
