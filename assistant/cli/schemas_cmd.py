"""``gdr schemas export``: the JSON Schemas of the contracts, from the models."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.common import err, schemas_app, user_errors


@schemas_app.command("export")
@user_errors
def schemas_export(
    directory: Path = typer.Option(None, "--dir", help="Dossier de sortie (défaut : schemas/ du dépôt)."),
) -> None:
    """Réécrit les schémas JSON (dossier, hit) à partir des modèles."""
    from corpora import schemas

    for path in schemas.export(directory or schemas.SCHEMA_DIR):
        err(f"Écrit : {path}")
