"""``gdr eval retrieval|classifier|chat``: reproducible evaluations written as reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.common import err, eval_app, out_json, progress_bars, settings, user_errors


@eval_app.command(
    "retrieval",
    help="Évalue la recherche (lexicale, dense, hybride) sur des jeux étiquetés dérivés des corpus réels : "
    "précédents VAERS, avis HAS, interlingue HAS/BDPM → EMA. Écrit data_dir/reports/retrieval_eval.md.",
)
@user_errors
def eval_retrieval_cmd(
    split: Annotated[str, typer.Option("--split", help="dev (réglages) ou test (rapport).")] = "test",
    limit: Annotated[int | None, typer.Option("--limit", help="Au plus N requêtes par jeu (défaut : 200).",
                                              show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Résultats en JSON Lines.")] = False,
) -> None:
    from assistant.services.retrieval import run_evaluation

    result = run_evaluation(settings(), split=split, limit=limit, log=err)
    _report(result, json_out)


@eval_app.command("classifier")
@user_errors
def eval_classifier_cmd(
    input_: Path | None = typer.Option(None, "--input", help="fichier JSON Lines converti avec issues "
                                       "(défaut : années VAERS de test du modèle)"),
    type_: str = typer.Option("pv", "--type", help="pv ou amm"),
    limit: int | None = typer.Option(None, "--limit", help="au plus N signalements par année (années de test)"),
    context: bool = typer.Option(False, "--context/--no-context",
                                 help="ajouter le contexte des bases publiques, comme « gdr triage » par défaut"),
    rolling: bool = typer.Option(False, "--rolling", help="protocole glissant PV : entraînement ≤ A, validation "
                                 "A+1, test A+2 pour plusieurs années A (moyenne et dispersion)"),
    json_: bool = typer.Option(False, "--json", help="métriques principales en une ligne JSON"),
) -> None:
    """Évalue le classifieur sur des données jamais vues et écrit un rapport Markdown + HTML avec graphiques.

    Les dossiers sont notés par le même service que « gdr triage »."""
    from assistant.services import classifier as service

    progress, close = progress_bars()
    try:
        if rolling:
            path, metrics = service.evaluate_rolling(settings(), limit=limit, progress=progress)  # type: ignore[arg-type]
        else:
            path, metrics = service.evaluate(settings(), input_, type_, limit=limit, progress=progress,  # type: ignore[arg-type]
                                             with_context=context)
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


@eval_app.command(
    "chat",
    help="Évalue l'assistant sur le jeu de questions étiqueté (tests/assistant/data/chat_eval.jsonl) : exactitude, "
    "appui des citations, précision et rappel des refus, latence p50/p95. Écrit data_dir/reports/chat_eval.md.",
)
@user_errors
def eval_chat_cmd(
    split: Annotated[str, typer.Option("--split", help="dev (réglages) ou test (rapport).")] = "test",
    input_path: Annotated[Path | None, typer.Option("--input", help="Autre jeu étiqueté (JSON Lines).",
                                                    show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Une ligne JSON par question.")] = False,
) -> None:
    from assistant.services.chat.evaluation import run_evaluation

    result = run_evaluation(settings(), split=split, path=input_path, log=err)
    _report(result, json_out)


def _report(result: Any, json_out: bool) -> None:
    """An evaluation's rows (``--json``), its Markdown table and where the report was written."""
    if json_out:
        for row in result.rows:
            out_json(row)
    typer.echo(result.markdown)
    err(f"Rapport écrit : {result.path}")
