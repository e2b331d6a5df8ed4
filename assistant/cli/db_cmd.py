"""``gdr db upgrade|status``, ``gdr ingest`` and ``gdr serve`` (thin layer over the services)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.common import app, db_app, err, out_json, settings, user_errors

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
    seconds = f"{run['seconds']:.2f} s" if run["seconds"] is not None else "durée inconnue"
    line = (f"Ingestion n° {run['id']} ({run['source']}, {run['started_at'][:19].replace('T', ' ')}) : "
            f"{_STATUS_FR.get(run['status'], run['status'])}, {run['written']} écrit(s), {run['read']} lu(s), "
            f"{skipped} ignoré(s), {seconds}")
    if run.get("error"):
        line += f" — {run['error']}"
    return line


@app.command(
    "ingest",
    help="Charge des dossiers et leurs issues dans la base de données : l'échantillon fictif intégré "
    "(par défaut), des fichiers JSONL écrits par « gdr corpora convert », ou avec --corpus les dossiers "
    "des corpus (GDR_CORPORA_DIR : VAERS → pv, EPAR → amm). Relancer est sans effet de bord (mise à "
    "jour par identifiant).",
)
@user_errors
def ingest_cmd(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Fichiers JSONL convertis ; sans argument : l'échantillon intégré.", show_default=False),
    ] = None,
    corpus: Annotated[bool, typer.Option(
        "--corpus", help="Dossiers des corpus (GDR_CORPORA_DIR ; sinon l'échantillon intégré).")] = False,
    types: Annotated[list[str] | None, typer.Option(
        "--type", "-t", help="Avec --corpus : types à charger (pv, amm, aec ; répétable).",
        show_default=False)] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Au plus N dossiers (par source avec --corpus).",
                                 show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Résumé JSON (une ligne) sur la sortie standard.")] = False,
) -> None:
    from assistant.services.ingest import ingest_corpora, ingest_files, ingest_sample, summary_fr
    from corpora.errors import InputError

    s = settings()
    if corpus and files:
        raise InputError("Indiquez soit des fichiers JSONL, soit --corpus, pas les deux.")
    if types and not corpus:
        raise InputError("L'option --type ne s'emploie qu'avec --corpus.")
    if corpus:
        summary = ingest_corpora(s, types=types, limit=limit)
    elif files:
        summary = ingest_files(s, list(files), limit=limit)
    else:
        summary = ingest_sample(s, limit=limit)
    if as_json:
        out_json(summary.model_dump(mode="json"))
    err(summary_fr(summary))
    if summary.read == 0:
        err("Attention : aucun dossier lu.")
    if summary.skipped:
        raise typer.Exit(1)


@app.command("serve", help="Lance l'API HTTP (FastAPI) au premier plan ; la base est mise à jour au démarrage.")
@user_errors
def serve_cmd(
    host: Annotated[str | None, typer.Option("--host", help="Adresse d'écoute (défaut : réglage api.host).",
                                             show_default=False)] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (défaut : réglage api.port).",
                                             show_default=False, min=1, max=65535)] = None,
) -> None:
    serve(host=host, port=port)


def _check_port(host: str, port: int) -> None:
    """Fail with one French line when the address is taken (uvicorn would print an English error)."""
    import socket

    from corpora.errors import InputError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InputError(f"Adresse d'écoute invalide : {host}.") from exc
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputError(
                f"Impossible d'écouter sur {host}:{port} : port déjà utilisé ou adresse indisponible. "
                "Choisissez un autre port avec --port."
            ) from exc


def _warn_without_accounts(api: Any) -> None:
    from sqlalchemy.orm import Session

    from assistant.services.users import NO_ACCOUNT_WARNING

    with Session(api.state.engine) as session:
        if api.state.auth.accounts.count(session=session) == 0:
            err(NO_ACCOUNT_WARNING)


def serve(*, host: str | None = None, port: int | None = None) -> None:
    """Upgrade the database, build the app and serve it in the foreground (used by ``gdr run`` too)."""
    import uvicorn

    from assistant.api.app import create_app
    from assistant.db.engine import upgrade

    s = settings()
    host = host or s.api.host
    port = port or s.api.port
    _check_port(host, port)
    upgrade(s)
    api = create_app(s)
    _warn_without_accounts(api)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    err(f"GDR Santé disponible sur http://{shown}:{port} "
        "(accueil : /, discussion : /chat, schéma OpenAPI : /openapi.json)")
    sys.stderr.flush()
    uvicorn.run(api, host=host, port=port, log_level="warning")
