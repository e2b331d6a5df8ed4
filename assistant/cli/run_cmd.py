"""``gdr run``: the main job (database, dossiers, index, models), then the API."""

from __future__ import annotations

import typer

from assistant.cli.common import app, err, settings, user_errors


@app.command("run")
@user_errors
def run_cmd(
    host: str = typer.Option(None, "--host", help="Adresse d'écoute de l'API (défaut : réglages, 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port de l'API (défaut : réglages, 8000)."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Servir l'API au premier plan à la fin."),
    ingest_limit: int = typer.Option(20_000, "--ingest-limit", help="Dossiers réels chargés au plus par source."),
    index_limit: int = typer.Option(0, "--index-limit", help="Documents réels indexés au plus par source "
                                    "(défaut 0 : tous ; chaque document cité s'ouvre avec « gdr index show »)."),
    dense_max: int = typer.Option(0, "--dense-max", help="Documents réels vectorisés au plus par source (défaut 0 : "
                                  "référentiel seul ; « gdr index build » complète les vecteurs ensuite)."),
    train: bool = typer.Option(True, "--train/--no-train", help="Entraîner les modèles manquants (corpus réels)."),
) -> None:
    """Tâche principale : base, dossiers, index, modèles manquants, puis l'API au premier plan.

    Sans GDR_CORPORA_DIR, tout tourne sur l'échantillon fictif fourni (quelques secondes).
    Avec les corpus réels, tous les documents sont indexés (lexical) et les vecteurs denses sont bornés
    (--dense-max) pour servir en un quart d'heure au plus ; « gdr index build » ajoute ensuite les vecteurs.
    """
    from assistant.services.pipeline import RunPlan, prepare

    s = settings()
    plan = RunPlan(ingest_limit=ingest_limit or None, index_limit=index_limit or None, dense_max=dense_max,
                   train=train)
    prepare(s, plan, err)
    total = sum(step["seconds"] for step in plan.steps)
    err(f"Préparation terminée en {total:.0f} s.")
    from assistant.services.users import NO_ACCOUNT_HINT, NO_ACCOUNT_WARNING

    if not serve and any(step["detail"] == NO_ACCOUNT_HINT for step in plan.steps):
        err(NO_ACCOUNT_WARNING)  # when serving, serve() says it just before the address
    if serve:
        from assistant.cli.serve_cmd import serve as serve_api

        serve_api(host=host, port=port)
