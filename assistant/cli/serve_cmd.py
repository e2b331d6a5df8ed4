"""``gdr serve``: the API (and the chat under ``/chat``) in the foreground."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from assistant.cli.common import app, err, settings, user_errors
from corpora.errors import InputError


@app.command("serve", help="Lance l'API HTTP (FastAPI) au premier plan ; la base est mise à jour au démarrage.")
@user_errors
def serve_cmd(
    host: Annotated[str | None, typer.Option("--host", help="Adresse d'écoute (défaut : réglage api.host).",
                                             show_default=False)] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (défaut : réglage api.port).",
                                             show_default=False, min=1, max=65535)] = None,
) -> None:
    serve(host=host, port=port)


def _check_port(host: str, port: int) -> None:
    """Fail with one French line when the address is taken (uvicorn would print an English error)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InputError(f"Adresse d'écoute invalide : {host}.") from exc
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputError(
                f"Impossible d'écouter sur {host}:{port} : port déjà utilisé ou adresse indisponible. "
                "Choisissez un autre port avec --port."
            ) from exc


def _warn_without_accounts(api: Any) -> None:
    from sqlalchemy.orm import Session

    from assistant.services.users import NO_ACCOUNT_WARNING

    with Session(api.state.engine) as session:
        if api.state.auth.accounts.count(session=session) == 0:
            err(NO_ACCOUNT_WARNING)


def serve(*, host: str | None = None, port: int | None = None) -> None:
    """Upgrade the database, build the app and serve it in the foreground (used by ``gdr run`` too)."""
    import uvicorn

    from assistant.api.app import create_app
    from assistant.db.engine import upgrade

    s = settings()
    if s.api.log_format == "json":
        from assistant.api.operations import configure_logging

        configure_logging()
    host = host or s.api.host
    port = port or s.api.port
    _check_port(host, port)
    upgrade(s)
    api = create_app(s)
    _warn_without_accounts(api)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    err(f"GDR Santé disponible sur http://{shown}:{port} "
        "(accueil : /, discussion : /chat, schéma OpenAPI : /openapi.json)")
    sys.stderr.flush()
    from assistant.api.http_protocol import french_http_protocol

    uvicorn.run(api, host=host, port=port, log_level="warning", http=french_http_protocol())
