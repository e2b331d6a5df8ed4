"""``gdr index build|status|show`` (thin layer over the retrieval service)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import err, index_app, out_json, settings, user_errors
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
