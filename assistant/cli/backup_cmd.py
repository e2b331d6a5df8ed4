"""``gdr backup DIR`` and ``gdr restore DIR``: database, stores, models and keys, with checksums."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.common import app, err, settings, user_errors
from corpora.normalise import fr_decimal


@app.command("backup")
@user_errors
def backup_cmd(
    target: Path = typer.Argument(..., help="dossier neuf où écrire la sauvegarde"),
    no_database: bool = typer.Option(False, "--sans-base", help="ne pas copier la base (PostgreSQL : pg_dump)"),
) -> None:
    """Sauvegarde la base SQLite, les index, les modèles et les clés dans DIR (avec empreintes SHA-256).

    Cohérente même pendant que l'application écrit ; une sauvegarde interrompue ne laisse pas de dossier
    complet en apparence. Contient les clés : à conserver aussi précieusement que le dossier de données.
    """
    from assistant.services.backup import backup

    report = backup(settings(), target, with_database=not no_database)
    err(f"Sauvegarde écrite dans {report.path} : {report.files} fichier(s), {fr_decimal(report.bytes / 2**20)} Mio, "
        f"schéma {report.revision or 'non sauvegardé'}.")


@app.command("restore")
@user_errors
def restore_cmd(source: Path = typer.Argument(..., help="dossier écrit par « gdr backup »")) -> None:
    """Restaure une sauvegarde dans le dossier de données configuré, qui doit être vide.

    Toutes les empreintes sont vérifiées avant la moindre copie ; une restauration interrompue laisse le
    dossier cible tel qu'il était.
    """
    from assistant.services.backup import restore

    s = settings()
    report = restore(s, source)
    err(f"Sauvegarde restaurée dans {report.path} : {report.files} fichier(s), schéma {report.revision or '—'}.")
