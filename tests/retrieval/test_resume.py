"""Idempotent, resumable builds: a crash mid-build then a rerun gives the uninterrupted counts."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from retrieval_fixtures import build, case

from retrieval.config import RetrievalConfig
from retrieval.stores.docstore import DocStore
from retrieval.stores.vector import ChromaStore

REPO = Path(__file__).resolve().parents[2]


def many_docs(n: int = 120) -> list:  # type: ignore[type-arg]
    long = " ".join(f"Sentence {i} about fever and rash after the vaccine." for i in range(80))
    return [case(str(5000 + i), (long if i % 10 == 0 else f"Report {i}: fever after vaccine lot {i}."),
                 f"2003-{1 + i % 12:02d}-01", symptoms=f"|Pyrexia|Rash {i % 7}|") for i in range(n)]


def counts(config: RetrievalConfig) -> dict[str, int]:
    store = DocStore(config.docstore_path)
    try:
        c = store.counts()
        c["distinct_chunks"] = store.db.execute("SELECT COUNT(DISTINCT id) FROM chunks").fetchone()[0]
    finally:
        store.close()
    c["vectors"] = ChromaStore(config, "fake", 64).count()
    return c


class Crash(Exception):
    pass


def test_rerun_after_interruption_gives_same_counts(make_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    docs = many_docs()
    reference = make_config(data_dir=tmp_path / "ref", dense_max_per_source=70)
    build(reference, docs, batch_docs=16)
    expected = counts(reference)
    assert expected["chunks"] > len(docs)  # some documents have several chunks
    assert expected["dense_chunks"] == expected["vectors"] > 0

    config = make_config(data_dir=tmp_path / "crash", dense_max_per_source=70)

    def crash(batch: int) -> None:
        if batch == 3:
            raise Crash

    with pytest.raises(Crash):
        build(config, docs, batch_docs=16, on_batch=crash)
    partial = counts(config)
    assert 0 < partial["documents"] < len(docs)
    report = build(config, docs, batch_docs=16)
    assert report.unchanged == partial["documents"]
    assert counts(config) == expected
    again = build(config, docs, batch_docs=16)  # idempotent: nothing to do
    assert again.written == 0 and again.encoded == 0 and counts(config) == expected


def test_changed_document_replaces_its_chunks(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config()
    docs = many_docs(20)
    build(config, docs)
    shorter = [d.model_copy(update={"text": "Now short."}) if d.id == "vaers:5000" else d for d in docs]
    report = build(config, shorter)
    assert report.written == 1
    store = DocStore(config.docstore_path)
    try:
        n = store.db.execute("SELECT COUNT(*) FROM chunks WHERE document_id = 'vaers:5000'").fetchone()[0]
    finally:
        store.close()
    assert n == 1
    assert counts(config)["vectors"] == counts(config)["dense_chunks"]


SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from retrieval_fixtures import build
    from test_resume import many_docs
    from retrieval.config import RetrievalConfig
    config = RetrievalConfig(data_dir=Path({data!r}), embedder="fake", threads=1, dense_max_per_source=70,
                             dense_vaers_since_year=2000)
    def slow(batch):
        print("batch", batch, flush=True)
        time.sleep(0.3)
    build(config, many_docs(), batch_docs=16, on_batch=slow)
    print("done", flush=True)
    """
)


@pytest.mark.parametrize("seed", [3, 11, 2026])
def test_kill_9_then_rerun(make_config, tmp_path, seed: int) -> None:  # type: ignore[no-untyped-def]
    kill_at = random.Random(seed).randint(1, 6)  # a random batch of the 8, per seed (issue 13 §4)
    data = tmp_path / "killed"
    script = SCRIPT.format(tests=str(Path(__file__).parent), data=str(data))
    env = {**os.environ, "PYTHONPATH": str(REPO), "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        if line.startswith(f"batch {kill_at}") or time.monotonic() > deadline:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    journal = sqlite3.connect(data / "index" / "docs.sqlite").execute("SELECT COUNT(*) FROM journal").fetchone()
    assert kill_at <= journal[0] < 8  # interrupted mid-build
    config = make_config(data_dir=data, dense_max_per_source=70)
    build(config, many_docs(), batch_docs=16)
    reference = make_config(data_dir=tmp_path / "ref", dense_max_per_source=70)
    build(reference, many_docs(), batch_docs=16)
    got, expected = counts(config), counts(reference)
    assert got == expected
    assert got["distinct_chunks"] == got["chunks"]


def test_dense_policy_caps_sources_but_not_the_referentiel() -> None:
    from corpora.model import Document
    from retrieval.indexing import DensePolicy

    policy = DensePolicy(["vaers", "referentiel"], max_per_source=2, vaers_since_year=2003)
    vaers = [policy.wants(d) for d in many_docs(6)]
    assert vaers == [True, True, False, False, False, False]
    old = case("1", "old report", "2001-01-01")
    assert not DensePolicy(["vaers"], 10, 2003).wants(old)
    guideline = Document(id="referentiel:X", source="referentiel", kind="guideline", title="X", text="x")
    assert all(policy.wants(guideline) for _ in range(5))
    assert not DensePolicy(["vaers"], 10, 2003).wants(guideline)
