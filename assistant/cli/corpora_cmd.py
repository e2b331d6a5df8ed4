"""``gdr corpora convert``: published corpus files → dossier JSON Lines (thin layer over the service)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import corpora_app, err, user_errors
from corpora.errors import InputError


@corpora_app.command(
    "convert",
    help="Convertit les fichiers publiés d'une source (vaers, ema, sample) en JSON Lines : une ligne "
    "par dossier {id, type, title, text, received_at, language, source, fields, outcome}, ou en ICSR "
    "ICH E2B(R3) avec --to e2b (un lot XML MCCI_IN200100UV01). "
    "Exemple : gdr corpora convert vaers 2004VAERSData.zip --out vaers-2004.jsonl",
)
@user_errors
def convert_cmd(
    source: Annotated[str, typer.Argument(help="Source : vaers, ema ou sample.", show_default=False)],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Fichiers d'entrée (zip VAERS, dossier ou CSV ; table EPAR .xlsx/.csv).",
                       show_default=False),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help="Fichier JSONL à écrire (atomiquement) ; « - » pour la sortie standard.",
                     show_default=False),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", help="Au plus N dossiers écrits.", show_default=False)
    ] = None,
    to: Annotated[
        str, typer.Option("--to", help="Format écrit : jsonl (défaut) ou e2b (ICSR ICH E2B(R3) en XML).")
    ] = "jsonl",
) -> None:
    from assistant.services.corpora import check_source, convert, summary_fr

    check_source(source)
    if not out:
        raise InputError("Option --out obligatoire : indiquez le fichier à écrire (ou « - »).")
    progress = _progress_bar() if sys.stderr.isatty() else None
    try:
        report = convert(source, list(paths or []), out, limit=limit,
                         progress=progress.update_to if progress else None, to=to.strip().lower())
    finally:
        if progress is not None:
            progress.close()
    err(summary_fr(report, out))


class _Progress:
    """A tqdm counter on stderr (only on a terminal), fed with the number of lines written."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(unit=" dossiers", desc="Conversion", file=sys.stderr, leave=False)
        self._n = 0

    def update_to(self, n: int) -> None:
        self._bar.update(n - self._n)
        self._n = n

    def close(self) -> None:
        self._bar.close()


def _progress_bar() -> _Progress | None:
    try:
        return _Progress()
    except ImportError:  # pragma: no cover - tqdm is a pinned dependency
        return None
