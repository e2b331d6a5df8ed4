"""Crash consistency (issue 13 §4): ``kill -9`` at random points of an ingest and of a stored batch triage,
then a rerun: exact counts, no duplicate, no assessment without its audit event, the audit chain verifies.

The index build's own kill -9 test is ``tests/retrieval/test_resume.py`` (random batch per seed). The
child processes use the patterns-only pseudonymiser (``privacy.ner_model = none``) to start fast.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from assistant.db.engine import make_engine, upgrade
from assistant.services.audit import verify_chain
from assistant.settings import BUNDLED_SAMPLE_DIR, Settings, get_settings

REPO = Path(__file__).resolve().parents[2]
COPIES = 40  # × 43 sample dossiers = 1,720 dossiers to ingest
BATCH_ROWS = 40
SEEDS = (1, 2, 3)

INGEST = textwrap.dedent("""
    import sys
    from pathlib import Path
    from assistant.services.ingest import ingest_records, iter_converted_records
    from assistant.settings import get_settings
    from corpora.loaders.base import LoadReport
    from corpora.model import Record
    settings = get_settings(data_dir=Path(sys.argv[1]), database_url=None, corpora_dir=None)
    base = list(iter_converted_records([Path(sys.argv[2])], LoadReport(source="jsonl")))
    records = (Record(r.dossier.model_copy(update={{"id": f"{{r.dossier.id}}-{{i}}"}}), r.outcome)
               for i in range({copies}) for r in base)
    ingest_records(settings, records, "jsonl", batch_size=43,
                   progress=lambda n: print("written", n, flush=True))
    print("done", flush=True)
""").format(copies=COPIES)

BATCH = textwrap.dedent("""
    import sys
    from pathlib import Path
    from assistant.db.engine import make_engine
    from assistant.services.batch import triage_and_store_entries, upload_entries
    from assistant.settings import get_settings
    settings = get_settings(data_dir=Path(sys.argv[1]), database_url=None, corpora_dir=None,
                            retrieval={"embedder": "fake"}, privacy={"ner_model": "none"})
    engine = make_engine(settings)
    entries = upload_entries(settings, Path(sys.argv[2]).read_bytes(), filename="lot.jsonl")
    for row in triage_and_store_entries(settings, engine, entries, with_precedents=False):
        print("stored", row.row, row.result.assessment_id if row.result else "error", flush=True)
    print("done", flush=True)
""")


def _settings(data_dir: Path) -> Settings:
    return get_settings(data_dir=data_dir, database_url=None, corpora_dir=None, retrieval={"embedder": "fake"},
                        privacy={"ner_model": "none"})


def _run(script: str, *args: str, kill_after: int | None = None) -> list[str]:
    """Run ``script``; with ``kill_after``, SIGKILL it once that many progress lines were printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "GDR_ENV_FILE": "", "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=env,
                            cwd=REPO)
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.strip())
        if kill_after is not None and len(lines) >= kill_after:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=120)
    if kill_after is None:
        assert proc.returncode == 0 and lines[-1] == "done", lines[-5:]
    else:
        assert proc.returncode == -signal.SIGKILL
    return lines


def _sql(settings: Settings, query: str) -> list[tuple]:
    con = sqlite3.connect(settings.layout.sqlite_path)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _chain_ok(settings: Settings) -> bool:
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            return verify_chain(session).ok
    finally:
        engine.dispose()


@pytest.mark.parametrize("seed", SEEDS)
def test_ingest_killed_at_a_random_batch_then_rerun(tmp_path: Path, seed: int) -> None:
    settings = _settings(tmp_path / "var")
    sample = str(BUNDLED_SAMPLE_DIR / "dossiers.jsonl")
    kill_after = random.Random(seed).randint(1, COPIES - 2)
    lines = _run(INGEST, str(settings.data_dir), sample, kill_after=kill_after)
    written = int(lines[-1].split()[1])
    [(dossiers,)] = _sql(settings, "select count(*) from dossier")
    assert dossiers >= written and dossiers % 43 == 0, "a committed batch is whole"
    assert _sql(settings, "select status from ingest_run") == [("running",)]  # shown as interrupted
    _run(INGEST, str(settings.data_dir), sample)
    expected = COPIES * 43
    assert _sql(settings, "select count(*), count(distinct id) from dossier") == [(expected, expected)]
    [(outcomes,)] = _sql(settings, "select count(*) from outcome")
    [(with_outcome,)] = _sql(settings, "select count(distinct dossier_id) from outcome")
    assert outcomes == with_outcome  # no duplicate outcome after the rerun
    assert _sql(settings, "select status, written from ingest_run order by id")[-1] == ("completed", expected)


@pytest.fixture(scope="module")
def batch_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [json.loads(line) for line in (BUNDLED_SAMPLE_DIR / "dossiers.jsonl").read_text("utf-8").splitlines()]
    path = tmp_path_factory.mktemp("lot") / "lot.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(BATCH_ROWS):
            row = rows[i % len(rows)]
            fh.write(json.dumps({"type": row["type"], "title": row["title"], "text": f"{row['text']} (copie {i})"},
                                ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_triage_killed_at_a_random_row_then_rerun(tmp_path: Path, batch_file: Path, seed: int) -> None:
    settings = _settings(tmp_path / "var")
    upgrade(settings)
    kill_after = random.Random(seed).randint(1, BATCH_ROWS - 2)
    lines = _run(BATCH, str(settings.data_dir), str(batch_file), kill_after=kill_after)
    reported = {int(line.split()[2]) for line in lines if line.startswith("stored")}
    stored = {row[0] for row in _sql(settings, "select id from assessment")}
    assert reported <= stored, "an assessment reported as stored is never lost"
    audited = [json.loads(p)["assessment_id"] for (p,) in _sql(
        settings, "select payload from audit_event where kind = 'triage'")]
    assert sorted(audited) == sorted(stored), "each assessment has exactly one triage event, and no more"
    assert _chain_ok(settings)
    _run(BATCH, str(settings.data_dir), str(batch_file))
    [(total,)] = _sql(settings, "select count(*) from assessment")
    assert total == len(stored) + BATCH_ROWS
    [(events,)] = _sql(settings, "select count(*) from audit_event where kind = 'triage'")
    assert events == total and _chain_ok(settings)
