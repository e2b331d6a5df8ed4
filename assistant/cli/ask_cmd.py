"""``gdr ask``: questions to the assistant, cited answers (thin layer over the conversation service)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.common import app, err, out_json, settings, user_errors
from corpora.errors import EncodingProblem, GdrError


def _open(s: Any) -> tuple[Any, Any]:
    from assistant.db.engine import make_engine, upgrade
    from assistant.services.chat.service import ChatService

    upgrade(s)
    engine = make_engine(s)
    return ChatService(s, engine), engine


def _stdin_lines() -> Iterator[str | bytes]:
    """Standard input line by line, each decoded as UTF-8 on its own (an undecodable line stays bytes).

    Read as bytes so that one bad line is reported in its place and the others are still answered,
    whatever error handler the interpreter gave ``sys.stdin``.
    """
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream without bytes underneath (tests may pass one)
        for text in sys.stdin:
            yield text.rstrip("\r\n")
        return
    for raw in stream:
        try:
            yield raw.decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError:
            yield raw


def _undecodable_line(raw: bytes) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"Texte illisible (octet 0x{raw[exc.start]:02x} à la position {exc.start + 1} : ce n'est pas de "
                "l'UTF-8) : réenregistrez les questions en UTF-8.")
    return "Texte illisible : réenregistrez les questions en UTF-8."


def _emit(reply: dict[str, Any], json_out: bool) -> None:
    from assistant.services.chat.service import reply_summary

    if json_out:
        out_json(reply)
    else:
        typer.echo(reply_summary(reply))


@app.command(
    "ask",
    help="Pose une question à l'assistant (réponse citée, en français). « - » lit une question par ligne sur "
    "l'entrée standard (une ligne de sortie par question, dans l'ordre, même conversation). "
    "Exemple : gdr ask \"Quel SMR la HAS a-t-elle attribué à Spasfon ?\" --json",
)
@user_errors
def ask_cmd(
    question: Annotated[str, typer.Argument(help="La question, ou « - » pour l'entrée standard.", show_default=False)],
    dossier: Annotated[str | None, typer.Option(
        "--dossier", help="Dossier à trier d'abord et à garder en contexte : un fichier (.txt, .json, .jsonl, .xml) "
        "ou l'identifiant d'un dossier de la base.", show_default=False)] = None,
    conversation: Annotated[str | None, typer.Option(
        "--conversation", help="Identifiant d'une conversation à poursuivre.", show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="La réponse en une ligne JSON.")] = False,
) -> None:
    s = settings()
    service, engine = _open(s)
    try:
        conv = conversation
        if dossier:
            path = Path(dossier)
            if path.is_file():
                exchange = service.converse("", conv, upload=(path.read_bytes(), path.name, None))
            else:
                exchange = service.converse("", conv, dossier_id=dossier)
            conv = exchange.reply["conversation_id"]
            for result in exchange.triaged:
                err(f"Dossier {result.id} trié : niveau de risque « {result.risk_level} » "
                    f"(conversation {conv}).")
        if question != "-":
            _emit(service.reply(question, conv), json_out)
            return
        service.warm_up()
        failed = 0
        for n, line in enumerate(_stdin_lines(), start=1):
            try:
                if isinstance(line, bytes):
                    raise EncodingProblem(_undecodable_line(line))
                reply = service.reply(line, conv)
            except GdrError as exc:
                failed += 1
                if json_out:
                    out_json({"error": exc.message, "line": n})
                else:
                    err(f"Ligne {n} : {exc.message}")
                continue
            conv = reply["conversation_id"]
            _emit(reply, json_out)
            sys.stdout.flush()
        if failed:
            raise typer.Exit(3)
    finally:
        service.close()
        engine.dispose()
