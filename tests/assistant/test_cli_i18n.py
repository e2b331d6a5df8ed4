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


def test_usage_line_names_arguments_without_braces() -> None:
    result = _gdr("triage", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Utilisation : gdr triage [OPTIONS] FICHIER_OU_DOSSIER...\n")
    assert "{" not in _gdr("corpora", "convert", "--help").stdout.splitlines()[0]


def test_triage_workers_are_bounded() -> None:
    for workers in ("0", "-1", "1000"):
        result = _gdr("triage", "--workers", workers, "absent.txt")
        assert result.returncode == 2 and result.stdout == ""
        # the last line: ``python -m`` may print a RuntimeWarning of its own before it
        assert result.stderr.splitlines()[-1] == f"Erreur : --workers doit être un entier de 1 à 32 (reçu : {workers})."

