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
          model_name: str | None = None) -> Any:
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
        name = model_name or (settings.classifier.model if settings.classifier.model.startswith("pv-")
                              else training.DEFAULT_PV_MODEL)
        return training.train_pv(corpora_dir, settings.models_dir, train_until=until, limit=limit,
                                 workers=workers, progress=progress, first_year=first_year, model_name=name)
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


def evaluate(settings: Settings, input_path: Path | None = None, dtype: str = "pv", limit: int | None = None,
             workers: int = 2, progress: Progress | None = None) -> tuple[Path, dict[str, Any]]:
    """Evaluate the trained model on ``input_path`` (JSON lines with outcomes) or the held-out years."""
    from classifier import evaluation, training

    if dtype == "amm":
        return _evaluate_amm(settings)
    if dtype != "pv":
        raise InputError(f"Évaluation disponible pour pv et amm, pas pour « {dtype} ».")
    models = load_models(settings)
    model = models["pv"]
    if not hasattr(model, "calibrated_heads"):
        raise ModelMissing("Aucun modèle PV entraîné : lancez « gdr train --type pv » (corpus réels requis).")
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

    rows = training.feature_rows(dossiers, workers=workers, progress=tick("tel quel"))
    rows_m = training.feature_rows(dossiers, masked=True, workers=workers, progress=tick("mots d'issue masqués"))
    probs, probs_m = model.calibrated_heads(rows), model.calibrated_heads(rows_m)
    final = np.maximum(model.levels_from(probs), evaluation.floors_of(rows))
    final_m = np.maximum(model.levels_from(probs_m), evaluation.floors_of(rows_m))
    ages, sexes = evaluation.groups_of(dossiers)
    data = evaluation.EvalData(name, y, probs["grave"], final, probs_m["grave"], final_m, ages, sexes,
                               str(getattr(model, "version", "?")))
    out_dir = settings.reports_dir / "classifier"
    metrics = evaluation.write_report(out_dir, name, data, command)
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    return out_dir / f"{name}.md", metrics


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

