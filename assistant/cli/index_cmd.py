"""``gdr index build``, ``gdr index status``, ``gdr search`` and ``gdr eval retrieval`` (thin CLI layer)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import app, err, eval_app, index_app, out_json, settings, user_errors
from corpora.catalog import parse_years


@index_app.command(
    "build",
    help="Construit ou complète l'index hybride (lexical + vectoriel) à partir des corpus. Reprenable : "
    "relancé après une interruption, il termine le travail sans doublon. "
    "Exemple : gdr index build --sources vaers,ema-epar --limit 5000",
)
@user_errors
def build_cmd(
    sources: Annotated[list[str] | None, typer.Option(
        "--sources", "-s", help="Sources à indexer (séparées par des virgules) ; défaut : toutes.",
        show_default=False)] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", "-n", help="Au plus N documents par source.", show_default=False)] = None,
    dense_sources: Annotated[list[str] | None, typer.Option(
        "--dense-sources", help="Sources qui reçoivent des vecteurs denses (défaut : toutes sauf ctgov ; "
        "VAERS seulement à partir de 2004).", show_default=False)] = None,
    dense_max: Annotated[int | None, typer.Option(
        "--dense-max", help="Au plus N documents vectorisés par source (défaut : 3000 ; avec --limit N : N/20, "
        "au moins 20).",
        show_default=False)] = None,
    years: Annotated[str | None, typer.Option(
        "--years", help="Années VAERS à indexer, ex. 2003-2004 ou 2001,2004.", show_default=False)] = None,
    reset: Annotated[bool, typer.Option(
        "--reset", help="Efface l'index avant de le reconstruire (le cache des vecteurs est gardé).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Bilan en JSON sur la sortie standard.")] = False,
) -> None:
    from assistant.services.retrieval import build, summary_fr

    if limit is not None and limit < 1:
        from corpora.errors import InputError

        raise InputError("--limit doit être un entier positif.")
    report = build(settings(), sources=sources, limit=limit, dense_sources=dense_sources, dense_max=dense_max,
                   reset=reset, progress=True, log=err, vaers_years=parse_years(years))
    if json_out:
        out_json(report.as_dict())
    err(summary_fr(report))


@index_app.command("status", help="Affiche le contenu de l'index : documents, passages, vecteurs par source.")
@user_errors
def status_cmd(
    json_out: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    from assistant.services.retrieval import retrieval_config
    from retrieval.stores.docstore import DocStore

    config = retrieval_config(settings())
    store = DocStore(config.docstore_path)
    try:
        counts = store.counts()
        by_source = store.counts_by_source()
        meta = store.get_meta()
    finally:
        store.close()
    if json_out:
        out_json({"counts": counts, "by_source": by_source, "meta": meta})
        return
    err(f"Index {config.index_dir} (encodeur {meta.get('embedder')}, dimension {meta.get('dim')}) : "
        f"{counts['documents']} documents, {counts['chunks']} passages dont {counts['dense_chunks']} vectorisés.")
    for source, (n, d) in by_source.items():
        err(f"  {source:<17} {n:>7} documents, {d:>6} vectorisés")


@index_app.command("show", help="Affiche un document indexé (texte stocké, métadonnées, issue) par identifiant.")
@user_errors
def show_cmd(
    document_id: Annotated[str, typer.Argument(help="Identifiant du document, ex. vaers:214577 ou bdpm:61266250.")],
    json_out: Annotated[bool, typer.Option("--json", help="Le document en une ligne JSON.")] = False,
) -> None:
    from assistant.services.resources import Resources
    from assistant.services.retrieval import get_document

    s = settings()
    with Resources(s) as resources:
        document = get_document(s, document_id, resources=resources)
    if json_out:
        out_json(document.model_dump(mode="json"))
        return
    typer.echo(f"{document.id} — {document.title} ({document.source}, {document.kind})")
    typer.echo(document.text)


@app.command(
    "search",
    help="Recherche hybride dans l'index (français ou anglais). "
    "Exemple : gdr search \"myocardite après vaccination\" --source vaers -k 5",
)
@user_errors
def search_cmd(
    query: Annotated[str, typer.Argument(help="Texte recherché (10 000 caractères au plus).",
                                         show_default=False)],
    source: Annotated[list[str] | None, typer.Option("--source", help="Filtrer par source (répétable).",
                                                     show_default=False)] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="Filtrer par nature : case, opinion, "
                                                   "guideline… (répétable).", show_default=False)] = None,
    dossier_type: Annotated[list[str] | None, typer.Option("--type", help="Filtrer par type de dossier : "
                                                           "pv, amm, aec.", show_default=False)] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="Filtre clé=valeur (répétable), ex. "
                                                    "--where year=2004 --where serious=oui.",
                                                    show_default=False)] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Nombre de résultats.")] = 10,
    method: Annotated[str | None, typer.Option("--method", help="hybrid, dense ou lexical "
                                               "(défaut : réglage retrieval.default_method).",
                                               show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Une ligne JSON par résultat (Hit).")] = False,
) -> None:
    from assistant.services.resources import Resources
    from assistant.services.retrieval import search
    from retrieval.search import check_query, parse_where

    check_query(query)
    filters: dict[str, list[str]] = dict(parse_where(where or []))
    for key, values in (("source", source), ("kind", kind), ("type", dossier_type)):
        if values:
            filters.setdefault(key, []).extend(values)
    s = settings()
    with Resources(s) as resources:
        hits = search(s, query, k=k, filters=filters or None, method=method, resources=resources)
    if json_out:
        for hit in hits:
            out_json(hit.model_dump(mode="json"))
        return
    if not hits:
        err("Aucun résultat.")
        return
    for i, hit in enumerate(hits, start=1):
        excerpt = " ".join(hit.excerpt.split())
        if len(excerpt) > 300:
            excerpt = excerpt[:297] + "…"
        typer.echo(f"{i}. {hit.title}  [{hit.document_id}, {hit.kind}, similarité {hit.similarity:.2f}]")
        typer.echo(f"   « {excerpt} » (caractères {hit.start}–{hit.end})")
        if hit.outcome:
            flags = ", ".join(f"{k}={v}" for k, v in hit.outcome.items() if v not in (None, False, ""))
            typer.echo(f"   Issue enregistrée : {flags or 'aucun critère de gravité'}")


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
    if json_out:
        for row in result.rows:
            out_json(row)
    typer.echo(result.markdown)
    err(f"Rapport écrit : {result.path}")
