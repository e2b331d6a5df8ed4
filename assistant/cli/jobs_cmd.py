"""``gdr jobs worker``: a worker of the team job queue (RQ on Redis; see assistant.services.jobs)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import _HELP, app, settings, user_errors

jobs_app = typer.Typer(help="Tâches de fond (lots triés, index) : travailleurs de la file Redis.",
                       no_args_is_help=True, context_settings=_HELP)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("worker")
@user_errors
def worker_cmd(
    burst: Annotated[bool, typer.Option("--burst", help="S'arrêter quand la file est vide.")] = False,
) -> None:
    """Exécuter les tâches de fond de la file Redis (GDR_JOBS__BACKEND=rq, GDR_JOBS__REDIS_URL) : une tâche à
    la fois ; lancez-en un par cœur. Le dossier de données et la base doivent être ceux de l'API."""
    from assistant.services.jobs import run_worker

    run_worker(settings(), burst=burst)
