"""``gdr feedback list|export``: users' feedback for the admins (thin layer over the feedback service)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import _HELP, app, database_session, err, out_json, output_file, parse_day, user_errors

feedback_app = typer.Typer(help="Retours des utilisateurs (utile, pas utile, suggestions, problèmes).",
                           no_args_is_help=True, context_settings=_HELP)
app.add_typer(feedback_app, name="feedback")

KindOption = Annotated[str | None, typer.Option("--kind", help="utile, pas_utile, suggestion ou probleme.")]
SinceOption = Annotated[str | None, typer.Option("--since", help="Depuis cette date (AAAA-MM-JJ).")]


@feedback_app.command("list")
@user_errors
def list_cmd(
    kind: KindOption = None, since: SinceOption = None,
    limit: Annotated[int, typer.Option("--limit", help="Nombre maximal de retours.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Une ligne JSON par retour.")] = False,
) -> None:
    """Liste les retours, le plus récent d'abord (type, auteur, écran, dossier, commentaire)."""
    from assistant.services.feedback import FEEDBACK_KINDS, list_feedback

    with database_session() as session:
        rows = list_feedback(session, kind=kind, since=parse_day(since, "--since"), limit=limit)
    for f in rows:
        if as_json:
            out_json(f.model_dump(mode="json"))
            continue
        where = " · ".join(x for x in (f.screen, f.dossier_id) if x)
        typer.echo(f"n° {f.id} {f.created_at:%Y-%m-%d %H:%M} {FEEDBACK_KINDS.get(f.kind, f.kind):<10} {f.author:<16} "
                   f"{where}" + (f" — {f.comment}" if f.comment else ""))
    err(f"{len(rows)} retour(s).")


@feedback_app.command("export")
@user_errors
def export_cmd(
    kind: KindOption = None, since: SinceOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Fichier CSV (défaut : sortie standard).")] = None,
) -> None:
    """Exporte les retours en CSV (UTF-8, en-têtes en français) ; l'export est journalisé."""
    from assistant.services.audit import cli_actor
    from assistant.services.feedback import MAX_LIST, list_feedback, record_export, to_csv

    day = parse_day(since, "--since")
    with database_session() as session:
        rows = list_feedback(session, kind=kind, since=day, limit=MAX_LIST)
        text = to_csv(rows)
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            with output_file(out, ".csv") as handle:
                handle.write(text)
        record_export(session, actor=cli_actor(), count=len(rows), kind=kind, since=day,
                      destination=str(out) if out else "stdout")
        session.commit()
    err(f"{len(rows)} retour(s) exporté(s)" + (f" dans {out}" if out else "") + ".")
