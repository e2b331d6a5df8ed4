"""``gdr train``: a risk model trained on real recorded outcomes."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.common import app, err, progress_bars, settings, user_errors


@app.command("train")
@user_errors
def train_cmd(
    type_: str = typer.Option("pv", "--type",
                              help="type de dossier : pv, amm ou aec (aec : fiche seule, aucun modèle appris)"),
    train_until: int | None = typer.Option(None, "--train-until", help="dernière année VAERS d'entraînement "
                                           "(validation = année suivante, test = années ultérieures ; défaut 2001)"),
    limit: int | None = typer.Option(None, "--limit", help="au plus N signalements par année (développement)"),
    first_year: int | None = typer.Option(None, "--first-year", help="première année VAERS d'entraînement "
                                          "(défaut : réglage classifier.first_year, 1996 ; 0 = toutes)"),
    workers: int = typer.Option(2, "--workers", help="processus pour l'extraction des caractéristiques"),
    model: str | None = typer.Option(None, "--model", help="un seul modèle PV enregistré (pv-blend, pv-tfidf-lr, "
                                     "pv-stack) ; défaut : réglage classifier.model s'il nomme un modèle PV, sinon le "
                                     "protocole choisit sur la validation parmi les candidats"),
) -> None:
    """Entraîne le modèle de risque sur les issues réelles ; écrit l'artefact et sa fiche (dossier de données)."""
    from assistant.services import classifier as service

    progress, close = progress_bars()
    try:
        result = service.train(settings(), type_, train_until=train_until, limit=limit, workers=workers,
                               progress=progress, first_year=first_year, model_name=model,  # type: ignore[arg-type]
                               log=err)
    finally:
        close()  # type: ignore[operator]
    if isinstance(result, Path):
        err("Pas de modèle appris pour les AEC (aucune étiquette d'issue honnête) : tri sur les seuls critères ; "
            f"fiche écrite : {result}.")
        return
    test = result.metrics.get("test", {})
    err(f"Modèle {result.version} écrit dans {result.directory} ({result.seconds:.0f} s).")
    if isinstance(test.get("modele_livre"), dict):
        from classifier.evaluation import protocol_table

        typer.echo(protocol_table(result.metrics))
    elif test:
        shown = {k: test.get(k) for k in ("roc_auc", "f1_at_validation_threshold", "operating_recall_grave",
                                           "operating_precision_grave", "critique_placed_at_critique") if k in test}
        err("Test : " + ", ".join(f"{k} = {v:.3f}" for k, v in shown.items() if isinstance(v, float)))
