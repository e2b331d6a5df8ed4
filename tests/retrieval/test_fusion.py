from __future__ import annotations

import pytest

from retrieval.fusion import collapse, jaccard, ranked, rrf, rrf_impute


def test_rrf_sums_reciprocal_ranks() -> None:
    scores = rrf([["a", "b"], ["b", "c"]], k=60)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert ranked(scores) == ["b", "a", "c"]


def test_rrf_weights() -> None:
    scores = rrf([["a"], ["b"]], k=0, weights=[1.0, 3.0])
    assert ranked(scores) == ["b", "a"]
    with pytest.raises(ValueError):
        rrf([["a"]], weights=[1.0, 2.0])


def test_rrf_impute_does_not_penalise_passages_without_vectors() -> None:
    # row 0 has no vector: it cannot be in the dense ranking, its dense term is imputed.
    has_vector = [False, True, True]
    scores = rrf_impute([0, 1], [2, 1], has_vector, k=60)
    assert scores[0] == pytest.approx(2 / 61)
    assert scores[1] == pytest.approx(1 / 62 + 1 / 62)
    assert scores[2] == pytest.approx(1 / 61)


def test_collapse_same_document_fingerprint_and_jaccard() -> None:
    items = ["d1#0", "d1#1", "d2#0", "d3#0", "d4#0"]
    group = {"d1#0": "d1", "d1#1": "d1", "d2#0": "d2", "d3#0": "d3", "d4#0": "d4"}
    prints = {"d1#0": "x", "d1#1": "x", "d2#0": "x", "d3#0": "y", "d4#0": "z"}
    toks = {i: frozenset(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]) for i in items}
    toks["d4#0"] = frozenset(["k", "l", "m", "n", "o", "p"])
    assert collapse(items, group, prints) == ["d1#0", "d3#0", "d4#0"]
    assert collapse(items, group, prints, toks) == ["d1#0", "d4#0"]
    assert jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
