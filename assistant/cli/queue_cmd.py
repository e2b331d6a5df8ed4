"""``gdr queue``: the work queue with its regulatory clock (thin layer over the queue service)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import app, database_session, err, out_json, parse_day, settings, user_errors


def _days(days_left: int) -> str:
    if days_left < 0:
        return f"retard {-days_left} j"
    return "aujourd'hui" if days_left == 0 else f"{days_left} j"


@app.command("queue")
@user_errors
def queue_cmd(
    type: Annotated[str | None, typer.Option("--type", help="pv, amm ou aec.")] = None,
    level: Annotated[str | None, typer.Option("--level", help="faible, modéré, élevé ou critique.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Nombre maximal de dossiers affichés.")] = 50,
    on: Annotated[str | None, typer.Option("--date", help="Calculer les délais à cette date (AAAA-MM-JJ).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Une ligne JSON par dossier sur la sortie standard.")]
    = False,
) -> None:
    """Dossiers en attente de décision, par niveau de risque (critique d'abord) puis jours restants avant
    l'échéance réglementaire (PV : 15 jours si grave, 90 sinon ; AEC : SUSAR 7/15 jours ou partie I ; AMM)."""
    from assistant.services.queue import pending_queue

    s = settings()
    with database_session(s) as session:
        queue = pending_queue(session, oversight=s.oversight, today=parse_day(on, "--date"), dossier_type=type,
                              level=level, limit=limit)
    if as_json:
        for item in queue.items:
            out_json(item.model_dump(mode="json"))
    else:
        if queue.items:
            typer.echo(f"{'niveau':<9} {'restant':>11} {'échéance':<10}  {'étape':<36} {'type':<4} dossier — titre")
        for item in queue.items:
            flag = "!" if item.overdue else ("~" if item.due_soon else " ")
            typer.echo(f"{item.risk_level:<9} {_days(item.days_left):>11}{flag}{item.deadline:%Y-%m-%d}  "
                       f"{item.step[:36]:<36} {item.dossier_type:<4} {item.dossier_id} — {item.title[:60]}")
    shown = f", {len(queue.items)} affiché(s)" if len(queue.items) < queue.total else ""
    err(f"{queue.total} dossier(s) en attente de décision au {queue.today:%Y-%m-%d}{shown} : "
        f"{queue.overdue} en retard (!), {queue.due_soon} à échéance proche (~).")
