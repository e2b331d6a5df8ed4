"""``gdr search``: hybrid search over the index, cited passages."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import app, err, out_json, settings, user_errors
from corpora.normalise import fr_decimal


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
    from assistant.services.chat.answerer import outcome_fr
    from assistant.services.resources import Resources
    from assistant.services.retrieval import check_filter_values, search
    from retrieval.search import check_query, normalise_filters, parse_where

    check_query(query)
    filters: dict[str, list[str]] = dict(parse_where(where or []))
    for key, values in (("source", source), ("kind", kind), ("type", dossier_type)):
        if values:
            filters.setdefault(key, []).extend(values)
    check_filter_values(normalise_filters(filters))
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
        typer.echo(f"{i}. {hit.title}  [{hit.document_id}, {hit.kind}, similarité {fr_decimal(hit.similarity, 2)}]")
        typer.echo(f"   « {excerpt} » (caractères {hit.start}–{hit.end})")
        if hit.outcome:
            typer.echo(f"   Issue enregistrée : {outcome_fr(hit.outcome)}.")
