"""The store of trained model artefacts under ``<data_dir>/models/<type>/<version>/``.

Each version holds ``model.joblib``, ``model_card.json`` and ``model_card.md``;
``<data_dir>/models/<type>/LATEST`` names the current version. joblib (pickle) is only ever
loaded from that data dir, and only after its sha256 matches the one recorded in the model
card. Training writes here (:mod:`classifier.training`); serving only reads.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from corpora.errors import ModelMissing, StoreError
from corpora.io import atomic_writer


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_artefact(models_dir: Path, dtype: str, version: str, model: Any, card: dict[str, Any],
                  card_markdown: str) -> Path:
    import joblib

    directory = Path(models_dir) / dtype / version
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_writer(directory / "model.joblib", "wb") as fh:
        joblib.dump(model, fh, compress=3)
    card = dict(card, artefact={"file": "model.joblib", "sha256": sha256_file(directory / "model.joblib")})
    with atomic_writer(directory / "model_card.json") as fh:
        json.dump(card, fh, ensure_ascii=False, indent=2, default=str)
    with atomic_writer(directory / "model_card.md") as fh:
        fh.write(card_markdown)
    with atomic_writer(Path(models_dir) / dtype / "LATEST") as fh:
        fh.write(version + "\n")
    return directory


def latest_version(models_dir: Path, dtype: str) -> str | None:
    pointer = Path(models_dir) / dtype / "LATEST"
    if not pointer.is_file():
        return None
    version = pointer.read_text(encoding="utf-8").strip()
    return version or None


def load_artefact(models_dir: Path, dtype: str, version: str | None = None) -> tuple[Any, dict[str, Any]]:
    """Load a model we wrote ourselves, after checking its sha256 against its model card."""
    import joblib

    version = version or latest_version(models_dir, dtype)
    if not version:
        raise ModelMissing(f"Aucun modèle entraîné pour le type {dtype} (lancez « gdr train --type {dtype} »).")
    directory = Path(models_dir) / dtype / version
    card_path = directory / "model_card.json"
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        expected = card["artefact"]["sha256"]
    except (OSError, ValueError, KeyError) as exc:
        raise StoreError(f"Fiche du modèle illisible : {card_path}.") from exc
    path = directory / "model.joblib"
    if not path.is_file() or sha256_file(path) != expected:
        raise StoreError(f"Artefact du modèle {path} absent ou modifié (empreinte sha256 différente) : "
                         "réentraînez avec « gdr train ».")
    model = joblib.load(path)
    model.version = card.get("version", version)
    return model, card


def latest_card(models_dir: Path, dtype: str) -> dict[str, Any] | None:
    """The model card of the current version of ``dtype`` (None when none was trained)."""
    version = latest_version(models_dir, dtype)
    path = Path(models_dir) / dtype / (version or "") / "model_card.json"
    if not version or not path.is_file():
        return None
    card: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return card
