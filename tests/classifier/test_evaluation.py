"""Evaluation metrics and the Markdown + HTML report with PNG plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.evaluation import EvalData, floors_of, pv_metrics_from, write_report
from classifier.features import FeatureRow


def _data() -> EvalData:
    rng = np.random.default_rng(0)
    y = rng.choice(4, size=400, p=[0.5, 0.3, 0.15, 0.05])
    p = np.clip((y >= 2) * 0.6 + rng.random(400) * 0.5, 0, 1)
    final = np.where(p > 0.5, np.maximum(y, 2), np.minimum(y, 1))
    final[(y == 3) & (rng.random(400) < 0.9)] = 3
    ages = list(rng.choice(["0-1", "18-44", "65+"], size=400))
    sexes = list(rng.choice(["F", "M"], size=400))
    return EvalData("essai", y, p, final, p * 0.9, final, ages, sexes, "modèle-test")


def test_metrics_on_known_case() -> None:
    y = np.array([0, 1, 2, 3, 3, 0])
    final = np.array([0, 2, 2, 3, 2, 0])
    p = np.array([0.1, 0.6, 0.7, 0.9, 0.8, 0.2])
    m = pv_metrics_from(p, final, y)
    assert m["operating_recall_grave"] == 1.0
    assert m["operating_precision_grave"] == pytest.approx(3 / 4)
    assert m["critique_placed_at_critique"] == pytest.approx(0.5)
    assert m["roc_auc"] == 1.0
    assert m["per_level"]["critique"]["support"] == 2
    assert m["confusion"][1][2] == 1


def test_floors_read_back_from_tokens() -> None:
    rows = [FeatureRow("", ("floor=critique",)), FeatureRow("", ("floor=eleve", "crit=X")), FeatureRow("", ())]
    assert floors_of(rows).tolist() == [3, 2, 0]


def test_report_files(tmp_path: Path) -> None:
    metrics = write_report(tmp_path, "essai", _data(), "gdr eval classifier --input x.jsonl")
    for name in ("essai.md", "essai.html", "essai.json", "essai-confusion.png", "essai-calibration.png",
                 "essai-precision_recall.png"):
        assert (tmp_path / name).stat().st_size > 0
    md = (tmp_path / "essai.md").read_text(encoding="utf-8")
    assert "mots d'issue masqués" in md and "Par tranche d'âge" in md and "Par sexe" in md
    assert (tmp_path / "essai-confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "(essai-confusion.png)" in md
    assert set(metrics["par_sexe"]) == {"F", "M"}
    assert 0.5 < metrics["tel_quel"]["roc_auc"] <= 1.0
    assert "data:image/png;base64," in (tmp_path / "essai.html").read_text(encoding="utf-8")
