"""``gdr report oversight``: the human-oversight report (thin layer over the oversight service)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import database_session, err, out_json, parse_day, report_app, settings, user_errors
from corpora.normalise import fr_decimal


@report_app.command("oversight")
@user_errors
def oversight_cmd(
    since: Annotated[str | None, typer.Option("--since", help="Depuis cette date (AAAA-MM-JJ).")] = None,
    type: Annotated[str | None, typer.Option("--type", help="pv, amm ou aec.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Dossier du rapport (défaut : <données>/reports/"
                                                            "oversight).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Les chiffres en JSON sur la sortie standard.")] = False,
) -> None:
    """Taux de modification des propositions par type et niveau, délai jusqu'à la décision, dérive mensuelle
    des dossiers reçus et des scores (Markdown en français et graphique)."""
    from assistant.services.oversight import write_report

    s = settings()
    with database_session(s) as session:
        report, path = write_report(session, out or s.reports_dir / "oversight", since=parse_day(since, "--since"),
                                    dossier_type=type)
    if as_json:
        out_json(report.model_dump(mode="json"))
    rate = f" ({fr_decimal(100 * report.override_rate)} % modifiées)" if report.override_rate is not None \
        else ""
    err(f"Rapport de supervision écrit dans {path} : {report.decisions} décision(s){rate}, "
        f"{len(report.alerts)} alerte(s) de dérive.")
