"""``gdr corpora stats`` and ``gdr corpora fetch`` (the CLI; the download code is tested in tests/corpora)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli.main import build_app
from corpora import fetch as fetch_mod

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO_ROOT / "corpora" / "sample"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return build_app()


# --------------------------------------------------------------------------- fetch (CLI)


def test_cli_fetch_offline_is_one_french_line(runner: CliRunner, app, mirror, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _root, specs = mirror
    monkeypatch.setattr(fetch_mod, "load_file_specs", lambda *a, **k: specs)
    result = runner.invoke(app, ["corpora", "fetch", "--dest", str(tmp_path / "dest"), "--timeout", "2"])
    assert result.exit_code == 2
    assert "Erreur : Pas d'accès réseau" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_cli_fetch_with_mirror_and_json(runner: CliRunner, app, mirror, serve, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root, specs = mirror
    monkeypatch.setattr(fetch_mod, "load_file_specs", lambda *a, **k: specs)
    with serve(root) as url:
        result = runner.invoke(app, ["corpora", "fetch", "--mirror", url, "--dest", str(tmp_path / "d"),
                                     "--only", "bdpm", "--json"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["path"], r["status"]) for r in rows] == [("bdpm/CIS_bdpm.txt", "downloaded")]
    assert "Bilan : 1 téléchargé(s)." in result.stderr
    bad = runner.invoke(app, ["corpora", "fetch", "--mirror", str(root), "--dest", str(tmp_path / "d"),
                              "--only", "faers"])
    assert bad.exit_code == 2 and "Source inconnue : faers" in bad.stderr


# --------------------------------------------------------------------------- stats


def test_cli_stats_sample_table_and_json(runner: CliRunner, app) -> None:  # type: ignore[no-untyped-def]
    lines = sum(1 for line in (SAMPLE_DIR / "dossiers.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip())
    table = runner.invoke(app, ["corpora", "stats", "--dir", str(SAMPLE_DIR)])
    assert table.exit_code == 0, table.stderr
    assert "sample" in table.stdout and "Écrits" in table.stdout and str(lines) in table.stdout
    as_json = runner.invoke(app, ["corpora", "stats", "--dir", str(SAMPLE_DIR), "--json"])
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert rows == [rows[0]] and rows[0]["source"] == "sample" and rows[0]["written"] == lines
    assert rows[0]["read"] == rows[0]["written"] + rows[0]["skipped_total"]


def test_cli_stats_json_line_is_stable(runner: CliRunner, app) -> None:  # type: ignore[no-untyped-def]
    # The JSON line other tools read: same keys, same order, files counted, seconds to the hundredth.
    result = runner.invoke(app, ["corpora", "stats", "--dir", str(SAMPLE_DIR), "--json"])
    assert result.exit_code == 0, result.stderr
    (line,) = result.stdout.splitlines()
    row = json.loads(line)
    assert isinstance(row.pop("seconds"), float)
    assert row == {"source": "sample", "kind": "case", "unit": "dossiers fictifs", "folder": ".", "read": 43,
                   "written": 43, "skipped_total": 0, "skipped": {}, "files": 1, "error": None}
    assert list(json.loads(line)) == ["source", "kind", "unit", "folder", "read", "written", "skipped_total",
                                      "skipped", "seconds", "files", "error"]


def test_cli_stats_counts_skips_with_reasons(runner: CliRunner, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "ctgov_stopped"
    folder.mkdir()
    (folder / "stopped_predictions_1.tsv").write_text(
        "stop_reason\tphase\tnct_id\tstart_date\tstatus\n"
        "Low accrual\tPhase 2\tNCT00000001\t1.02.2019\tTerminated\n"
        "Low accrual\tPhase 2\tNCT00000001\t1.02.2019\tTerminated\n", encoding="utf-8")
    result = runner.invoke(app, ["corpora", "stats", "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (row["source"], row["kind"], row["read"], row["written"]) == ("ctgov", "trial", 2, 1)
    assert row["skipped"] == {"identifiant NCT en double": 1}


def test_cli_stats_bad_input(runner: CliRunner, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for args, message in (
        (["--dir", str(tmp_path / "absent")], "Dossier des corpus introuvable"),
        (["--dir", str(tmp_path)], "Aucun corpus reconnu"),
        (["--dir", str(SAMPLE_DIR), "--source", "faers"], "Source inconnue : faers"),
        (["--dir", str(SAMPLE_DIR), "--vaers-years", "deux-mille"], "Années VAERS illisibles"),
    ):
        result = runner.invoke(app, ["corpora", "stats", *args])
        assert result.exit_code == 2, args
        assert f"Erreur : {message}" in result.stderr and "Traceback" not in result.stderr


def test_cli_stats_corrupt_source_exit_2(runner: CliRunner, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "has"
    folder.mkdir()
    (folder / "CIS_HAS_SMR_bdpm.txt").write_bytes(b"69766528\tCT-1\tInscription\t20220209\tFaible\t\x81\r\n")
    result = runner.invoke(app, ["corpora", "stats", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "has-smr" in result.stderr and "cp1252" in result.stderr


# --------------------------------------------------------------------------- real corpora


@pytest.mark.corpora
def test_real_stats_small_sources(runner: CliRunner, app, corpora_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["corpora", "stats", "--dir", str(corpora_dir), "--json", "--source", "bdpm",
                                 "--source", "has-smr", "--source", "has-asmr", "--source", "ansm-interaction",
                                 "--source", "ctgov", "--source", "vaers", "--vaers-years", "1990"])
    assert result.exit_code == 0, result.stderr
    rows = {r["source"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["bdpm"]["written"] == 15788 and rows["bdpm"]["kind"] == "product"
    assert rows["has-smr"]["written"] == 12738 and rows["has-asmr"]["written"] == 8093
    assert rows["ansm-interaction"]["written"] == 3139
    assert rows["ctgov"]["read"] == 28873 and rows["ctgov"]["skipped_total"] == 22
    assert rows["vaers"]["read"] == rows["vaers"]["written"] + rows["vaers"]["skipped_total"] > 0
    assert all(r["read"] == r["written"] + r["skipped_total"] for r in rows.values())
