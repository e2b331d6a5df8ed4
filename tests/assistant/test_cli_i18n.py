"""What the command-line framework prints itself is French too, and usage errors exit with 2."""

from __future__ import annotations

import subprocess
import sys

from assistant.cli.i18n import translate_error


def _gdr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.cli.main", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_help_lists_commands_in_french() -> None:
    result = _gdr("--help")
    assert result.returncode == 0
    assert "Utilisation : gdr" in result.stdout and "Affiche cette aide et quitte." in result.stdout
    for command in ("corpora", "index", "search", "train", "triage", "eval", "run", "serve"):
        assert command in result.stdout


def test_usage_errors_are_french_without_traceback() -> None:
    result = _gdr("corpora", "convert", "--bogus")
    assert result.returncode == 2
    assert "Erreur : Option inconnue : --bogus." in result.stderr
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr


def test_error_translation() -> None:
    assert translate_error("Missing argument 'QUERY'.") == "Argument manquant : « QUERY »."
    assert translate_error("No such command 'x'.") == "Commande inconnue : « x »."
    assert translate_error("something else") == "something else"
