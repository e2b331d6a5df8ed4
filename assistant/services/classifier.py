"""Classifier service: maps the settings onto training, model loading and evaluation.

The library (``classifier/``) never reads the settings; this module does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import Settings
from corpora.errors import InputError, ModelMissing

Progress = Callable[[str, int, int], None]

TRAINABLE = ("pv", "amm")


def require_real_corpora(settings: Settings) -> Path:
    if not settings.uses_real_corpora or settings.corpora_dir is None:
        raise InputError(
            "Corpus réels requis pour entraîner (définissez GDR_CORPORA_DIR) : un modèle n'est jamais "
            "entraîné sur l'échantillon fourni ; le tri fonctionne alors sur les seuls critères."
        )
    return Path(settings.corpora_dir)


def train(settings: Settings, dtype: str = "pv", train_until: int | None = None, limit: int | None = None,
          workers: int = 2, progress: Progress | None = None, first_year: int | None = None,
          model_name: str | None = None, log: Callable[[str], None] | None = None) -> Any:
    """Train the model of ``dtype`` and save it under ``<data_dir>/models/<dtype>/<version>/``."""
    from classifier import training

    if dtype not in TRAINABLE:
        if dtype == "aec":
            return training.write_aec_card(settings.models_dir)
        raise InputError(f"Type de dossier inconnu : « {dtype} » (attendu : pv ou amm).")
    corpora_dir = require_real_corpora(settings)
    if limit is not None and limit < 1:
        raise InputError("--limit doit être un entier positif.")
    if dtype == "pv":
        until = train_until or settings.classifier.train_until or 2001
        first_year = settings.classifier.first_year if first_year is None else first_year
        first_year = first_year or None  # 0 means every year
        name = model_name or (settings.classifier.model if settings.classifier.model.startswith("pv-") else None)
        return training.train_pv(corpora_dir, settings.models_dir, train_until=until, limit=limit,
                                 workers=workers, progress=progress, first_year=first_year, model_name=name,
                                 log=log)
    return training.train_amm(corpora_dir, settings.models_dir, limit=limit, progress=progress)


def load_models(settings: Settings) -> dict[str, Any]:
    """The model per dossier type chosen by ``settings.classifier.model``.

    ``auto``: the latest trained artefact of each type when present, else criteria only.
    ``criteria``: criteria only for every type. A registered model name (``pv-tfidf-lr``,
    ``amm-lr``): that type's trained artefact, which must exist.
    """
    from classifier.artefacts import latest_version, load_artefact
    from classifier.models import CriteriaOnlyModel, registered_models

    choice = settings.classifier.model
    models: dict[str, Any] = {t: CriteriaOnlyModel() for t in ("pv", "amm", "aec")}
    if choice == "criteria":
        return models
    if choice != "auto" and choice not in registered_models():
        raise InputError(f"Modèle de risque inconnu : « {choice} » (disponibles : auto, "
                         f"{', '.join(registered_models())}).")
    for dtype in TRAINABLE:
        wanted = choice == "auto" or choice.startswith(dtype + "-")
        if not wanted:
            continue
        if latest_version(settings.models_dir, dtype) is None:
            if choice != "auto":
                raise ModelMissing(f"Aucun modèle « {choice} » entraîné dans {settings.models_dir} "
                                   f"(lancez « gdr train --type {dtype} »).")
            continue
        models[dtype], _ = load_artefact(settings.models_dir, dtype)
    return models


def model_cards(settings: Settings) -> dict[str, dict[str, Any]]:
    """The card of the current model of each trainable type that has one."""
    from classifier.artefacts import latest_card

    cards = {dtype: latest_card(settings.models_dir, dtype) for dtype in TRAINABLE}
    return {dtype: card for dtype, card in cards.items() if card is not None}


# --------------------------------------------------------------------------- evaluation

def _default_pv_records(settings: Settings, limit: int | None) -> tuple[list[Any], str]:
    from classifier.training import load_vaers, pv_split, vaers_year_paths

    corpora_dir = require_real_corpora(settings)
    cards = model_cards(settings)
    until = int(cards["pv"]["data"]["train_years"][-1]) if "pv" in cards else (settings.classifier.train_until or 2001)
    paths = vaers_year_paths(corpora_dir)
    split = pv_split(paths, until)
    if not split.test_years:
        raise InputError("Aucune année de test après l'année de validation : indiquez --input.")
    name = "vaers-" + "-".join(str(y) for y in (split.test_years[0], split.test_years[-1]))
    return load_vaers([paths[y] for y in split.test_years], limit), name


def _records_from_file(path: Path) -> list[Any]:
    from corpora.io import iter_jsonl
    from corpora.model import Record, dossier_from_json

    out = []
    for n, obj, error in iter_jsonl(path):
        if obj is None:
            raise InputError(f"{path}, ligne {n} : {error}.")
        try:
            out.append(Record(dossier_from_json(obj), obj.get("outcome")))
        except ValueError as exc:
            raise InputError(f"{path}, ligne {n} : dossier invalide ({str(exc).splitlines()[0]}).") from None
    return out


def score_pv(settings: Settings, dossiers: list[Any], masked: bool = False, with_context: bool = False,
             chunk: int = 1000, progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """Scores of PV dossiers through the triage service's :class:`~assistant.services.triage.Assessor`
    (what ``gdr triage`` runs): calibrated ``grave`` / ``critique`` probabilities, model level, criteria
    floor and final level, one entry per dossier."""
    from assistant.services.resources import Resources
    from assistant.services.triage import Assessor
    from classifier.levels import level_rank

    resources = Resources(settings)
    try:
        assessor = Assessor.load(resources, with_context)
        if not hasattr(assessor.models.get("pv"), "calibrated_heads"):
            raise ModelMissing("Aucun modèle PV entraîné : lancez « gdr train --type pv » (corpus réels requis).")
        out: dict[str, list[Any]] = {"grave": [], "critique": [], "model_level": [], "floor": [], "final": []}
        for i in range(0, len(dossiers), chunk):
            part = assessor.assess(dossiers[i:i + chunk], masked=masked, explain=False)
            for a in part:
                out["grave"].append(a.probabilities["grave"])
                out["critique"].append(a.probabilities["critique"])
                out["model_level"].append(a.model_level if a.model_level is not None else 0)
                out["floor"].append(level_rank(a.explanation.niveau_plancher_criteres))
                out["final"].append(level_rank(a.level))
            if progress:
                progress(len(part))
    finally:
        resources.close()
    return {k: np.asarray(v) for k, v in out.items()}


def evaluate(settings: Settings, input_path: Path | None = None, dtype: str = "pv", limit: int | None = None,
             progress: Progress | None = None, with_context: bool = False) -> tuple[Path, dict[str, Any]]:
    """Evaluate the trained model on ``input_path`` (JSON lines with outcomes) or the held-out years.

    The dossiers are scored through the triage service (:func:`score_pv`), exactly as ``gdr triage``
    scores them; the F1 threshold is the one chosen on validation at training (model card).
    """
    from classifier import evaluation, training

    if dtype == "amm":
        return _evaluate_amm(settings)
    if dtype != "pv":
        raise InputError(f"Évaluation disponible pour pv et amm, pas pour « {dtype} ».")
    if input_path is not None:
        records = _records_from_file(Path(input_path))
        name = Path(input_path).stem
        command = f"gdr eval classifier --input {input_path}"
    else:
        records, name = _default_pv_records(settings, limit)
        command = "gdr eval classifier" + (f" --limit {limit}" if limit else "")
    pairs = [(r.dossier, training.pv_level(r.outcome)) for r in records if r.dossier.type == "pv" and r.outcome]
    if not pairs:
        raise InputError("Aucun dossier PV avec issue enregistrée dans l'entrée : rien à évaluer.")
    dossiers = [d for d, _ in pairs]
    y = np.asarray([lv for _, lv in pairs])
    total = len(dossiers)
    started = time.perf_counter()

    def tick(stage: str) -> Callable[[int], None]:
        done = [0]

        def f(n: int) -> None:
            done[0] += n
            if progress:
                progress(stage, done[0], total)

        return f

    s = score_pv(settings, dossiers, with_context=with_context, progress=tick("tel quel"))
    s_m = score_pv(settings, dossiers, masked=True, with_context=with_context, progress=tick("mots d'issue masqués"))
    card = model_cards(settings).get("pv", {})
    f1_at = card.get("thresholds", {}).get("f1_grave")
    ages, sexes = evaluation.groups_of(dossiers)
    data = evaluation.EvalData(name, y, s["grave"], s["final"], s_m["grave"], s_m["final"], ages, sexes,
                               str(card.get("version", "?")), f1_at=f1_at, floors=s["floor"])
    out_dir = settings.reports_dir / "classifier"
    metrics = evaluation.write_report(out_dir, name, data, command)
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    return out_dir / f"{name}.md", metrics


def evaluate_rolling(settings: Settings, limit: int | None = None,
                     progress: Progress | None = None) -> tuple[Path, dict[str, Any]]:
    """``gdr eval classifier --rolling``: the rolling PV protocol, written to ``reports/classifier/``."""
    import json

    from classifier import training
    from corpora.io import atomic_writer

    corpora_dir = require_real_corpora(settings)
    first_year = settings.classifier.first_year or None
    model_name = settings.classifier.run_model or "pv-tfidf-lr"  # the family gdr run ships
    result = training.pv_rolling(corpora_dir, limit=limit, first_year=first_year, model_name=model_name,
                                 progress=progress)
    lines = ["# Protocole glissant PV (VAERS)", "",
             f"Reproduire : `gdr eval classifier --rolling{f' --limit {limit}' if limit else ''}`", "",
             "Pour chaque fenêtre : entraînement ≤ A (depuis " + str(first_year or "la première année") + "), "
             "validation A+1 (calibration et seuils), test A+2.", "",
             "| fenêtre | modèle | roc_auc | F1 (seuil de validation) | rappel grave | précision grave |",
             "|---|---|---|---|---|---|"]
    for window, models in result["windows"].items():
        for name, m in models.items():
            lines.append(f"| {window} | {name} | {m.get('roc_auc', 0):.3f} | "
                         f"{m.get('f1_at_validation_threshold', 0):.3f} | {m['operating_recall_grave']:.3f} | "
                         f"{m['operating_precision_grave']:.3f} |")
    lines += ["", "| modèle | métrique | moyenne | écart-type | min | max |", "|---|---|---|---|---|---|"]
    for name, ms in result["summary"].items():
        for k, v in ms.items():
            lines.append(f"| {name} | {k} | {v['moyenne']:.3f} | {v['ecart_type']:.3f} | {v['min']:.3f} | "
                         f"{v['max']:.3f} |")
    out = settings.reports_dir / "classifier" / "vaers-glissant.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(out) as fh:
        fh.write("\n".join(lines) + "\n")
    with atomic_writer(out.with_suffix(".json")) as fh:
        json.dump(result, fh, ensure_ascii=False, indent=2)
    return out, {"tel_quel": {k: v["moyenne"] for k, v in result["summary"][model_name].items()}}


def _evaluate_amm(settings: Settings) -> tuple[Path, dict[str, Any]]:
    cards = model_cards(settings)
    if "amm" not in cards:
        raise ModelMissing("Aucun modèle AMM entraîné : lancez « gdr train --type amm ».")
    from corpora.io import atomic_writer

    card = cards["amm"]
    out = settings.reports_dir / "classifier" / "amm.md"
    lines = [f"# Évaluation AMM : {card['version']}", ""]
    for split, m in card["metrics"].items():
        lines += [f"## {split}", ""] + [f"- {k} : {v}" for k, v in m.items()] + [""]
    from classifier.evaluation import html_report

    md = "\n".join(lines)
    with atomic_writer(out) as fh:
        fh.write(md)
    with atomic_writer(out.with_suffix(".html")) as fh:
        fh.write(html_report(md, {}))
    return out, card["metrics"]

