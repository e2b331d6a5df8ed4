"""``gdr consistency``: similar dossiers with different decisions or levels (thin layer over the service)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import app, database_session, err, out_json, parse_day, settings, user_errors


@app.command("consistency")
@user_errors
def consistency_cmd(
    type: Annotated[str | None, typer.Option("--type", help="pv, amm ou aec.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Paires dont au moins un dossier a été décidé depuis "
                                              "cette date (AAAA-MM-JJ).")] = None,
    min_similarity: Annotated[float, typer.Option("--min-similarity", help="Similarité minimale des situations "
                                                  "(0 à 1).")] = 0.5,
    pending: Annotated[bool, typer.Option("--pending", help="Compter aussi les propositions en attente.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Nombre maximal de paires affichées.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Une ligne JSON par paire sur la sortie standard.")] = False,
) -> None:
    """« À situation égale, traitement égal » : paires de dossiers semblables ayant reçu des décisions ou des
    niveaux différents, avec les deux justifications (motif, critères, proposition), pour les aligner."""
    from assistant.services.consistency import consistency_pairs, summary_fr

    with database_session(settings()) as session:
        report = consistency_pairs(session, dossier_type=type, since=parse_day(since, "--since"),
                                   min_similarity=min_similarity, include_pending=pending, limit=limit)
    for pair in report.items:
        if as_json:
            out_json(pair.model_dump(mode="json"))
        else:
            typer.echo("\n".join(summary_fr(pair)))
            typer.echo("")
    shown = f", {len(report.items)} affichée(s)" if len(report.items) < report.total else ""
    err(f"{report.total} paire(s) divergente(s) parmi {report.compared} dossier(s) comparé(s) "
        f"(similarité ≥ {report.min_similarity:.2f}){shown}.")
