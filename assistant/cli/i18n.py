"""French for the few messages the command-line framework prints itself.

Typer vendors Click with English literals (usage line, help option, usage errors). The ``gdr``
process swaps them for French at start-up (never at import), so that everything a user reads
is French. Only presentation changes: exit codes and behaviour stay Click's (usage error = 2).
"""

from __future__ import annotations

import re
from typing import Any

SECTIONS = {
    "Arguments": "Arguments",
    "Options": "Options",
    "Commands": "Commandes",
    "default: {default}": "défaut : {default}",
    "required": "obligatoire",
    "env var: {var}": "variable d'environnement : {var}",
    "Missing command.": "Commande manquante.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "Aborted!": "Interrompu.",
    "(dynamic)": "(dynamique)",
}

# Usage-error messages, English pattern → French replacement.
ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"^Missing argument '(.+)'\.?$", r"Argument manquant : « \1 »."),
        (r"^Missing option '(.+)'\.?$", r"Option manquante : « \1 »."),
        (r"^No such option: (\S+)(?: \(Possible options: (.+)\))?$", r"Option inconnue : \1."),
        (r"^No such command '(.+)'\.$", r"Commande inconnue : « \1 »."),
        (r"^Got unexpected extra arguments? \((.+)\)$", r"Argument(s) en trop : \1."),
        (r"^Invalid value for (.+?): (.+)$", r"Valeur invalide pour \1 : \2"),
        (r"^Option '(.+)' requires an argument\.$", r"L'option « \1 » attend une valeur."),
        (r"^Missing command\.$", r"Commande manquante."),
    )
)
DETAILS = (
    ("Input should be a valid integer, unable to parse string as an integer", "un entier est attendu"),
    ("Input should be a valid number, unable to parse string as a number", "un nombre est attendu"),
    ("Input should be greater than or equal to", "la valeur doit être au moins"),
    ("does not exist", "est introuvable"),
    ("is not one of", "n'est pas parmi"),
)


def translate_error(message: str) -> str:
    for pattern, replacement in ERRORS:
        if pattern.match(message):
            message = pattern.sub(replacement, message)
            break
    for english, french in DETAILS:
        message = message.replace(english, french)
    return message


def install_french() -> None:
    """Make the vendored Click print its own texts in French (called by ``gdr``'s entry point)."""
    try:
        from typer import core as typer_core
        from typer._click import decorators, exceptions, formatting
        from typer._click.utils import echo
    except ImportError:  # another Typer layout: keep its English texts rather than fail
        return

    if hasattr(typer_core, "_"):
        typer_core._ = lambda message: SECTIONS.get(message, message)  # type: ignore[attr-defined]

    original_help_option = decorators.help_option

    def help_option(*args: Any, **kwargs: Any) -> Any:
        decorate = original_help_option(*args, **kwargs)

        def apply(target: Any) -> Any:
            result = decorate(target)
            params = getattr(result, "params", None) or getattr(result, "__click_params__", None)
            if params:
                params[-1].help = "Affiche cette aide et quitte."
            return result

        return apply

    decorators.help_option = help_option  # type: ignore[assignment]

    original_write_usage = formatting.HelpFormatter.write_usage

    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        # Typer writes a required argument « {name} »: shown bare, as Click does (« [name] » stays optional).
        args = re.sub(r"\{([^{}\s]+)\}", r"\1", args)
        original_write_usage(self, prog, args, "Utilisation : " if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = write_usage  # type: ignore[method-assign]

    def show_usage_error(self: Any, file: Any = None) -> None:
        import sys

        file = file or sys.stderr
        if self.ctx is not None:
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                hint = f"Aide : « {self.ctx.command_path} {self.ctx.help_option_names[0]} ».\n"
            echo(f"{self.ctx.get_usage()}\n{hint}", file=file)
        echo(f"Erreur : {translate_error(self.format_message())}", file=file)

    def show_error(self: Any, file: Any = None) -> None:
        import sys

        echo(f"Erreur : {translate_error(self.format_message())}", file=file or sys.stderr)

    exceptions.UsageError.show = show_usage_error  # type: ignore[method-assign]
    exceptions.ClickException.show = show_error  # type: ignore[method-assign]
