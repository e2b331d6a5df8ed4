"""Commands of the classifier: ``gdr train``, ``gdr triage``, ``gdr eval classifier``.

Exit codes of ``gdr triage``: 0 all dossiers triaged; 2 bad input (one French line on
stderr); 3 some lines were skipped (each reported on stderr with its line number).
"""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.common import app, err, eval_app, out_json, settings, user_errors


def _bar() -> tuple[object, object]:
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="dossier", leave=True, file=None)
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return progress, close


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
    model: str | None = typer.Option(None, "--model", help="modèle PV enregistré (pv-tfidf-lr, pv-stack ; "
                                     "défaut : réglage classifier.model ou pv-tfidf-lr)"),
) -> None:
    """Entraîne le modèle de risque sur les issues réelles ; écrit l'artefact et sa fiche (dossier de données)."""
    from assistant.services import classifier as service

    progress, close = _bar()
    try:
        result = service.train(settings(), type_, train_until=train_until, limit=limit, workers=workers,
                               progress=progress, first_year=first_year, model_name=model)  # type: ignore[arg-type]
    finally:
        close()  # type: ignore[operator]
    if isinstance(result, Path):
        err("Pas de modèle appris pour les AEC (aucune étiquette d'issue honnête) : tri sur les seuls critères ; "
            f"fiche écrite : {result}.")
        return
    test = result.metrics.get("test", {})
    err(f"Modèle {result.version} écrit dans {result.directory} ({result.seconds:.0f} s).")
    if test:
        shown = {k: test.get(k) for k in ("roc_auc", "best_f1", "operating_recall_grave",
                                           "operating_precision_grave", "critique_placed_at_critique") if k in test}
        err("Test : " + ", ".join(f"{k} = {v:.3f}" for k, v in shown.items() if isinstance(v, float)))


@app.command("triage")
@user_errors
def triage_cmd(
    files: list[Path] = typer.Argument(..., help="fichiers ou dossiers : JSON Lines de dossiers (gdr corpora "
                                       "convert), .txt/.md, PDF (dont formulaire CIOMS I), DOCX, ICSR E2B(R3) .xml, "
                                       "lot .csv ou .zip"),
    json_: bool = typer.Option(False, "--json", help="une ligne JSON par dossier sur la sortie standard"),
    no_precedents: bool = typer.Option(False, "--no-precedents", help="ne pas chercher de précédents ni de lignes "
                                       "directrices"),
    workers: int = typer.Option(1, "--workers", help="processus de calcul (2 pour les gros lots)"),
    type_: str = typer.Option("pv", "--type", help="type des dossiers .txt/.md et des lignes CSV sans type : "
                              "pv, amm ou aec"),
) -> None:
    """Évalue le niveau de risque de chaque dossier et propose un mode de traitement, avec critères et précédents.

    Un dossier (répertoire) est lu comme un lot : chacun de ses fichiers est trié. Une ligne ou un fichier
    invalide d'un lot (JSON mal formé, type inconnu, texte ni français ni anglais, PDF illisible…) est
    signalé sur la sortie d'erreur avec sa place puis ignoré ; le lot continue et le code de sortie vaut
    alors 3. Un fichier nommé illisible dans son ensemble arrête la commande (code 2) avant toute sortie.
    """
    from assistant.services.batch import path_entries, triage_entries
    from assistant.services.resources import Resources
    from assistant.services.triage import EXIT_SKIPPED, summary_fr

    s = settings()
    skipped = 0
    entries = path_entries(s, files, type_)
    with Resources(s) as resources:
        for row in triage_entries(s, entries, with_precedents=not no_precedents, workers=max(1, workers),
                                  resources=resources):
            if row.result is None:
                skipped += 1
                err(f"{row.where} : {row.error} — ignoré.")
                continue
            if json_:
                out_json(row.result.model_dump(mode="json"))
            else:
                typer.echo(summary_fr(row.result))
                typer.echo("")
    if skipped:
        err(f"{skipped} dossier(s) ignoré(s) : voir les messages ci-dessus.")
        raise typer.Exit(EXIT_SKIPPED)


@eval_app.command("classifier")
@user_errors
def eval_classifier_cmd(
    input_: Path | None = typer.Option(None, "--input", help="fichier JSON Lines converti avec issues "
                                       "(défaut : années VAERS de test du modèle)"),
    type_: str = typer.Option("pv", "--type", help="pv ou amm"),
    limit: int | None = typer.Option(None, "--limit", help="au plus N signalements par année (années de test)"),
    workers: int = typer.Option(2, "--workers", help="processus pour l'extraction des caractéristiques"),
    json_: bool = typer.Option(False, "--json", help="métriques principales en une ligne JSON"),
) -> None:
    """Évalue le classifieur sur des données jamais vues et écrit un rapport Markdown + HTML avec graphiques."""
    from assistant.services import classifier as service

    progress, close = _bar()
    try:
        path, metrics = service.evaluate(settings(), input_, type_, limit=limit, workers=workers,
                                         progress=progress)  # type: ignore[arg-type]
    finally:
        close()  # type: ignore[operator]
    err(f"Rapport écrit : {path} (et {path.with_suffix('.html').name}).")
    main = metrics.get("tel_quel", metrics.get("test", {}))
    masked = metrics.get("mots_issue_masques", {})
    flat = {k: v for k, v in main.items() if not isinstance(v, dict | list)}
    flat_masked = {k: v for k, v in masked.items() if not isinstance(v, dict | list)}
    if json_:
        out_json({"report": str(path), "metrics": flat, "masked": flat_masked})
        return
    typer.echo(f"Rapport : {path}")
    for key, value in flat.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        extra = flat_masked.get(key)
        extra_s = f" (mots d'issue masqués : {extra:.3f})" if isinstance(extra, float) else ""
        typer.echo(f"  {key} : {shown}{extra_s}")
