"""Ingest service and CLI: counts, idempotent reruns, consistent state after a crash, French messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assistant.db import repository as repo
from assistant.db.engine import head_revision, make_engine
from assistant.services.ingest import ingest_files, ingest_records, ingest_sample
from assistant.settings import Settings, get_settings
from corpora.loaders.sample import SAMPLE_PATH, iter_sample_records
from corpora.model import Record


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=None)


def _counts(settings: Settings) -> tuple[int, int, list[tuple[str, int, int]]]:
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            runs = [(r.status, r.read, r.written) for r in repo.list_ingest_runs(session=session)]
            return repo.count_dossiers(session=session), repo.count_outcomes(session=session), runs
    finally:
        engine.dispose()


def test_ingest_sample_twice_is_idempotent(settings: Settings) -> None:
    n = sum(1 for _ in iter_sample_records())
    first = ingest_sample(settings)
    assert (first.read, first.written, first.skipped, first.status) == (n, n, {}, "completed")
    assert first.files == [str(SAMPLE_PATH)] and first.seconds is not None
    second = ingest_sample(settings)
    assert second.id == first.id + 1
    dossiers, outcomes, runs = _counts(settings)
    assert (dossiers, outcomes) == (n, n)
    assert runs == [("completed", n, n), ("completed", n, n)]


def test_ingest_files_counts_bad_lines_and_limit(settings: Settings, tmp_path: Path) -> None:
    lines = SAMPLE_PATH.read_text(encoding="utf-8").splitlines()[:4]
    bad = json.loads(lines[1])
    bad["received_at"] = "pas une date"
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([lines[0], "{oups", json.dumps(bad), lines[2], lines[3]]) + "\n",
                    encoding="utf-8")
    summary = ingest_files(settings, [path])
    assert (summary.read, summary.written) == (5, 3)
    assert sum(summary.skipped.values()) == 2
    assert any("JSON invalide" in reason for reason in summary.skipped)
    assert any("received_at" in reason for reason in summary.skipped)
    limited = ingest_files(settings, [path], limit=2)
    assert limited.written == 2


def test_crash_mid_ingest_leaves_consistent_db_and_rerun_completes(settings: Settings) -> None:
    records = list(iter_sample_records())

    def exploding() -> Iterator[Record]:
        for i, record in enumerate(records):
            if i == 25:
                raise RuntimeError("coupure simulée")
            yield record

    with pytest.raises(RuntimeError):
        ingest_records(settings, exploding(), "sample", batch_size=10)
    dossiers, outcomes, runs = _counts(settings)
    assert dossiers == outcomes == 20  # two whole batches committed, the third rolled back
    assert runs[0][0] == "failed"
    engine = make_engine(settings)
    with Session(engine) as session:
        error = session.execute(sa.text("select error from ingest_run")).scalar_one()
    engine.dispose()
    assert "coupure simulée" in error
    done = ingest_records(settings, iter(records), "sample", batch_size=10)
    assert done.status == "completed" and done.written == len(records)
    assert _counts(settings)[:2] == (len(records), len(records))


def test_cli_ingest_status_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli.main import build_app

    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GDR_DATABASE_URL", raising=False)
    runner = CliRunner()
    cli = build_app()
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"révision {head_revision()}" in result.output
    result = runner.invoke(cli, ["ingest", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "completed" and summary["written"] >= 36
    result = runner.invoke(cli, ["db", "status", "--json"])
    status = json.loads(result.stdout)
    assert status["up_to_date"] and status["by_type"]["pv"] >= 12 and status["ingest_runs"]
    result = runner.invoke(cli, ["db", "status"])
    assert "Dossiers :" in result.stdout and "terminée" in result.stdout
    result = runner.invoke(cli, ["ingest", str(tmp_path / "absent.jsonl")])
    assert result.exit_code == 2
    assert "Erreur : Fichier introuvable" in result.output and "Traceback" not in result.output

    # A byte-order mark is accepted; nothing usable at all is bad input (2); some lines ignored is 1.
    line = json.dumps({"id": "x:bom1", "type": "pv", "title": "t", "text": "Fièvre après vaccin.", "language": "fr",
                       "source": "x"})
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n")
    result = runner.invoke(cli, ["ingest", str(tmp_path / "bom.jsonl")])
    assert result.exit_code == 0 and "1 dossier(s) enregistré(s)" in result.stderr, result.stderr
    (tmp_path / "mauvais.jsonl").write_text('{pas du json\n{"x": 1}\n', encoding="utf-8")
    result = runner.invoke(cli, ["ingest", str(tmp_path / "mauvais.jsonl")])
    assert result.exit_code == 2 and result.stderr.endswith(
        "Erreur : aucun dossier enregistré, toutes les lignes ont été ignorées (raisons ci-dessus).\n")
    (tmp_path / "vide.jsonl").write_bytes(b"")
    result = runner.invoke(cli, ["ingest", str(tmp_path / "vide.jsonl")])
    assert result.exit_code == 2 and result.stderr.endswith("Erreur : aucun dossier lu.\n")
    (tmp_path / "mixte.jsonl").write_text(line + "\n{pas du json\n", encoding="utf-8")
    assert runner.invoke(cli, ["ingest", str(tmp_path / "mixte.jsonl")]).exit_code == 1


def test_ingest_corpora_on_bundled_sample_filters_types(settings: Settings) -> None:
    pytest.importorskip("corpora.catalog", reason="corpora.catalog absent : ingestion des corpus non testée")
    from assistant.services.ingest import ingest_corpora

    summary = ingest_corpora(settings, types=["aec"])
    assert summary.source == "sample" and summary.status == "completed"
    assert summary.read == summary.written >= 12
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            assert repo.count_by(session=session, column="type") == {"aec": summary.written}
    finally:
        engine.dispose()


def test_serve_refuses_a_busy_port_in_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from assistant.cli.main import build_app

    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(build_app(), ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert "port déjà utilisé" in result.output and "Traceback" not in result.output
