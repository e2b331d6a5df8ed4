"""``gdr db upgrade|status`` (thin layer over the database services)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from assistant.cli.common import db_app, err, out_json, settings, user_errors
from corpora.normalise import fr_decimal

_STATUS_FR = {"running": "en cours (ou interrompue)", "completed": "terminée", "failed": "échec"}


@db_app.command("upgrade", help="Crée ou met à jour le schéma de la base de données (migrations Alembic).")
@user_errors
def upgrade_cmd() -> None:
    from assistant.db.engine import database_url, safe_url, upgrade

    s = settings()
    revision = upgrade(s)
    err(f"Base de données à jour (révision {revision}) : {safe_url(database_url(s))}")


@db_app.command("status", help="Affiche la révision du schéma, le nombre de dossiers et les dernières ingestions.")
@user_errors
def status_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (une ligne) sur la sortie standard.")] = False,
) -> None:
    from sqlalchemy.orm import Session

    from assistant.db.engine import database_url, make_engine, safe_url
    from assistant.services.dossiers import database_status

    s = settings()
    engine = make_engine(s)
    try:
        with Session(engine) as session:
            status = database_status(session=session, url=safe_url(database_url(s)))
    finally:
        engine.dispose()
    if as_json:
        out_json(status.model_dump(mode="json"))
        return
    typer.echo(f"Base : {status.url}")
    if status.revision is None:
        typer.echo(f"Schéma : non initialisé (révision attendue {status.head}) : lancez « gdr db upgrade ».")
        return
    state = "à jour" if status.up_to_date else f"à migrer vers {status.head} (« gdr db upgrade »)"
    typer.echo(f"Schéma : révision {status.revision}, {state}")
    per_type = ", ".join(f"{k} {v}" for k, v in status.by_type.items()) or "aucun"
    typer.echo(f"Dossiers : {status.dossiers} ({per_type}) ; issues enregistrées : {status.outcomes}")
    if status.by_source:
        typer.echo("Par source : " + ", ".join(f"{k} {v}" for k, v in status.by_source.items()))
    if not status.ingest_runs:
        typer.echo("Aucune ingestion enregistrée : lancez « gdr ingest ».")
    for run in status.ingest_runs:
        typer.echo(_run_line(run))


def _run_line(run: dict[str, Any]) -> str:
    skipped = sum(run["skipped"].values()) if run["skipped"] else 0
    seconds = f"{fr_decimal(run['seconds'], 2)} s" if run["seconds"] is not None else "durée inconnue"
    line = (f"Ingestion n° {run['id']} ({run['source']}, {run['started_at'][:19].replace('T', ' ')}) : "
            f"{_STATUS_FR.get(run['status'], run['status'])}, {run['written']} écrit(s), {run['read']} lu(s), "
            f"{skipped} ignoré(s), {seconds}")
    if run.get("error"):
        line += f" — {run['error']}"
    return line
