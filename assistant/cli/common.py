"""Shared pieces of the ``gdr`` command line: the Typer apps, error handling, output helpers.

Command modules register on these apps; :mod:`assistant.cli.main` imports them all.
Messages for users go to stderr in French; ``--json`` output is JSON Lines on stdout.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import typer

from assistant.settings import Settings, get_settings
from corpora.errors import GdrError
from corpora.io import dump_json_line

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

F = TypeVar("F", bound=Callable[..., Any])

_HELP = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="gdr",
    help="GDR Santé : aide au tri des dossiers ANSM (AMM, AEC, pharmacovigilance) par niveau de risque, "
    "avec précédents et référentiel cités.",
    no_args_is_help=True,
    add_completion=False,
    context_settings=_HELP,
    rich_markup_mode=None,
)
corpora_app = typer.Typer(help="Corpus publics réels : conversion, statistiques, téléchargement.",
                          no_args_is_help=True, context_settings=_HELP)
index_app = typer.Typer(help="Index de recherche hybride (lexical + vectoriel).",
                        no_args_is_help=True, context_settings=_HELP)
eval_app = typer.Typer(help="Évaluations reproductibles (recherche, classifieur).",
                       no_args_is_help=True, context_settings=_HELP)
db_app = typer.Typer(help="Base de données : migrations, état.", no_args_is_help=True, context_settings=_HELP)
report_app = typer.Typer(help="Rapports (supervision humaine).", no_args_is_help=True, context_settings=_HELP)
schemas_app = typer.Typer(help="Schémas JSON des contrats (Dossier, Hit).", no_args_is_help=True,
                          context_settings=_HELP)

app.add_typer(corpora_app, name="corpora")
app.add_typer(index_app, name="index")
app.add_typer(eval_app, name="eval")
app.add_typer(db_app, name="db")
app.add_typer(schemas_app, name="schemas")
app.add_typer(report_app, name="report")


def settings() -> Settings:
    """Settings for this command invocation (built once per process call, never at import)."""
    return get_settings()


def err(message: str) -> None:
    """Print a French message for the user on stderr."""
    typer.echo(message, err=True)


def out_json(obj: Any) -> None:
    sys.stdout.write(dump_json_line(obj) + "\n")


def undecodable_argument(argv: list[str]) -> str | None:
    """The French message for the first command-line argument that is not UTF-8 text, else None.

    Python keeps such bytes as lone surrogates (``surrogateescape``), which nothing downstream can
    encode: they are refused here, before any command runs, with the argument shown readably.
    """
    from corpora.normalise import lone_surrogate

    for arg in argv:
        reason = lone_surrogate(arg)
        if reason:
            try:
                shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            except UnicodeEncodeError:  # a surrogate that stands for no byte
                shown = arg.encode("utf-8", "replace").decode("utf-8")
            if len(shown) > 60:
                shown = shown[:59] + "…"
            return (f"l'argument « {shown} » n'est pas du texte UTF-8 valide ({reason}) : vérifiez l'encodage du "
                    "terminal (variable LANG) ou réenregistrez le texte en UTF-8.")
    return None


def user_errors(func: F) -> F:
    """Turn domain errors into one French line on stderr and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GdrError as exc:
            err(f"Erreur : {exc.message}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err("Interrompu par l'utilisateur : les fichiers et index déjà écrits restent cohérents.")
            raise typer.Exit(130) from None
        except MemoryError:
            err("Erreur : mémoire insuffisante pour traiter cette entrée.")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def database_session(s: Settings | None = None) -> Iterator[Session]:
    """A session on the configured database, its schema checked first (French error when not migrated)."""
    from sqlalchemy.orm import Session

    from assistant.db.engine import check_schema, make_engine

    engine = make_engine(s or settings())
    try:
        check_schema(engine)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def output_file(out: Path, kind: str) -> Iterator[IO[str]]:
    """``--out FILE`` opened for an atomic write, with ``gdr corpora convert``'s French errors.

    A folder is refused before anything is read (``kind`` names the file expected, e.g. ``.jsonl``);
    missing parent folders are created, as ``gdr corpora convert`` does; a refused write leaves nothing.
    """
    from corpora.errors import InputError
    from corpora.io import atomic_writer, os_reason

    target = Path(out)
    if target.is_dir():
        raise InputError(f"--out désigne un dossier : {target} ; indiquez un fichier {kind}.")
    try:
        with atomic_writer(target) as handle:
            yield handle
    except OSError as exc:
        raise InputError(f"Impossible d'écrire {target} : {os_reason(exc)}.") from exc


def parse_day(value: str | None, option: str) -> date | None:
    """``AAAA-MM-JJ`` → date (``None`` stays ``None``); a French :class:`InputError` otherwise."""
    from corpora.errors import InputError

    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"Date invalide pour {option} : « {value} » (attendu : AAAA-MM-JJ).") from None


def progress_bars() -> tuple[object, object]:
    """(progress(stage, done, total), close()): one tqdm bar per stage, on stderr."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="dossier", leave=True, file=None)
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return progress, close
