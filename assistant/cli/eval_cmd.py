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
    limit: Annotated[int | None, typer.Option("--limit", help="Au plus N requêtes par jeu et par moitié (défaut : 50).",
                                              show_default=False)] = None,
    sets: Annotated[list[str] | None, typer.Option(
        "--jeu", help="Jeu à évaluer (répétable) : vaers, has, crosslingual (défaut : les trois).",
        show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Résultats en JSON Lines.")] = False,
) -> None:
    from assistant.services.retrieval import run_evaluation

    result = run_evaluation(settings(), split=split, limit=limit, log=err, sets=sets)
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


@eval_app.command(
    "duplicates",
    help="Évalue la détection des doublons sur des paires construites à partir de VAERS (copies perturbées "
    "de vrais signalements ; paires aléatoires et difficiles de signalements différents) : seuil choisi sur "
    "l'année de développement, précision et rappel lus sur l'année de test. Écrit "
    "data_dir/reports/duplicates_eval.md.",
)
@user_errors
def eval_duplicates_cmd(
    dev_year: Annotated[int | None, typer.Option("--dev-year", help="Année VAERS du choix du seuil (défaut : 2003).",
                                                 show_default=False)] = None,
    test_year: Annotated[int | None, typer.Option("--test-year", help="Année VAERS du rapport (défaut : 2004).",
                                                  show_default=False)] = None,
    pairs: Annotated[int | None, typer.Option("--pairs", help="Positives par année, et autant de négatives de "
                                              "chaque sorte (défaut : 1000).", show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Une ligne JSON par méthode.")] = False,
) -> None:
    from assistant.services.duplicates import run_evaluation
    from retrieval.duplicates_eval import markdown

    path, result = run_evaluation(settings(), dev_year=dev_year, test_year=test_year, pairs=pairs, log=err)
    if json_out:
        for row in result["rows"]:
            out_json(row)
    else:
        typer.echo(markdown(result, "gdr eval duplicates"))
    err(f"Rapport écrit : {path}")


def _report(result: Any, json_out: bool) -> None:
    """An evaluation's rows (``--json``), its Markdown table and where the report was written."""
    if json_out:
        for row in result.rows:
            out_json(row)
    typer.echo(result.markdown)
    err(f"Rapport écrit : {result.path}")


@eval_app.command(
    "products",
    help="Reconnaissance des produits dans des récits français (BDPM : marque et substance) : part des produits "
    "reconnus et part des faits de contexte qui concernent un produit du dossier. Corpus réels nécessaires.",
)
@user_errors
def eval_products_cmd(
    split: Annotated[str, typer.Option("--split", help="dev (récits utilisés pour la mise au point) ou test "
                                       "(récits écrits ensuite, lus une fois)")] = "test",
    input_: Annotated[Path | None, typer.Option("--input", help="JSON Lines {id, text, products: [{name, "
                                                "substance}]} à la place du jeu du projet", show_default=False)]
    = None,
    json_out: Annotated[bool, typer.Option("--json", help="Résultats en une ligne JSON.")] = False,
) -> None:
    from classifier.knowledge_base import build_knowledge_base
    from classifier.products_eval import SPLITS, evaluate_products, read_set, summary_fr
    from corpora.errors import InputError

    if split not in SPLITS:
        raise InputError(f"Jeu inconnu : « {split} » (attendu : dev ou test).")
    s = settings()
    if not s.uses_real_corpora:
        raise InputError("Évaluation impossible sans les corpus réels (GDR_CORPORA_DIR) : la BDPM est nécessaire.")
    kb = build_knowledge_base(s.effective_corpora_dir, s.cache_dir, sources=["bdpm", "ema", "ansm"])
    result = evaluate_products(read_set(input_ or SPLITS[split]), kb)
    if json_out:
        out_json(result.to_json())
    else:
        typer.echo(summary_fr(result))
