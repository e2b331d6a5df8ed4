"""``gdr eval classifier`` scores through the triage service: same probabilities as ``gdr triage`` and the card."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.settings import get_settings


def test_eval_card_and_triage_give_identical_probabilities(corpora_dir: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A small PV model (1999–2001, 150 reports a year); its card's test figures, ``gdr eval classifier`` and
    ``gdr triage`` score the same test dossiers with the same probabilities."""
    from sklearn.metrics import roc_auc_score

    from assistant.services import classifier as service
    from assistant.services.triage import triage_dossiers
    from classifier.training import load_vaers, pv_level, vaers_year_paths

    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GDR_CORPORA_DIR", str(corpora_dir))
    monkeypatch.setenv("GDR_CLASSIFIER__MODEL", "auto")
    settings = get_settings()
    result = service.train(settings, "pv", train_until=2001, limit=150, workers=1, first_year=1999,
                           model_name="pv-tfidf-lr")
    card = result.card
    assert card["data"]["test_years"] == [2003, 2004]
    assert card["data"]["shipped_model_trained_on"] == [1999, 2000, 2001, 2002]

    paths = vaers_year_paths(corpora_dir)
    records = load_vaers([paths[2003], paths[2004]], 150)
    dossiers = [r.dossier for r in records]
    y = np.asarray([pv_level(r.outcome) for r in records])
    scored = service.score_pv(settings, dossiers)
    shipped = card["metrics"]["test"]["modele_livre"]
    assert shipped["n"] == len(dossiers)
    assert shipped["roc_auc"] == roc_auc_score(y >= 2, scored["grave"])  # the card's figure, recomputed
    g = y >= 2
    final = scored["final"] >= 2
    assert shipped["operating_recall_grave"] == (final & g).sum() / g.sum()

    triaged = list(triage_dossiers(settings, dossiers[:80], with_precedents=False, with_context=False))
    shown = np.asarray([t.explanation.probabilites["grave"] for t in triaged])
    assert np.array_equal(shown, np.round(scored["grave"][:80], 4))
    assert [t.risk_level for t in triaged] == [["faible", "modéré", "élevé", "critique"][int(v)]
                                               for v in scored["final"][:80]]

    path, metrics = service.evaluate(settings, limit=150)
    assert metrics["tel_quel"]["roc_auc"] == shipped["roc_auc"]
    assert metrics["mots_issue_masques"]["roc_auc"] == card["metrics"]["test_masked"]["modele_livre"]["roc_auc"]
    assert "règle par mots-clés" in path.read_text(encoding="utf-8")
