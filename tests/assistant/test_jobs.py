"""Background jobs: batch triage and index builds on worker processes, progress at GET /jobs/{id}.

The embedded runner (a process pool of the API) always runs; the team runner (RQ) runs against the
real Redis server of ``GDR_TEST_REDIS_URL`` (skips without it).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, api_clients
from fastapi.testclient import TestClient

from assistant.db.engine import upgrade
from assistant.services import jobs
from assistant.settings import Settings, get_settings

DOSSIERS = [
    {"id": "job:1", "type": "pv", "title": "Décès", "text": "Le patient est décédé après la vaccination.",
     "language": "fr", "source": "sample"},
    {"id": "job:2", "type": "pv", "title": "Rougeur", "text": "Rougeur au point d'injection, guérison en deux jours.",
     "language": "fr", "source": "sample"},
    {"id": "job:3", "type": "pv", "title": "Myocardite", "text": "Myocardite hospitalisée trois jours après la dose.",
     "language": "fr", "source": "sample"},
]
BATCH = ("\n".join(json.dumps(d, ensure_ascii=False) for d in DOSSIERS) + "\n{pas du json\n").encode()


def _settings(tmp_path: Path, **jobs_settings: object) -> Settings:
    s = get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=None, retrieval={"embedder": "fake"},
                     auth=FAST_AUTH, jobs=jobs_settings)
    upgrade(s)
    return s


def _wait(client: TestClient, job_id: str, timeout_s: float = 240) -> dict:
    seen: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = client.get(f"/jobs/{job_id}").json()
        seen.append(state)
        if state["status"] in ("finished", "failed"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"tâche non terminée en {timeout_s} s : {seen[-1]}")


def _start_triage(client: TestClient) -> dict:
    r = client.post("/jobs/triage", params={"precedents": "false"},
                    files={"file": ("lot.jsonl", BATCH, "application/x-ndjson")})
    assert r.status_code == 202, r.text
    state = r.json()
    assert state["status"] == "queued" and state["status_fr"] == "en attente" and state["kind"] == "triage"
    return state


def _check_triaged(client: TestClient, state: dict) -> None:
    assert state["status"] == "finished", state
    assert state["done"] == state["total"] == 4 and state["errors"] == 1 and state["rate_per_s"] > 0
    assert state["result"] == {"rows": 4, "triaged": 3, "errors": 1}
    rows = [json.loads(line) for line in client.get(f"/jobs/{state['id']}/results").text.splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3, 4]
    assert [r.get("id") for r in rows[:3]] == ["job:1", "job:2", "job:3"] and "error" in rows[3]
    assert rows[0]["risk_level"] == "critique"
    stored = client.get(f"/assessments/{rows[0]['assessment_id']}").json()  # stored as POST /triage/batch does
    assert stored["dossier"]["id"] == "job:1" and stored["risk_level"] == "critique"


@pytest.fixture()
def local(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, TestClient]]]:
    s = _settings(tmp_path, backend="local", workers=1)
    with api_clients(s) as clients:
        yield s, clients


def test_local_triage_job_runs_in_a_worker_process(local: tuple[Settings, dict[str, TestClient]]) -> None:
    settings, clients = local
    c = clients["evaluateur"]
    state = _wait(c, _start_triage(c)["id"])
    _check_triaged(c, state)
    assert state["backend"] == "local" and state["started_at"] and state["finished_at"]
    spec = json.loads((jobs.job_dir(settings, state["id"]) / "spec.json").read_text(encoding="utf-8"))
    assert spec["actor"] == ["evaluateur-test", "evaluateur"]
    # The upload (personal data in clear) is gone; rows are located in the batch, not on the server's disk.
    assert not list(jobs.job_dir(settings, state["id"]).glob("input*"))
    rows = [json.loads(line) for line in c.get(f"/jobs/{state['id']}/results").text.splitlines()]
    assert [r["where"] for r in rows] == ["ligne 1", "ligne 2", "ligne 3", "ligne 4"], rows


def test_local_index_job_and_errors(local: tuple[Settings, dict[str, TestClient]]) -> None:
    _, clients = local
    admin = clients["admin"]
    r = admin.post("/jobs/index", params={"sources": "sample,referentiel", "reset": "true"})
    assert r.status_code == 202, r.text
    state = _wait(admin, r.json()["id"])
    assert state["status"] == "finished", state
    assert state["done"] == state["result"]["documents"] > 0 and state["result"]["totals"]["vectors"] > 0
    assert clients["evaluateur"].get("/search", params={"q": "décès", "k": 1}).json()  # the index is there
    assert admin.get(f"/jobs/{state['id']}/results").status_code == 404
    for bad in ("0" * 32, "x", "Z" * 32):
        missing = admin.get(f"/jobs/{bad}")
        assert missing.status_code == 404 and "Tâche introuvable" in missing.json()["detail"]
    unknown = admin.post("/jobs/index", params={"sources": "nulle-part"})
    assert unknown.status_code == 400 and "Source inconnue" in unknown.json()["detail"]
    empty = clients["evaluateur"].post("/jobs/triage", files={"file": ("vide.csv", b"", "text/csv")})
    assert empty.status_code in (400, 422) and "Traceback" not in empty.text


def test_worker_settings_carry_no_secret(tmp_path: Path) -> None:
    s = get_settings(data_dir=tmp_path, database_url=None, corpora_dir=None,
                     auth={"secret_key": "k" * 20 + "0123456789abcdefghij"},
                     admin_password="Une phrase de passe propre 2026")
    text = jobs.worker_settings_json(s)
    assert "0123456789abcdefghij" not in text and "Une phrase de passe propre 2026" not in text
    assert Settings.model_validate_json(text).data_dir == s.data_dir


# --------------------------------------------------------------------------- team path: RQ on the real Redis

@pytest.fixture()
def on_redis(tmp_path: Path, redis_url: str) -> Iterator[tuple[Settings, dict[str, TestClient]]]:
    from redis import Redis

    queue = f"gdr-test-{uuid.uuid4().hex[:10]}"
    s = _settings(tmp_path, backend="rq", redis_url=redis_url, queue=queue)
    with api_clients(s) as clients:
        yield s, clients
    connection = Redis.from_url(redis_url)
    keys = list(connection.scan_iter(f"rq:*{queue}*"))
    folder = jobs.jobs_dir(s)
    for job_id in (p.name for p in folder.iterdir()) if folder.is_dir() else ():
        keys += [f"rq:job:{job_id}", f"rq:results:{job_id}"]
    connection.srem("rq:queues", f"rq:queue:{queue}")
    if keys:
        connection.delete(*keys)


def test_rq_triage_job_waits_for_a_worker_then_runs(on_redis: tuple[Settings, dict[str, TestClient]]) -> None:
    settings, clients = on_redis
    c = clients["evaluateur"]
    started = _start_triage(c)
    assert started["backend"] == "rq"
    time.sleep(0.5)
    assert c.get(f"/jobs/{started['id']}").json()["status"] == "queued"  # no worker yet: it waits in Redis
    jobs.run_worker(settings, burst=True)  # an RQ worker on the same queue, until it is empty
    _check_triaged(c, _wait(c, started["id"], timeout_s=5))


def test_rq_unreachable_is_a_french_503(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = _settings(tmp_path, backend="rq", redis_url=f"redis://127.0.0.1:{port}/0")
    with api_clients(s) as clients:
        r = clients["evaluateur"].post("/jobs/triage", files={"file": ("lot.jsonl", BATCH, "application/x-ndjson")})
    assert r.status_code == 503 and "File de tâches Redis injoignable" in r.json()["detail"]
