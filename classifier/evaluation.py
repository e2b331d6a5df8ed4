"""Evaluation of the risk models on held-out data, and the Markdown + HTML report with plots.

Protocol (PV), the one place it is written down (see also the README):

* split by year: train on years ≤ Y, validate on Y + 1, test on the later years;
* every choice is made on the validation year only: model family and parameters (ROC-AUC of
  ``grave``), Platt calibration, the operating thresholds (recall of ``grave`` ≥ 0.97 and of
  ``critique`` ≥ 0.90 for the *final* level max(model, criteria floor)), and the F1 threshold;
* the selected model is refitted on train + validation, keeping the validation calibration and
  thresholds, and the test years are then read once per reported figure;
* two baselines are computed in the same run on the same split: the keyword rule (criteria
  floor alone) and TF-IDF + logistic regression on the narrative alone, trained on the same years;
* "masked": outcome words of ``classifier/data/masked_outcomes.yaml`` masked in the narrative and
  outcome coded terms dropped (:func:`classifier.features.mask_dossier`);
* ``*_test_oracle`` figures choose their threshold on the test labels: shown for reference only,
  never compared with a target.

Metrics: ROC-AUC of the calibrated ``grave`` probability, F1 at the validation threshold, recall and
precision of ``grave`` at the operating point (final level ≥ élevé), share of death /
life-threatening reports placed at critique, per-level precision / recall / F1 and confusion
matrix, calibration (Brier), by age band and sex.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier.features import FeatureRow, age_band
from corpora.model import RISK_LEVELS

_FLOOR_TOKENS = {"floor=faible": 0, "floor=modere": 1, "floor=eleve": 2, "floor=critique": 3}


def floors_of(rows: Sequence[FeatureRow]) -> np.ndarray:
    """Floor rank of the fired criteria, read back from the feature tokens."""
    return np.asarray([max([_FLOOR_TOKENS.get(t, 0) for t in r.tokens] or [0]) for r in rows], dtype=int)


def binary_metrics(p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import brier_score_loss, precision_recall_curve, roc_auc_score

    y = np.asarray(y).astype(int)
    out: dict[str, Any] = {"n": len(y), "positifs": int(y.sum())}
    if 0 < y.sum() < len(y):
        out["roc_auc"] = float(roc_auc_score(y, p))
        pr, rc, _ = precision_recall_curve(y, p)
        f1 = 2 * pr * rc / np.maximum(pr + rc, 1e-12)
        out["best_f1_test_oracle"] = float(f1.max())
        ok = rc >= 0.97
        out["precision_at_recall_0.97_test_oracle"] = float(pr[ok].max()) if ok.any() else 0.0
        out["brier"] = float(brier_score_loss(y, np.clip(p, 0, 1)))
    return out


def f1_threshold(p: np.ndarray, target: np.ndarray) -> float:
    """The threshold that maximises F1 on (validation) scores ``p`` of binary ``target``."""
    from sklearn.metrics import precision_recall_curve

    target = np.asarray(target).astype(int)
    if not 0 < target.sum() < len(target):
        return 0.5
    pr, rc, thr = precision_recall_curve(target, p)
    f1 = 2 * pr[:-1] * rc[:-1] / np.maximum(pr[:-1] + rc[:-1], 1e-12)
    return float(thr[int(np.argmax(f1))])


def pv_scores(model: Any, rows: Sequence[FeatureRow]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Calibrated head probabilities, model level and final level (max with the criteria floor) of rows.

    The same computation as :meth:`score_rows` behind ``gdr triage`` (transform, heads, calibration,
    :meth:`levels_from`), without the per-dossier explanations.
    """
    probs = model.calibrated_heads(list(rows))
    model_level = np.asarray(model.levels_from(probs), dtype=int)
    return probs, model_level, np.maximum(model_level, floors_of(rows))


def pv_metrics(model: Any, rows: Sequence[FeatureRow], y: np.ndarray,
               f1_at: float | None = None) -> dict[str, Any]:
    """PV metrics of a model on feature rows with true levels ``y`` (0..3)."""
    y = np.asarray(y).astype(int)
    probs, model_level, final = pv_scores(model, rows)
    return pv_metrics_from(probs["grave"], final, y, model_level, f1_at=f1_at)


def keyword_rule(rows: Sequence[FeatureRow]) -> tuple[np.ndarray, np.ndarray]:
    """Baseline "keyword rule": the criteria (extraction keywords) alone. Score = floor rank / 3, level = floor."""
    floors = floors_of(rows)
    return floors / 3.0, floors


def pv_metrics_from(p_grave: np.ndarray, final: np.ndarray, y: np.ndarray,
                    model_level: np.ndarray | None = None, f1_at: float | None = None) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    g = y >= 2
    out = binary_metrics(p_grave, g)
    if f1_at is not None:
        hit = p_grave >= f1_at
        tp = int((hit & g).sum())
        prec, rec = tp / max(int(hit.sum()), 1), tp / max(int(g.sum()), 1)
        out["f1_validation_threshold"] = float(f1_at)
        out["f1_at_validation_threshold"] = 2 * prec * rec / max(prec + rec, 1e-12)
    pred = final >= 2
    tp = int((pred & g).sum())
    out["operating_recall_grave"] = tp / max(int(g.sum()), 1)
    out["operating_precision_grave"] = tp / max(int(pred.sum()), 1)
    out["operating_f1_grave"] = (2 * out["operating_precision_grave"] * out["operating_recall_grave"]
                                 / max(out["operating_precision_grave"] + out["operating_recall_grave"], 1e-12))
    crit = y == 3
    out["critique_placed_at_critique"] = float((final[crit] == 3).mean()) if crit.any() else None
    out["critique_placed_grave"] = float((final[crit] >= 2).mean()) if crit.any() else None
    if model_level is not None:
        out["model_only_recall_grave"] = float(((model_level >= 2) & g).sum() / max(int(g.sum()), 1))
    labels = list(range(4))
    pr, rc, f1, sup = precision_recall_fscore_support(y, final, labels=labels, zero_division=0)
    out["per_level"] = {RISK_LEVELS[i]: {"precision": float(pr[i]), "recall": float(rc[i]), "f1": float(f1[i]),
                                         "support": int(sup[i])} for i in labels}
    out["confusion"] = confusion_matrix(y, final, labels=labels).tolist()
    out["accuracy_levels"] = float((final == y).mean()) if len(y) else None
    return out


# --------------------------------------------------------------------------- protocol table

TARGETS_PV = {"roc_auc": 0.975, "f1_at_validation_threshold": 0.85, "operating_recall_grave": 0.97,
              "operating_precision_grave": 0.35, "critique_placed_at_critique": 0.90}
_TABLE_KEYS = ("roc_auc", "f1_at_validation_threshold", "operating_recall_grave", "operating_precision_grave",
               "critique_placed_at_critique", "brier")


def protocol_table(metrics: dict[str, Any]) -> str:
    """Markdown tables of a PV protocol run (:func:`classifier.training.pv_protocol`): test and validation."""
    lines: list[str] = []
    for part, title in (("test", "Test"), ("validation", "Validation (sélection)")):
        rows = metrics.get(part)
        if not rows:
            continue
        lines += [f"#### {title}", "", "| modèle | " + " | ".join(_TABLE_KEYS) + " |",
                  "|---" * (len(_TABLE_KEYS) + 1) + "|"]
        for name, m in rows.items():
            lines.append(f"| {name} | " + " | ".join(_f(m.get(k)) for k in _TABLE_KEYS) + " |")
        lines.append("")
    masked = metrics.get("test_masked")
    if masked:
        lines += ["#### Test, mots d'issue masqués", "", "| modèle | roc_auc |", "|---|---|"]
        lines += [f"| {name} | {_f(m.get('roc_auc'))} |" for name, m in masked.items()]
        lines.append("")
    shipped = (metrics.get("test") or {}).get("modele_livre")
    if shipped:
        lines += ["#### Cibles (test, modèle livré)", "", "| cible | visée | mesurée | écart |", "|---|---|---|---|"]
        got = dict(shipped)
        if masked and "modele_livre" in masked:
            got["masked_roc_auc"] = masked["modele_livre"].get("roc_auc")
        for k, goal in {**TARGETS_PV, "masked_roc_auc": 0.96}.items():
            v = got.get(k)
            gap = "–" if v is None else ("atteinte" if v >= goal else f"{v - goal:+.3f}")
            lines.append(f"| {k} | ≥ {goal} | {_f(v)} | {gap} |")
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- report

@dataclass
class EvalData:
    """Everything a report needs: dossier groups, truth, scores and levels, as-is and masked."""

    name: str
    y: np.ndarray
    p: np.ndarray
    final: np.ndarray
    p_masked: np.ndarray | None
    final_masked: np.ndarray | None
    ages: list[str]
    sexes: list[str]
    model_version: str
    f1_at: float | None = None  # F1 threshold chosen on validation (model card)
    floors: np.ndarray | None = None  # criteria floor rank: the keyword-rule baseline, same dossiers


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def plots(data: EvalData) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import confusion_matrix, precision_recall_curve

    out: dict[str, bytes] = {}
    cm = confusion_matrix(data.y, data.final, labels=list(range(4)))
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(4), RISK_LEVELS)
    ax.set_yticks(range(4), RISK_LEVELS)
    ax.set_xlabel("niveau prédit")
    ax.set_ylabel("niveau observé")
    for i in range(4):
        for j in range(4):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8)
    ax.set_title("Matrice de confusion")
    out["confusion"] = _png(fig)
    g = data.y >= 2
    if 0 < g.sum() < len(g):
        frac, mean = calibration_curve(g, np.clip(data.p, 0, 1), n_bins=10, strategy="quantile")
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.plot([0, 1], [0, 1], "--", color="grey")
        ax.plot(mean, frac, "o-")
        ax.set_xlabel("probabilité prédite (grave)")
        ax.set_ylabel("fréquence observée")
        ax.set_title("Courbe de calibration")
        out["calibration"] = _png(fig)
        fig, ax = plt.subplots(figsize=(5, 4))
        pr, rc, _ = precision_recall_curve(g, data.p)
        ax.plot(rc, pr, label="tel quel")
        if data.p_masked is not None:
            pr2, rc2, _ = precision_recall_curve(g, data.p_masked)
            ax.plot(rc2, pr2, label="mots d'issue masqués")
        ax.axvline(0.97, color="red", linestyle=":")
        ax.set_xlabel("rappel (grave)")
        ax.set_ylabel("précision")
        ax.legend()
        ax.set_title("Précision–rappel")
        out["precision_recall"] = _png(fig)
    return out


def report_metrics(data: EvalData) -> dict[str, Any]:
    metrics: dict[str, Any] = {"tel_quel": pv_metrics_from(data.p, data.final, data.y, f1_at=data.f1_at)}
    if data.p_masked is not None and data.final_masked is not None:
        metrics["mots_issue_masques"] = pv_metrics_from(data.p_masked, data.final_masked, data.y, f1_at=data.f1_at)
    if data.floors is not None:
        metrics["regle_mots_cles"] = pv_metrics_from(data.floors / 3.0, data.floors, data.y)
    for key, groups in (("par_tranche_age", data.ages), ("par_sexe", data.sexes)):
        arr = np.asarray(groups)
        metrics[key] = {}
        for gname in sorted(set(groups)):
            sel = arr == gname
            m = pv_metrics_from(data.p[sel], data.final[sel], data.y[sel])
            metrics[key][gname] = {k: m.get(k) for k in ("n", "positifs", "roc_auc", "operating_recall_grave",
                                                          "operating_precision_grave")}
    return metrics


def _f(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


_MAIN_KEYS = ("n", "positifs", "roc_auc", "f1_at_validation_threshold", "operating_recall_grave",
              "operating_precision_grave", "operating_f1_grave", "critique_placed_at_critique", "brier",
              "accuracy_levels", "best_f1_test_oracle", "precision_at_recall_0.97_test_oracle")


def markdown_report(data: EvalData, metrics: dict[str, Any], command: str) -> str:
    lines = [f"# Évaluation du classifieur : {data.name}", "", f"Modèle : `{data.model_version}`", "",
             f"Reproduire : `{command}`", "", "## Cas graves (élevé ou critique)", "",
             "| métrique | tel quel | mots d'issue masqués | règle par mots-clés (référence) |",
             "|---|---|---|---|"]
    masked = metrics.get("mots_issue_masques", {})
    rule = metrics.get("regle_mots_cles", {})
    for k in _MAIN_KEYS:
        lines.append(f"| {k} | {_f(metrics['tel_quel'].get(k))} | {_f(masked.get(k))} | {_f(rule.get(k))} |")
    lines += ["", "## Par niveau (tel quel)", "", "| niveau | précision | rappel | F1 | effectif |",
              "|---|---|---|---|---|"]
    for lv, m in metrics["tel_quel"]["per_level"].items():
        lines.append(f"| {lv} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['f1'])} | {m['support']} |")
    lines += ["", "Matrice de confusion (lignes = observé, colonnes = prédit) : "
              + json.dumps(metrics["tel_quel"]["confusion"]), ""]
    for key, title in (("par_tranche_age", "Par tranche d'âge"), ("par_sexe", "Par sexe")):
        lines += [f"## {title}", "", "| groupe | n | graves | ROC-AUC | rappel | précision |",
                  "|---|---|---|---|---|---|"]
        for gname, m in metrics[key].items():
            lines.append(f"| {gname} | {m['n']} | {m['positifs']} | {_f(m['roc_auc'])} | "
                         f"{_f(m['operating_recall_grave'])} | {_f(m['operating_precision_grave'])} |")
        lines.append("")
    lines += ["## Graphiques", "", f"![Matrice de confusion]({data.name}-confusion.png)", "",
              f"![Courbe de calibration]({data.name}-calibration.png)", "",
              f"![Précision–rappel]({data.name}-precision_recall.png)", ""]
    return "\n".join(lines)


def html_report(markdown: str, images: dict[str, bytes]) -> str:
    """A self-contained HTML page: the Markdown as preformatted text plus embedded PNGs."""
    body = [f"<pre>{html.escape(markdown)}</pre>"]
    for name, png in images.items():
        b64 = base64.b64encode(png).decode("ascii")
        body.append(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{b64}"/>'
                    f"<figcaption>{html.escape(name)}</figcaption></figure>")
    return ("<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Évaluation du classifieur"
            "</title></head><body>" + "".join(body) + "</body></html>")


def write_report(out_dir: Path, name: str, data: EvalData, command: str) -> dict[str, Any]:
    """Write ``<name>.md``, ``<name>.html``, ``<name>.json`` and the PNGs under ``out_dir``."""
    from corpora.io import atomic_writer

    metrics = report_metrics(data)
    images = plots(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    for key, png in images.items():
        with atomic_writer(out_dir / f"{name}-{key}.png", "wb") as fh:
            fh.write(png)
    md = markdown_report(data, metrics, command)
    with atomic_writer(out_dir / f"{name}.md") as fh:
        fh.write(md)
    with atomic_writer(out_dir / f"{name}.html") as fh:
        fh.write(html_report(md, images))
    with atomic_writer(out_dir / f"{name}.json") as fh:
        json.dump({"model_version": data.model_version, "metrics": metrics}, fh, ensure_ascii=False, indent=2)
    return metrics


def groups_of(dossiers: Sequence[Any]) -> tuple[list[str], list[str]]:
    return ([age_band(d.fields.patient_age) for d in dossiers], [d.fields.patient_sex or "inconnu" for d in dossiers])
