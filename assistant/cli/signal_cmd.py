"""``gdr signal``: disproportionality (PRR, ROR, χ²) of a vaccine type × reaction term, for experts."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import app, err, out_json, parse_day, settings, user_errors


@app.command("signal")
@user_errors
def signal_cmd(
    product: Annotated[str, typer.Argument(help="type de vaccin VAERS (ex. DTAP, MMR, HEPB, FLU)",
                                           show_default=False)],
    term: Annotated[str | None, typer.Argument(help="terme de réaction codé (MedDRA, ex. Pyrexia) ; sans terme : "
                                               "les termes les plus signalés du vaccin", show_default=False)] = None,
    before: Annotated[str | None, typer.Option("--avant", "--before", help="compter les signalements reçus avant "
                                               "le 1er du mois de cette date (AAAA-MM-JJ) ; défaut : tout le corpus",
                                               show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", help="nombre de termes sans TERME")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="la table en JSON (une ligne) sur la sortie standard")]
    = False,
) -> None:
    """Disproportionnalité d'un type de vaccin × terme dans VAERS : signalements antérieurs (dont graves et décès),
    PRR et ROR avec IC 95 %, χ² de Yates et règle de signal (n ≥ 3, PRR ≥ 2, χ² ≥ 4). La même table que
    le tri d'un dossier et GET /signal."""
    from assistant.services.signal import signal_table
    from classifier.signal import summary_lines

    ctx = signal_table(settings(), product, term, parse_day(before, "--avant"), limit)
    if as_json:
        out_json(ctx.model_dump(mode="json"))
        return
    lines = summary_lines(ctx)
    typer.echo(lines[0])
    for r in ctx.rows:
        typer.echo(f"  {r.summary}")
        typer.echo(f"    signalements : {r.query}")
        typer.echo(f"    recalcul : {r.recount} (API : {r.url})")
    if not ctx.rows:
        err("Aucun signalement antérieur pour ce vaccin.")
