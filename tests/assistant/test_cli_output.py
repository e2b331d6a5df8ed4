"""``--out FILE`` of the export commands: a folder or an impossible path is one French line, exit code 2.

Same rules as ``gdr corpora convert`` (``tests/assistant/test_cli_convert.py``): a folder is refused
before anything is written or audited, missing parent folders are created.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli.main import build_app


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key in [k for k in os.environ if k.startswith("GDR_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    app = build_app()
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    return app


@pytest.mark.parametrize(("command", "kind"), [
    (["audit", "export"], ".jsonl"), (["feedback", "export"], ".csv"), (["corpora", "convert", "sample"], ".jsonl"),
])
def test_out_folder_is_refused_like_convert(app, tmp_path: Path, command: list[str],  # type: ignore[no-untyped-def]
                                            kind: str) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    result = CliRunner().invoke(app, [*command, "--out", str(folder)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"Erreur : --out désigne un dossier : {folder} ; indiquez un fichier {kind}.\n"
    assert list(folder.iterdir()) == []
    if command[0] == "audit":  # a refused export is not recorded as an export
        exported = CliRunner().invoke(app, ["audit", "export"])
        assert '"kind":"export"' not in exported.stdout.replace(" ", "")


@pytest.mark.parametrize("command", [["audit", "export"], ["feedback", "export"], ["corpora", "convert", "sample"]])
def test_out_under_a_file_is_one_french_line(app, tmp_path: Path, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "fichier").write_text("x", encoding="utf-8")
    target = tmp_path / "fichier" / "export.out"
    result = CliRunner().invoke(app, [*command, "--out", str(target)])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Erreur : Impossible d'écrire {target} : ")
    assert result.stderr.isascii() is False and "File exists" not in result.stderr  # the reason is French


def test_missing_parent_folders_are_created_as_convert_does(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "nouveau" / "audit.jsonl"
    result = CliRunner().invoke(app, ["audit", "export", "--out", str(target)])
    assert result.exit_code == 0, result.stderr
    assert target.is_file() and result.stderr.endswith(f"dans {target}.\n")
