"""Risk models: estimator contract, registry, calibration and thresholds; a small real PV model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.features import FeatureRow
from classifier.models import (
    CriteriaOnlyModel,
    PvRiskModel,
    create_model,
    register,
    registered_models,
    threshold_for_recall,
)
from corpora.errors import InputError

_WORDS = {0: "sore arm redness", 1: "fever rash emergency visit", 2: "admitted seizure hospital", 3: "died arrest"}


def _synthetic(n: int, seed: int) -> tuple[list[FeatureRow], list[int]]:
    rng = np.random.default_rng(seed)
    rows, ys = [], []
    for _ in range(n):
        y = int(rng.choice(4, p=[0.5, 0.3, 0.15, 0.05]))
        noise = _WORDS[int(rng.integers(4))] if rng.random() < 0.2 else ""
        rows.append(FeatureRow(f"{_WORDS[y]} {noise} patient vaccine", (f"age={int(rng.integers(3))}",)))
        ys.append(y)
    return rows, ys


@pytest.fixture(scope="module")
def synthetic_model() -> tuple[PvRiskModel, list[FeatureRow], list[int]]:
    X, y = _synthetic(600, 0)
    Xv, yv = _synthetic(300, 1)
    model = PvRiskModel(C=1.0, min_df=1)
    assert model.fit(X, y) is model
    model.calibrate(Xv, yv, recalls={"grave": 0.97, "critique": 0.9})
    return model, Xv, yv


def test_init_only_stores_params() -> None:
    m = PvRiskModel(C=2.0)
    assert m.C == 2.0 and not hasattr(m, "heads_")


def test_registry() -> None:
    assert {"criteria", "pv-tfidf-lr", "amm-lr"} <= set(registered_models())
    assert isinstance(create_model("criteria"), CriteriaOnlyModel)
    with pytest.raises(ValueError, match="already registered"):
        register("pv-tfidf-lr")(type("Other", (), {}))
    with pytest.raises(InputError):
        create_model("nope")


def test_predict_proba_is_calibrated_probability(synthetic_model: tuple) -> None:
    model, Xv, yv = synthetic_model
    p = model.predict_proba(Xv)
    assert p.shape == (len(Xv), 2)
    assert np.all((p >= 0) & (p <= 1)) and np.allclose(p.sum(axis=1), 1)
    grave = np.asarray(yv) >= 2
    assert p[grave, 1].mean() > p[~grave, 1].mean() + 0.5


def test_operating_threshold_meets_recall_on_validation(synthetic_model: tuple) -> None:
    model, Xv, yv = synthetic_model
    levels = model.predict(Xv)
    grave = np.asarray(yv) >= 2
    assert ((levels >= 2) & grave).sum() / grave.sum() >= 0.97
    assert set(np.unique(levels)) <= {0, 1, 2, 3}


def test_threshold_for_recall() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.8])
    target = np.array([0, 1, 0, 1, 1, 1])
    t = threshold_for_recall(scores, target, 0.75)
    assert ((scores >= t) & (target == 1)).sum() / target.sum() >= 0.75
    assert t == pytest.approx(0.4)


def test_score_rows_explains_and_flags_review(synthetic_model: tuple) -> None:
    model, _, _ = synthetic_model
    out = model.score_rows([FeatureRow("died arrest patient", ()), FeatureRow("zzz qqq www", ())], ["en", "en"])
    assert out[0].level == 3 and 0 <= out[0].risk_score <= 1
    assert out[0].contributions and "feature" in out[0].contributions[0]
    assert out[1].needs_review  # words unknown to the model
    fr = model.score_rows([FeatureRow("died arrest patient", ())], ["fr"])[0]
    assert any("français" in r for r in fr.reasons)


@pytest.mark.corpora
def test_small_real_pv_model(corpora_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Train on a limited VAERS subset (1999–2001, 200 a year), split by year; artefact verified by sha256."""
    from classifier.artefacts import load_artefact
    from classifier.training import train_pv

    models_dir = tmp_path_factory.mktemp("models")
    result = train_pv(corpora_dir, models_dir, train_until=2001, limit=200, workers=1, first_year=1999)
    card = result.card
    assert card["data"]["train_years"][-1] == 2001 and card["data"]["validation_year"] == 2002
    assert card["data"]["test_years"] == [2003, 2004]
    assert card["data"]["shipped_model_trained_on"][-1] == 2002  # refitted on train + validation
    test = card["metrics"]["test"]
    assert test["modele_livre"]["roc_auc"] > 0.85
    assert {"regle-mots-cles", "tfidf-lr-recit"} <= set(test)  # baselines, same run, same split
    assert card["selected_candidate"] in card["metrics"]["validation"]  # chosen on validation
    assert "| modele_livre |" in (result.directory / "model_card.md").read_text(encoding="utf-8")
    assert "LAB_DATA" in " ".join(card["excluded_inputs"])
    model, loaded_card = load_artefact(models_dir, "pv")
    assert loaded_card["artefact"]["sha256"] and model.version == result.version
    (result.directory / "model.joblib").write_bytes(b"tampered")
    from corpora.errors import StoreError

    with pytest.raises(StoreError):
        load_artefact(models_dir, "pv")


def test_blend_averages_the_linear_head_with_lightgbm_in_log_odds() -> None:
    import pickle

    from classifier.models import PvBlendModel, _logit

    X, y = _synthetic(600, 0)
    Xv, yv = _synthetic(300, 1)
    blend = create_model("pv-blend", C=1.0, min_df=1, boost_min_df=1, boost_rounds=30, boost_threads=1)
    assert isinstance(blend, PvBlendModel) and blend.fit(X, y) is blend
    assert set(blend.boosters_) == {"grave"}  # only the boosted heads get a tree model
    matrix = blend.transform(Xv)
    raw = blend.raw_heads(Xv)
    linear = blend.heads_["grave"].predict_proba(matrix)[:, 1]
    trees = blend.boosters_["grave"].predict_proba(matrix[:, blend.boost_columns_].astype(np.float32))[:, 1]
    expected = 1 / (1 + np.exp(-(0.5 * _logit(linear) + 0.5 * _logit(trees))))
    assert np.allclose(raw["grave"], expected)
    assert np.allclose(raw["critique"], blend.heads_["critique"].predict_proba(matrix)[:, 1])
    blend.calibrate(Xv, yv, recalls={"grave": 0.97, "critique": 0.9})
    g = np.asarray(yv) >= 2
    p = blend.predict_proba(Xv)[:, 1]
    assert p[g].mean() > p[~g].mean() + 0.3
    again = pickle.loads(pickle.dumps(blend))  # artefacts are pickled: same probabilities after loading
    assert np.array_equal(again.predict_proba(Xv), blend.predict_proba(Xv))
    out = blend.score_rows(Xv[:3])
    assert len(out) == 3 and out[0].contributions and set(out[0].probabilities) == {"grave", "critique", "modere"}


def test_rolling_protocol_scores_the_shipped_family_beside_both_baselines(corpora_dir: Path, tmp_path: Path) -> None:
    """``gdr eval classifier --rolling`` on 150 reports a year, one window: train ≤ 2001, validate 2002, test 2003."""
    from assistant.services.classifier import evaluate_rolling
    from assistant.settings import get_settings
    from classifier import training

    result = training.pv_rolling(corpora_dir, limit=150, last_train_years=[2001], model_name="pv-blend",
                                 model_params={"boost_rounds": 20})
    window = result["windows"]["≤2001 / 2002 / 2003"]
    assert set(window) == {"pv-blend", "tfidf-lr-recit", "regle-mots-cles"}
    assert all(0.5 < m["roc_auc"] <= 1.0 for m in window.values())
    assert result["summary"]["pv-blend"]["roc_auc"]["ecart_type"] == 0.0  # one window: no spread
    settings = get_settings(data_dir=tmp_path, corpora_dir=corpora_dir,
                            classifier={"run_model": "pv-tfidf-lr", "first_year": 2000})
    ticks: list[tuple[str, int, int]] = []
    path, metrics = evaluate_rolling(settings, limit=60, progress=lambda *t: ticks.append(t))
    assert ticks[0][1:] == (0, 3) and ticks[-1][1:] == (3, 3)  # windows ≤2000, ≤2001, ≤2002 (≤1999: no training year)
    assert "| pv-tfidf-lr |" in path.read_text(encoding="utf-8") and 0.0 < metrics["tel_quel"]["roc_auc"] <= 1.0


def test_review_reason_near_the_threshold_tells_the_two_values_apart() -> None:
    from classifier.features import FeatureRow
    from classifier.models import PvRiskModel

    model = PvRiskModel()
    model.vocabulary_words_ = frozenset({"fever"})
    reasons = model.review_reasons(0.0193, 0.0204, FeatureRow(text="fever", tokens=()), "en")
    assert reasons == ["probabilité proche du seuil de décision (0,019 pour un seuil de 0,020)"]
