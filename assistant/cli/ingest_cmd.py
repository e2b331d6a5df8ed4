"""``gdr ingest``: dossiers and their outcomes into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import app, err, out_json, settings, user_errors
from corpora.errors import InputError


@app.command(
    "ingest",
    help="Charge des dossiers et leurs issues dans la base de données : l'échantillon fictif intégré "
    "(par défaut), des fichiers JSONL écrits par « gdr corpora convert », ou avec --corpus les dossiers "
    "des corpus (GDR_CORPORA_DIR : VAERS → pv, EPAR → amm). Relancer est sans effet de bord (mise à "
    "jour par identifiant). Code de sortie : 1 si des lignes ont été ignorées, 2 si aucune n'a été "
    "enregistrée.",
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
    if summary.written == 0:  # nothing usable in the input: bad input as a whole, like every command
        err("Erreur : aucun dossier lu." if summary.read == 0 else
            "Erreur : aucun dossier enregistré, toutes les lignes ont été ignorées (raisons ci-dessus).")
        raise typer.Exit(2)
    if summary.skipped:
        raise typer.Exit(1)
