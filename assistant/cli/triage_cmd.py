"""``gdr triage``: risk level and processing mode of each dossier, with criteria and precedents.

Exit codes: 0 all dossiers triaged; 2 bad input (one French line on stderr); 3 some lines were
skipped (each reported on stderr with its place).
"""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.common import app, err, out_json, settings, user_errors
from corpora.errors import InputError

MAX_WORKERS = 32
"""More worker processes than this only load more copies of the models (each holds its own)."""


@app.command("triage")
@user_errors
def triage_cmd(
    files: list[Path] = typer.Argument(..., metavar="FICHIER_OU_DOSSIER",
                                       help="fichiers ou dossiers : JSON Lines de dossiers (gdr corpora "
                                       "convert), .txt/.md, PDF (dont formulaire CIOMS I), DOCX, ICSR E2B(R3) .xml, "
                                       "lot .csv ou .zip"),
    json_: bool = typer.Option(False, "--json", help="une ligne JSON par dossier sur la sortie standard"),
    no_precedents: bool = typer.Option(False, "--no-precedents", help="ne pas chercher de précédents ni de lignes "
                                       "directrices"),
    workers: int = typer.Option(1, "--workers", help=f"processus de calcul, de 1 à {MAX_WORKERS} (2 pour les "
                                "gros lots)"),
    type_: str = typer.Option("pv", "--type", help="type des dossiers .txt/.md et des lignes CSV sans type : "
                              "pv, amm ou aec"),
) -> None:
    """Évalue le niveau de risque de chaque dossier et propose un mode de traitement, avec critères et précédents.

    Un dossier (répertoire) est lu comme un lot : chacun de ses fichiers est trié. Une ligne ou un fichier
    invalide d'un lot (JSON mal formé, type inconnu, texte ni français ni anglais, PDF illisible…) est
    signalé sur la sortie d'erreur avec sa place puis ignoré ; le lot continue et le code de sortie vaut
    alors 3. Un fichier nommé illisible dans son ensemble arrête la commande (code 2) avant toute sortie.
    """
    from assistant.services.batch import path_entries, triage_entries
    from assistant.services.resources import Resources
    from assistant.services.triage import EXIT_SKIPPED, summary_fr

    if not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"--workers doit être un entier de 1 à {MAX_WORKERS} (reçu : {workers}).")
    s = settings()
    skipped = 0
    entries = path_entries(s, files, type_)
    with Resources(s) as resources:
        for row in triage_entries(s, entries, with_precedents=not no_precedents, workers=workers,
                                  resources=resources):
            if row.result is None:
                skipped += 1
                err(f"{row.where} : {row.error} — ignoré.")
                continue
            if json_:
                out_json(row.result.model_dump(mode="json"))
            else:
                typer.echo(summary_fr(row.result))
                typer.echo("")
    if skipped:
        err(f"{skipped} dossier(s) ignoré(s) : voir les messages ci-dessus.")
        raise typer.Exit(EXIT_SKIPPED)
