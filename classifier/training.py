"""Training of the risk models on real recorded outcomes.

PV: VAERS split by year. Train on years ≤ ``train_until``, calibrate and choose the
operating thresholds on ``train_until + 1`` (validation), report on the later years
(test). AMM: EMA EPARs split by time on ``received_at`` (see :func:`amm_split`).

Trained models are written to the artefact store (:mod:`classifier.artefacts`) with their
model card.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier.amm_features import AmmFeatureSpec, first_seen_years
from classifier.artefacts import save_artefact
from classifier.assess import analyse, dossier_features, features_for
from classifier.features import FeatureRow
from corpora.errors import InputError
from corpora.io import atomic_writer
from corpora.model import PV_OUTCOME_FLAGS, RISK_LEVELS, Dossier, Record
from corpora.normalise import fr_decimal

DEFAULT_PV_MODEL = "pv-tfidf-lr"

def pv_level(outcome: dict[str, Any] | None) -> int:
    """ICH E2A ladder from a VAERS outcome: 3 critique (death, life-threatening), 2 élevé
    (hospitalisation or its prolongation, disability, congenital anomaly), 1 modéré (emergency
    visit, not recovered), 0 faible."""
    o = outcome or {}
    if o.get("died") or o.get("life_threatening"):
        return 3
    if any(o.get(k) for k in ("hospitalised", "prolonged_hospitalisation", "disability", "congenital_anomaly")):
        return 2
    if o.get("er_visit") or o.get("recovered") is False:
        return 1
    return 0


def sample_level(outcome: dict[str, Any] | None) -> int | None:
    """Level of a bundled sample dossier: its recorded ``risk_level``, else the PV flags."""
    o = outcome or {}
    if o.get("risk_level") in RISK_LEVELS:
        return RISK_LEVELS.index(o["risk_level"])
    if any(k in o for k in PV_OUTCOME_FLAGS):
        return pv_level(o)
    return None


# --------------------------------------------------------------------------- features in parallel

def _rows_chunk(args: tuple[list[dict[str, Any]], bool]) -> list[FeatureRow]:
    dossiers, masked = args
    out = []
    for raw in dossiers:
        out.append(dossier_features(Dossier.model_validate(raw), masked=masked)[2])
    return out


def feature_rows(dossiers: Sequence[Dossier], masked: bool = False, workers: int = 1,
                 progress: Callable[[int], None] | None = None, chunk: int = 500) -> list[FeatureRow]:
    """Feature rows of many dossiers (extraction + criteria + features), on ``workers`` processes."""
    chunks = [[d.model_dump(mode="python") for d in dossiers[i:i + chunk]] for i in range(0, len(dossiers), chunk)]
    rows: list[FeatureRow] = []
    if workers <= 1 or len(chunks) <= 1:
        for c in chunks:
            rows += _rows_chunk((c, masked))
            if progress:
                progress(len(c))
        return rows
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for c, part in zip(chunks, pool.map(_rows_chunk, [(c, masked) for c in chunks]), strict=True):
            rows += part
            if progress:
                progress(len(c))
    return rows


# --------------------------------------------------------------------------- data

_YEAR_RE = re.compile(r"(\d{4})")


def vaers_year_paths(corpora_dir: Path) -> dict[int, Path]:
    """``{year: zip}`` of the VAERS folder of the corpora dir."""
    from corpora.loaders.vaers import vaers_zip_paths

    folder = Path(corpora_dir) / "vaers"
    if not folder.is_dir():
        raise InputError(f"Dossier VAERS introuvable : {folder} (définissez GDR_CORPORA_DIR vers les corpus réels).")
    out: dict[int, Path] = {}
    for p in vaers_zip_paths(folder):
        m = _YEAR_RE.match(p.name)
        if m:
            out[int(m.group(1))] = p
    if not out:
        raise InputError(f"Aucune archive VAERS (AAAAVAERSData.zip) dans {folder}.")
    return out


def load_vaers(paths: Sequence[Path], limit_per_year: int | None = None) -> list[Record]:
    from corpora.loaders.base import LoadReport
    from corpora.loaders.vaers import iter_vaers_records

    records: list[Record] = []
    for p in paths:
        records += list(iter_vaers_records([p], LoadReport(source="vaers"), limit=limit_per_year))
    return records


@dataclass
class PvSplit:
    train_years: list[int]
    validation_year: int
    test_years: list[int]


def pv_split(years: Iterable[int], train_until: int, first_year: int | None = None) -> PvSplit:
    ys = sorted(set(years))
    train = [y for y in ys if y <= train_until and (first_year is None or y >= first_year)]
    later = [y for y in ys if y > train_until]
    if not train or not later:
        raise InputError(
            f"Découpage impossible : --train-until {train_until} doit laisser des années d'entraînement "
            f"et au moins une année de validation (années disponibles : {ys[0]}–{ys[-1]})."
        )
    return PvSplit(train, later[0], later[1:])


# --------------------------------------------------------------------------- results

@dataclass
class TrainResult:
    version: str
    directory: Path
    card: dict[str, Any]
    seconds: float
    metrics: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- PV

def _now_version(prefix: str) -> str:
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


# Candidate PV models tried by the protocol (name -> registered model, parameters). Chosen on validation.
PV_CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "lineaire-mots": ("pv-tfidf-lr", {}),
    "lineaire-mots-caracteres": ("pv-tfidf-lr", {"char_ngrams": (3, 5)}),
    "empilement-hgb": ("pv-stack", {}),
    "melange-lineaire-lightgbm": ("pv-blend", {}),
}
PV_RECALLS = {"grave": 0.97, "critique": 0.90}
NARRATIVE_BASELINE = {"C": 4.0, "word_ngrams": (1, 2), "min_df": 3}


@dataclass
class PvPart:
    """One part of the split: feature rows (as-is and masked), plain narratives, true levels."""

    rows: list[FeatureRow]
    y: np.ndarray
    plain: list[str] = field(default_factory=list)
    masked: list[FeatureRow] | None = None

    def narrative_rows(self) -> list[FeatureRow]:
        """The narrative alone (baseline); one constant token so that the token block is not empty."""
        return [FeatureRow(t, ("recit",)) for t in self.plain]

    @staticmethod
    def join(a: PvPart, b: PvPart) -> PvPart:
        return PvPart(a.rows + b.rows, np.concatenate([a.y, b.y]), a.plain + b.plain)


def pv_part(records: Sequence[Record], masked: bool = False, workers: int = 1,
            progress: Callable[[int], None] | None = None) -> PvPart:
    from classifier.features import normalise_text

    dossiers = [r.dossier for r in records]
    rows = feature_rows(dossiers, workers=workers, progress=progress)
    masked_rows = feature_rows(dossiers, masked=True, workers=workers) if masked else None
    return PvPart(rows, np.asarray([pv_level(r.outcome) for r in records], dtype=int),
                  [normalise_text(d.text or "", d.language) for d in dossiers], masked_rows)


def _fit_calibrated(name: str, params: dict[str, Any], train: PvPart, val: PvPart, narrative: bool = False) -> Any:
    from classifier.evaluation import floors_of
    from classifier.models import create_model

    model = create_model(name, **params)
    if getattr(model, "dossier_type", None) != "pv":
        raise InputError(f"Le modèle « {name} » n'est pas un modèle PV.")
    X_tr, X_va = (train.narrative_rows(), val.narrative_rows()) if narrative else (train.rows, val.rows)
    model.fit(X_tr, train.y.tolist())
    model.calibrate(X_va, val.y.tolist(), recalls=PV_RECALLS, floors=None if narrative else floors_of(X_va))
    return model


def _refit(model: Any, name: str, params: dict[str, Any], train: PvPart, val: PvPart, narrative: bool = False) -> Any:
    """The selected model refitted on train + validation, keeping the validation calibration and thresholds."""
    from classifier.models import create_model

    both = PvPart.join(train, val)
    final = create_model(name, **params)
    final.fit(both.narrative_rows() if narrative else both.rows, both.y.tolist())
    final.calibrators_ = dict(model.calibrators_)
    final.thresholds_ = dict(model.thresholds_)
    final.n_validation_ = model.n_validation_
    return final


def pv_protocol(train: PvPart, val: PvPart, test: PvPart | None, candidates: dict[str, tuple[str, dict[str, Any]]],
                log: Callable[[str], None] | None = None) -> tuple[Any, str, dict[str, Any]]:
    """Select, refit and test the PV model; baselines in the same run (see :mod:`classifier.evaluation`).

    Returns the shipped model (refitted on train + validation), the selected candidate's name and the
    metrics: ``validation`` (per candidate and baseline, the selection), ``test`` (shipped model, baselines
    and each candidate as fitted on train only, thresholds from validation), ``test_masked``.
    """
    from classifier.evaluation import f1_threshold, keyword_rule, pv_metrics, pv_metrics_from, pv_scores

    say = log or (lambda _m: None)
    fitted: dict[str, Any] = {}
    val_metrics: dict[str, Any] = {}
    f1_at: dict[str, float] = {}
    g_va = val.y >= 2
    for cname, (mname, params) in candidates.items():
        t0 = time.perf_counter()
        fitted[cname] = _fit_calibrated(mname, params, train, val)
        p = pv_scores(fitted[cname], val.rows)[0]["grave"]
        f1_at[cname] = f1_threshold(p, g_va)
        val_metrics[cname] = pv_metrics(fitted[cname], val.rows, val.y, f1_at=f1_at[cname])
        val_metrics[cname]["fit_seconds"] = round(time.perf_counter() - t0, 1)
        say(f"{cname} : validation ROC-AUC {fr_decimal(val_metrics[cname].get('roc_auc', float('nan')), 4)}")
    base = _fit_calibrated("pv-tfidf-lr", dict(NARRATIVE_BASELINE), train, val, narrative=True)
    p_base_va = base.calibrated_heads(val.narrative_rows())["grave"]
    f1_at["tfidf-lr-recit"] = f1_threshold(p_base_va, g_va)
    val_metrics["tfidf-lr-recit"] = pv_metrics(base, val.narrative_rows(), val.y, f1_at=f1_at["tfidf-lr-recit"])
    kw_p, kw_level = keyword_rule(val.rows)
    f1_at["regle-mots-cles"] = f1_threshold(kw_p, g_va)
    val_metrics["regle-mots-cles"] = pv_metrics_from(kw_p, kw_level, val.y, f1_at=f1_at["regle-mots-cles"])
    selected = max(candidates, key=lambda c: val_metrics[c].get("roc_auc", 0.0))
    say(f"retenu sur la validation : {selected}")
    mname, params = candidates[selected]
    shipped = _refit(fitted[selected], mname, params, train, val)
    shipped.selected_ = selected
    shipped.f1_threshold_ = f1_at[selected]
    metrics: dict[str, Any] = {"validation": val_metrics, "selected": selected}
    if test is not None and len(test.y):
        test_metrics: dict[str, Any] = {}
        test_metrics["modele_livre"] = pv_metrics(shipped, test.rows, test.y, f1_at=f1_at[selected])
        base_ship = _refit(base, "pv-tfidf-lr", dict(NARRATIVE_BASELINE), train, val, narrative=True)
        test_metrics["tfidf-lr-recit"] = pv_metrics(base_ship, test.narrative_rows(), test.y,
                                                    f1_at=f1_at["tfidf-lr-recit"])
        kw_p, kw_level = keyword_rule(test.rows)
        test_metrics["regle-mots-cles"] = pv_metrics_from(kw_p, kw_level, test.y, f1_at=f1_at["regle-mots-cles"])
        for cname, model in fitted.items():
            test_metrics[cname + " (entraînement seul)"] = pv_metrics(model, test.rows, test.y, f1_at=f1_at[cname])
        metrics["test"] = test_metrics
        if test.masked is not None:
            masked: dict[str, Any] = {"modele_livre": pv_metrics(shipped, test.masked, test.y, f1_at=f1_at[selected])}
            kw_p, kw_level = keyword_rule(test.masked)
            masked["regle-mots-cles"] = pv_metrics_from(kw_p, kw_level, test.y)
            metrics["test_masked"] = masked
    return shipped, selected, metrics


def train_pv(corpora_dir: Path, models_dir: Path, train_until: int = 2001, limit: int | None = None,
             workers: int = 2, progress: Callable[[str, int, int], None] | None = None,
             model_params: dict[str, Any] | None = None, first_year: int | None = None,
             model_name: str | None = None, log: Callable[[str], None] | None = None) -> TrainResult:
    """Run the PV protocol on VAERS (:func:`pv_protocol`) and save the shipped model with its card.

    ``model_name`` (with ``model_params``) restricts the candidates to that one model; ``limit`` caps
    records per year and ``first_year`` drops older training years (quick runs).
    """
    started = time.perf_counter()
    paths = vaers_year_paths(corpora_dir)
    split = pv_split(paths, train_until, first_year)

    def part_of(years: list[int], stage: str, masked: bool = False) -> PvPart:
        recs = load_vaers([paths[y] for y in years], limit)
        total = len(recs)
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress(stage, done[0], total)

        return pv_part(recs, masked=masked, workers=workers, progress=tick)

    train = part_of(split.train_years, "entraînement")
    if len(set((train.y >= 2).tolist())) < 2:
        raise InputError("Données d'entraînement sans cas graves : augmentez --limit.")
    val = part_of([split.validation_year], "validation")
    test = part_of(split.test_years, "test", masked=True) if split.test_years else None
    candidates = {model_name: (model_name, dict(model_params or {}))} if model_name else dict(PV_CANDIDATES)
    if progress:
        progress("ajustement des modèles", 0, 1)
    model, selected, metrics = pv_protocol(train, val, test, candidates, log)
    if progress:
        progress("ajustement des modèles", 1, 1)
    fr = french_sample_metrics(model)
    if fr:
        metrics["french_sample"] = fr
    mname, params = candidates[selected]
    version = _now_version(f"{mname}-train{split.validation_year}")
    model.version = version
    seconds = time.perf_counter() - started
    card = pv_card(version, split, len(train.y), len(val.y), metrics, model, limit, seconds, params)
    card["model"] = mname
    card["selected_candidate"] = selected
    card["candidates"] = {k: {"model": m, "params": {p: list(v) if isinstance(v, tuple) else v
                                                   for p, v in prm.items()}}
                          for k, (m, prm) in candidates.items()}
    directory = save_artefact(models_dir, "pv", version, model, card, card_markdown(card))
    return TrainResult(version, directory, card, seconds, metrics)


def pv_rolling(corpora_dir: Path, limit: int | None = None, first_year: int | None = 1996,
               last_train_years: Sequence[int] | None = None, model_name: str = "pv-tfidf-lr",
               model_params: dict[str, Any] | None = None, workers: int = 1,
               log: Callable[[str], None] | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Rolling protocol: for each Y, train on years ≤ Y, validate on Y + 1, test on Y + 2 (one model family,
    fixed parameters, thresholds from Y + 1), with the two baselines; per-window figures, mean and spread."""
    from classifier.evaluation import f1_threshold, keyword_rule, pv_metrics, pv_metrics_from

    paths = vaers_year_paths(corpora_dir)
    years = sorted(paths)
    def train_years(y: int) -> list[int]:
        return [t for t in years if t <= y and (first_year is None or t >= first_year)]

    # a window needs a training year (from first_year on) and its validation and test years
    windows = [y for y in (last_train_years or [y for y in years if y + 2 in paths][-4:])
               if train_years(y) and y + 1 in paths and y + 2 in paths]
    if not windows:
        raise InputError("Protocole glissant impossible : aucune fenêtre n'a d'année d'entraînement suivie de ses "
                         "années de validation et de test (vérifiez les années VAERS disponibles et first_year).")
    cache: dict[int, PvPart] = {}

    def part(y: int) -> PvPart:
        if y not in cache:
            cache[y] = pv_part(load_vaers([paths[y]], limit), workers=workers)
        return cache[y]

    def join(ys: list[int]) -> PvPart:
        out = part(ys[0])
        for y in ys[1:]:
            out = PvPart.join(out, part(y))
        return out

    per_window: dict[str, dict[str, Any]] = {}
    for done, y in enumerate(windows):
        if progress:
            progress("protocole glissant (fenêtres)", done, len(windows))
        train = join(train_years(y))
        val, test = part(y + 1), part(y + 2)
        model = _fit_calibrated(model_name, dict(model_params or {}), train, val)
        base = _fit_calibrated("pv-tfidf-lr", dict(NARRATIVE_BASELINE), train, val, narrative=True)
        g_va = val.y >= 2
        f1_m = f1_threshold(model.calibrated_heads(val.rows)["grave"], g_va)
        f1_b = f1_threshold(base.calibrated_heads(val.narrative_rows())["grave"], g_va)
        kw_va, _ = keyword_rule(val.rows)
        kw_p, kw_level = keyword_rule(test.rows)
        per_window[f"≤{y} / {y + 1} / {y + 2}"] = {
            model_name: pv_metrics(model, test.rows, test.y, f1_at=f1_m),
            "tfidf-lr-recit": pv_metrics(base, test.narrative_rows(), test.y, f1_at=f1_b),
            "regle-mots-cles": pv_metrics_from(kw_p, kw_level, test.y, f1_at=f1_threshold(kw_va, g_va)),
        }
        if log:
            auc = per_window[f"≤{y} / {y + 1} / {y + 2}"][model_name]["roc_auc"]
            log(f"fenêtre ≤{y} : ROC-AUC test {fr_decimal(auc, 4)}")
    if progress:
        progress("protocole glissant (fenêtres)", len(windows), len(windows))
    summary: dict[str, dict[str, Any]] = {}
    for name in (model_name, "tfidf-lr-recit", "regle-mots-cles"):
        summary[name] = {}
        for k in ("roc_auc", "f1_at_validation_threshold", "operating_recall_grave", "operating_precision_grave"):
            vals = [w[name][k] for w in per_window.values() if w[name].get(k) is not None]
            if vals:
                summary[name][k] = {"moyenne": float(np.mean(vals)), "ecart_type": float(np.std(vals)),
                                    "min": float(np.min(vals)), "max": float(np.max(vals))}
    return {"windows": per_window, "summary": summary, "limit_per_year": limit, "first_year": first_year,
            "model": model_name}


def french_sample_metrics(model: Any) -> dict[str, Any] | None:
    """Metrics on the bundled French sample's PV dossiers (labels from their recorded outcome)."""
    from classifier.evaluation import pv_metrics

    try:
        from corpora.loaders.sample import iter_sample_records

        recs = [r for r in iter_sample_records() if r.dossier.type == "pv"]
    except Exception:  # the sample is optional for training; report its absence instead
        return None
    pairs = [(r.dossier, sample_level(r.outcome)) for r in recs]
    pairs = [(d, y) for d, y in pairs if y is not None]
    if not pairs:
        return None
    rows = feature_rows([d for d, _ in pairs])
    return pv_metrics(model, rows, np.asarray([y for _, y in pairs]))


INPUTS_PV = [
    "texte du signalement (TF-IDF mots 1–3, minuscules, accents retirés, lexique FR→EN)",
    "âge (tranche), sexe, types de vaccins, nombre de produits, délai d'apparition (tranche)",
    "présence d'antécédents, de maladie en cours, d'autres médicaments, de vaccinations antérieures",
    "administré par / financé par, rapport fabricant (présence)",
    "termes codés des symptômes, sauf les termes qui sont des issues (décès, hospitalisation, handicap…)",
    "constats de l'extraction (codes, affirmés / niés / hypothétiques / antécédents) et critères déclenchés",
]
EXCLUDED_PV = [
    "toutes les issues (DIED, L_THREAT, HOSPITAL, HOSPDAYS, X_STAY, DISABLE, ER_VISIT, RECOVD, BIRTH_DEFECT)",
    "LAB_DATA (peut contenir des résultats d'autopsie)",
]


def pv_card(version: str, split: PvSplit, n_train: int, n_val: int, metrics: dict[str, Any], model: Any,
            limit: int | None, seconds: float, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": version,
        "type": "pv",
        "model": "pv-tfidf-lr",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {
            "source": "VAERS (CDC/FDA), rapports 1990–2004",
            "train_years": split.train_years,
            "validation_year": split.validation_year,
            "test_years": split.test_years,
            "n_train": n_train,
            "n_validation": n_val,
            "shipped_model_trained_on": [*split.train_years, split.validation_year],
            "limit_per_year": limit,
        },
        "target": "grave = décès, mise en jeu du pronostic vital, hospitalisation ou prolongation, "
        "handicap, anomalie congénitale ; critique = décès ou mise en jeu du pronostic vital (ICH E2A)",
        "inputs": INPUTS_PV,
        "excluded_inputs": EXCLUDED_PV,
        "params": {"C": model.C, "word_ngrams": list(model.word_ngrams), "min_df": model.min_df,
                   **{k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}},
        "calibration": "Platt (sigmoïde) et seuils choisis sur l'année de validation (modèle entraîné sur les "
        "années d'entraînement), conservés pour le modèle livré, réentraîné sur entraînement + validation",
        "protocol": "choix du modèle, calibration et seuils sur la validation seule ; années de test lues une "
        "fois par chiffre rapporté ; références (règle par mots-clés, TF-IDF + régression logistique sur le "
        "récit) dans la même exécution sur le même découpage",
        "thresholds": {**model.thresholds_, "f1_grave": getattr(model, "f1_threshold_", None)},
        "metrics": metrics,
        "training_seconds": round(seconds, 1),
        "limitations": [
            "entraîné sur des signalements américains en anglais (VAERS 1990–2004, vaccins uniquement) ; "
            "les dossiers français passent par un lexique FR→EN et sont marqués « à revoir »",
            "les récits VAERS énoncent souvent l'issue : voir les métriques avec mots d'issue masqués",
            "seuil choisi pour un rappel des cas graves ≥ 0,97 sur la validation : beaucoup de faux positifs",
            "aide à la décision : le niveau final n'est jamais inférieur au plancher des critères",
        ],
    }


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def card_markdown(card: dict[str, Any]) -> str:
    lines = [f"# Fiche du modèle {card['version']}", "", f"- Type de dossier : {card['type']}",
             f"- Modèle : {card['model']}", f"- Créé le : {card['created_at']}",
             f"- Cible : {card['target']}", f"- Calibration : {card.get('calibration', '')}", "",
             "## Données", ""]
    lines += [f"- {k} : {_fmt(v)}" for k, v in card["data"].items()]
    lines += ["", "## Entrées (connues à la réception du dossier)", ""] + [f"- {x}" for x in card["inputs"]]
    lines += ["", "## Entrées exclues", ""] + [f"- {x}" for x in card.get("excluded_inputs", [])]
    lines += ["", "## Seuils de décision", ""] + [f"- {k} : {_fmt(v)}" for k, v in card["thresholds"].items()]
    lines += ["", "## Métriques", ""]
    if card.get("protocol"):
        from classifier.evaluation import protocol_table

        lines += [f"Protocole : {card['protocol']}.", "", protocol_table(card["metrics"]), ""]
    for split_name, m in card["metrics"].items():
        if not isinstance(m, dict) or any(isinstance(v, dict) and "roc_auc" in v for v in m.values()):
            continue  # protocol tables above
        lines.append(f"### {split_name}")
        lines.append("")
        lines += [f"- {k} : {_fmt(v)}" for k, v in m.items() if not isinstance(v, dict | list)]
        lines.append("")
    lines += ["## Limites", ""] + [f"- {x}" for x in card["limitations"]]
    lines += ["", f"Durée d'entraînement : {card['training_seconds']} s", "",
              "Reproduire : `GDR_CORPORA_DIR=../shared/corpora gdr train --type "
              f"{card['type']}` puis `gdr eval classifier --type {card['type']}`.", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- AMM

def amm_label(outcome: dict[str, Any] | None) -> int | None:
    value = (outcome or {}).get("additional_monitoring")
    return None if value is None else int(bool(value))


def _epar_path(corpora_dir: Path) -> Path:
    from corpora.loaders.ema_epar import EPAR_FILENAME

    path = Path(corpora_dir) / "ema" / EPAR_FILENAME
    if not path.is_file():
        raise InputError(f"Table EMA des EPAR introuvable : {path} (définissez GDR_CORPORA_DIR).")
    return path


def load_epar(corpora_dir: Path, limit: int | None = None) -> list[Record]:
    from corpora.loaders.base import LoadReport
    from corpora.loaders.ema_epar import iter_epar_records

    recs = list(iter_epar_records(_epar_path(corpora_dir), LoadReport(source="ema-epar"), limit=limit))
    return [r for r in recs if amm_label(r.outcome) is not None and r.dossier.received_at is not None]


def amm_split(records: Sequence[Record], test_from: int, validation_from: int) -> tuple[list[Record], ...]:
    train = [r for r in records if r.dossier.received_at and r.dossier.received_at.year < validation_from]
    val = [r for r in records if r.dossier.received_at and validation_from <= r.dossier.received_at.year < test_from]
    test = [r for r in records if r.dossier.received_at and r.dossier.received_at.year >= test_from]
    return train, val, test


INPUTS_AMM = [
    "générique, biosimilaire, orphelin, MTI (ATMP), évaluation accélérée, PRIME (drapeaux de la demande)",
    "aire thérapeutique, groupe pharmacothérapeutique, code ATC (niveaux 1 à 5)",
    "nouveauté de la substance et ancienneté de sa première apparition dans un EPAR antérieur",
    "date de dépôt approchée (date d'avis − 365 jours ; jamais la date d'AMM), croisée avec le type de demande",
    "substance, aire et groupe en texte (TF-IDF) ; le texte de l'indication seulement si spec.indication",
]
AMM_C = (0.3, 1.0, 3.0)


def amm_rows(records: Sequence[Record], spec: AmmFeatureSpec) -> list[FeatureRow]:
    """Rows of EPAR records through the serving path (:func:`classifier.assess.features_for`)."""
    return [features_for(r.dossier, analyse(r.dossier), amm_spec=spec) for r in records]


def amm_split_by_product(records: Sequence[Record]) -> tuple[list[Record], list[Record], list[Record]]:
    """Deterministic split by product: sha1 of the product id, fold 0 = test, 1 = validation, else train."""
    parts: tuple[list[Record], list[Record], list[Record]] = ([], [], [])
    for r in records:
        fold = int(hashlib.sha1(r.dossier.id.encode("utf-8")).hexdigest(), 16) % 5
        parts[0 if fold >= 2 else (2 if fold == 0 else 1)].append(r)
    return parts


def _amm_y(part: Sequence[Record]) -> np.ndarray:
    return np.asarray([amm_label(r.outcome) or 0 for r in part])


def _fit_amm(train: Sequence[Record], val: Sequence[Record], spec: AmmFeatureSpec, C: float) -> Any:
    from classifier.models import AmmRiskModel

    model = AmmRiskModel(C=C).fit(amm_rows(train, spec), list(_amm_y(train)))
    model.calibrate(amm_rows(val, spec), list(_amm_y(val)), recalls={"surveillance": 0.95})
    model.amm_spec_ = spec
    return model


def _served_scores(model: Any, part: Sequence[Record]) -> np.ndarray:
    """Probabilities of additional monitoring as ``gdr triage`` serves them (assess_batch)."""
    from classifier.assess import assess_batch

    out = assess_batch([r.dossier for r in part], {"amm": model})
    return np.asarray([a.explanation.probabilites.get("surveillance", a.risk_score) for a in out])


def _year_alone(train: Sequence[Record], part: Sequence[Record]) -> np.ndarray:
    """Baseline: logistic regression on the (proxy) reception year alone, one-hot cumulative."""
    from sklearn.linear_model import LogisticRegression

    def x(rs: Sequence[Record]) -> np.ndarray:
        m = np.zeros((len(rs), 40))
        for i, r in enumerate(rs):
            y = r.dossier.received_at.year if r.dossier.received_at else 1995
            m[i, : max(0, min(y - 1994, 40))] = 1
        return m

    return np.asarray(LogisticRegression(max_iter=1000).fit(x(train), _amm_y(train)).predict_proba(x(part))[:, 1])


def _amm_select(train: Sequence[Record], val: Sequence[Record], seen: dict[str, int],
                indication: bool) -> tuple[Any, dict[str, float]]:
    """The C of the best validation ROC-AUC (validation only), for one text variant."""
    from sklearn.metrics import roc_auc_score

    spec = AmmFeatureSpec(first_seen=seen, indication=indication)
    scores: dict[str, float] = {}
    best: tuple[float, Any] | None = None
    for C in AMM_C:
        m = _fit_amm(train, val, spec, C)
        auc = float(roc_auc_score(_amm_y(val), m.predict_proba(amm_rows(val, spec))[:, 1]))
        scores[f"C={C}"] = round(auc, 4)
        if best is None or auc > best[0]:
            best = (auc, m)
    assert best is not None
    return best[1], scores


def _amm_report(train: Sequence[Record], val: Sequence[Record], test: Sequence[Record],
                seen: dict[str, int]) -> tuple[Any, dict[str, Any]]:
    """Both text variants chosen on validation, then each read once on test, beside the baselines
    (majority class, year alone) computed in the same run on the same split."""
    from classifier.evaluation import binary_metrics

    y_te = _amm_y(test)
    out: dict[str, Any] = {"n_train": len(train), "n_validation": len(val), "n_test": len(test),
                           "majorite": {"roc_auc": 0.5, "exactitude": round(float(1 - y_te.mean()), 4)},
                           "annee_seule": binary_metrics(_year_alone(train, test), y_te)}
    models: dict[bool, tuple[Any, float]] = {}
    for indication in (False, True):
        model, val_scores = _amm_select(train, val, seen, indication)
        name = "avec_indication" if indication else "sans_indication"
        out[name] = {"validation_roc_auc": val_scores, "C": model.C,
                     "test": binary_metrics(_served_scores(model, test), y_te)}
        models[indication] = (model, max(val_scores.values()))
    return models, out


def amm_summary(metrics: dict[str, Any]) -> dict[str, float]:
    """Flat ROC-AUC table of the AMM report: split × (baselines, both variants), test read once."""
    out: dict[str, float] = {}
    for split in ("par_produit", "par_temps"):
        m = metrics.get(split)
        if not m:
            continue
        out[f"{split} · majorité · test ROC-AUC"] = 0.5
        out[f"{split} · année seule · test ROC-AUC"] = round(m["annee_seule"].get("roc_auc", float("nan")), 4)
        for name, label in (("sans_indication", "sans indication (livré)"), ("avec_indication", "avec indication")):
            out[f"{split} · {label} · validation ROC-AUC"] = max(m[name]["validation_roc_auc"].values())
            out[f"{split} · {label} · test ROC-AUC"] = round(m[name]["test"].get("roc_auc", float("nan")), 4)
    return out


def train_amm(corpora_dir: Path, models_dir: Path, test_from: int = 2019, validation_from: int = 2016,
              limit: int | None = None, progress: Callable[[str, int, int], None] | None = None) -> TrainResult:
    """Train the AMM additional-monitoring model on features known at submission.

    Main split: by product (deterministic hash; each EPAR is one product, so test products are never
    seen). Also reported: a split by time on the submission proxy (train < ``validation_from`` ≤
    validation < ``test_from`` ≤ test). The indication text is the authorised one (written after the
    assessment): the shipped model is the variant **without** it; the one with it is measured beside.
    """
    started = time.perf_counter()
    records = load_epar(corpora_dir, limit)
    train, val, test = amm_split_by_product(records)
    if not train or not val:
        raise InputError("Données EMA insuffisantes pour le découpage (entraînement / validation).")
    seen = first_seen_years(r.dossier for r in records)
    if progress:
        progress("ajustement du modèle", 0, 3)
    models, by_product = _amm_report(train, val, test, seen)
    metrics: dict[str, Any] = {"par_produit": by_product}
    if progress:
        progress("ajustement du modèle", 1, 3)
    t_train, t_val, t_test = amm_split(records, test_from, validation_from)
    if t_train and t_val and t_test:
        metrics["par_temps"] = _amm_report(t_train, t_val, t_test, seen)[1]
    if progress:
        progress("ajustement du modèle", 2, 3)
    model = models[False][0]
    metrics["test"] = by_product["sans_indication"]["test"]
    metrics["resume"] = amm_summary(metrics)
    version = _now_version("amm-lr")
    model.version = version
    seconds = time.perf_counter() - started
    card = {
        "version": version, "type": "amm", "model": "amm-lr",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {"source": "EMA, table des EPAR (médicaments à usage humain)",
                 "split": "par produit (empreinte sha1 de l'identifiant : 1/5 test, 1/5 validation, 3/5 "
                          "entraînement) : les produits de test ne sont jamais vus",
                 "split_temporel": f"entraînement avant {validation_from}, validation {validation_from}–"
                                   f"{test_from - 1}, test à partir de {test_from} (métriques « par_temps »)",
                 "n_train": len(train), "n_validation": len(val), "n_test": len(test), "limit": limit},
        "target": "surveillance supplémentaire (additional monitoring, liste EMA) — issue connue après l'évaluation",
        "inputs": INPUTS_AMM,
        "excluded_inputs": ["statut d'autorisation, autorisation conditionnelle, circonstances exceptionnelles "
                            "(issues de l'évaluation)", "date d'AMM, dates de décision et de retrait",
                            "texte de l'indication autorisée (écrit après l'évaluation ; mesuré à part)"],
        "params": {"C": model.C, "indication": False},
        "calibration": "Platt (sigmoïde) sur la validation",
        "thresholds": model.thresholds_,
        "metrics": metrics,
        "training_seconds": round(seconds, 1),
        "limitations": [
            "la table n'a pas de date de dépôt : date de dépôt approchée = date d'avis du CHMP − 365 jours "
            "(à défaut : date d'AMM ou de refus − 432 jours)",
            "l'indication de la table est l'indication autorisée, écrite après l'évaluation : le modèle livré ne la "
            "lit pas ; la variante qui la lit est mesurée à part (avec_indication)",
            "la liste de surveillance supplémentaire n'existe que depuis 2013 et les produits en sortent après "
            "quelques années : la période pèse beaucoup ; le découpage temporel (par_temps) est bien plus dur",
            "produits centralisés uniquement (EMA) ; signaux BDPM/HAS non utilisés dans cette version",
            "les probabilités de test sont celles du chemin servi (classifier.assess.assess_batch, celui de "
            "« gdr triage »)",
        ],
    }
    directory = save_artefact(models_dir, "amm", version, model, card, card_markdown(card))
    return TrainResult(version, directory, card, seconds, metrics)


AEC_CARD = (
    "# Fiche du modèle AEC\n\nAucun modèle appris pour les essais cliniques (AEC) : il n'existe pas ici "
    "d'étiquette d'issue honnête. La colonne « prediction » du corpus ClinicalTrials.gov est la sortie "
    "d'un modèle, jamais une vérité de terrain. Le niveau de risque AEC vient des seuls critères du référentiel.\n"
)


def write_aec_card(models_dir: Path) -> Path:
    """Write ``<models_dir>/aec/model_card.md`` (and ``.json``): why AEC has no learned model."""
    directory = Path(models_dir) / "aec"
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_writer(directory / "model_card.md") as fh:
        fh.write(AEC_CARD)
    card = {"type": "aec", "model": "criteria", "version": "criteria-only (aucun modèle entraîné)",
            "reason": "aucune étiquette d'issue honnête ; la colonne « prediction » de ClinicalTrials.gov "
                      "(corpus ctgov_stopped) est la sortie d'un modèle, jamais une vérité de terrain"}
    with atomic_writer(directory / "model_card.json") as fh:
        json.dump(card, fh, ensure_ascii=False, indent=2)
    return directory / "model_card.md"
