"""``gdr audit verify|export|purge``: the hash-chained audit log (thin layer over the audit service)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import (
    _HELP,
    app,
    database_session,
    err,
    out_json,
    output_file,
    parse_day,
    settings,
    user_errors,
)

audit_app = typer.Typer(
    help="Journal d'audit chaîné (empreintes SHA-256) : vérification, export, purge au-delà de la conservation.",
    no_args_is_help=True, context_settings=_HELP,
)
app.add_typer(audit_app, name="audit")

EXIT_BROKEN = 1


@audit_app.command("verify")
@user_errors
def verify_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Le résultat en JSON sur la sortie standard.")] = False,
) -> None:
    """Recalcule toutes les empreintes : code 0 si la chaîne est intègre, 1 en nommant le premier événement rompu."""
    from assistant.services.audit import verify_chain

    with database_session() as session:
        result = verify_chain(session)
    if as_json:
        out_json(result.model_dump(mode="json"))
    err(result.message())
    if not result.ok:
        raise typer.Exit(EXIT_BROKEN)


@audit_app.command("export")
@user_errors
def export_cmd(
    since: Annotated[str | None, typer.Option("--since", help="Depuis cette date incluse (AAAA-MM-JJ, UTC).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Jusqu'à cette date exclue (AAAA-MM-JJ, UTC).")] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="Seulement ce type d'événement (répétable).")] = None,
    dossier: Annotated[str | None, typer.Option("--dossier", help="Seulement les événements de ce dossier.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Fichier JSON Lines (défaut : sortie standard).")] = None,
) -> None:
    """Exporte les événements en JSON Lines (un par ligne, avec empreintes) ; l'export est lui-même journalisé."""
    from assistant.services import audit
    from corpora.io import dump_json_line

    start, end = parse_day(since, "--since"), parse_day(until, "--until")
    kinds = list(kind or [])
    count, last = 0, None
    with database_session() as session:
        events = audit.iter_events(session, since=start, until=end, kinds=kinds, dossier_id=dossier)
        if out is None:
            for event in events:
                out_json(event.model_dump(mode="json"))
                count, last = count + 1, event.seq
            sys.stdout.flush()
        else:
            with output_file(out, ".jsonl") as handle:
                for event in events:
                    handle.write(dump_json_line(event.model_dump(mode="json")) + "\n")
                    count, last = count + 1, event.seq
        audit.record(session, "export", actor=audit.cli_actor(), dossier_id=dossier, payload={
            "what": "audit", "since": since, "until": until, "kinds": kinds, "count": count, "last_seq": last,
            "destination": str(out) if out else "stdout"})
        session.commit()
    err(f"{count} événement(s) exporté(s)" + (f" dans {out}" if out else "") + ".")


@audit_app.command("purge")
@user_errors
def purge_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compte ce qui serait supprimé, sans rien supprimer.")]
    = False,
) -> None:
    """Supprime les événements plus anciens que la durée de conservation (GDR_AUDIT__RETENTION_DAYS) ; la chaîne
    restante reste vérifiable (ancre et événement de purge). Exportez-les d'abord pour les archiver."""
    from assistant.services.audit import cli_actor, purge

    s = settings()
    with database_session(s) as session:
        result = purge(session, retention_days=s.audit.retention_days, actor=cli_actor(), dry_run=dry_run)
        if not dry_run:
            session.commit()
    when = f"{result.before:%Y-%m-%d %H:%M} UTC"
    if dry_run:
        err(f"{result.deleted} événement(s) antérieur(s) au {when} seraient supprimés (rien n'a été modifié).")
    elif result.deleted:
        err(f"{result.deleted} événement(s) antérieur(s) au {when} supprimés ; ancre : n° {result.anchor_seq}.")
    else:
        err(f"Aucun événement antérieur au {when} (conservation : {s.audit.retention_days} jours).")
