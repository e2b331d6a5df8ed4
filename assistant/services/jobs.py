"""Background jobs: batch triage and index builds on worker processes, with their progress.

A job is a folder ``<data_dir>/jobs/<id>/``: ``spec.json`` (what to do), ``state.json`` (status and
progress, written by the worker as it goes, read by ``GET /jobs/{id}``), the uploaded batch
(``input.<ext>``, deleted once the job has run: it holds personal data in clear) and ``results.jsonl``
(one line per batch row: the batch is read as ``POST /triage/batch`` reads it). Workers
share the data dir (the index, the models and the job folders).

Who runs the jobs is chosen by ``settings.jobs.backend`` (registry :data:`RUNNERS`):

- ``local`` (default, embedded): a process pool of the calling process (``spawn``), no server;
- ``rq``: `RQ <https://python-rq.org>`_ on Redis (``settings.jobs.redis_url``): the API only enqueues,
  ``gdr jobs worker`` processes (``rq`` workers, one job at a time each) run them, on any machine
  that shares the data dir and the database. RQ is the smallest well-known queue that does this
  (Redis only, no broker configuration, jobs are plain functions); Celery's features (routing,
  chords, beat) are not needed, and Ray/Dask would add a cluster for what is a queue of batches.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from assistant.settings import Settings
from corpora.errors import GdrError, InputError, NotFound, QueueUnavailable

JobKind = Literal["triage", "index"]
JobStatus = Literal["queued", "running", "finished", "failed"]
STATUS_FR = {"queued": "en attente", "running": "en cours", "finished": "terminé", "failed": "échoué"}
_JOB_ID_CHARS = set("0123456789abcdef")
PROGRESS_EVERY_S = 0.5


class JobState(BaseModel):
    """What ``GET /jobs/{id}`` answers."""

    id: str
    kind: JobKind
    status: JobStatus
    status_fr: str
    done: int = Field(0, description="rows triaged (or in error) / documents indexed so far")
    total: int | None = Field(None, description="rows of the batch / documents expected (None: unknown)")
    errors: int = Field(0, description="batch rows in error (French message in the results)")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    rate_per_s: float | None = Field(None, description="rows (or documents) per second since the start")
    error: str | None = Field(None, description="why the job failed (French)")
    result: dict[str, Any] = Field(default_factory=dict, description="summary when finished")
    backend: str


@dataclass
class JobSpec:
    kind: JobKind
    params: dict[str, Any] = field(default_factory=dict)
    actor: tuple[str | None, str | None] = (None, None)  # login, role (recorded in the audit log)


# --------------------------------------------------------------------------- job folders

def jobs_dir(settings: Settings) -> Path:
    return settings.data_dir / "jobs"


def job_dir(settings: Settings, job_id: str) -> Path:
    if len(job_id) != 32 or not set(job_id) <= _JOB_ID_CHARS:
        raise NotFound(f"Tâche introuvable : « {job_id} ».")
    return jobs_dir(settings) / job_id


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)  # readers never see half a file


def _now() -> datetime:
    return datetime.now(UTC)


def read_state(settings: Settings, job_id: str) -> JobState:
    path = job_dir(settings, job_id) / "state.json"
    if not path.is_file():
        raise NotFound(f"Tâche introuvable : « {job_id} ».")
    state = JobState.model_validate_json(path.read_text(encoding="utf-8"))
    if state.status in ("queued", "running"):
        lost = runner_for(settings).lost(settings, job_id)
        if lost:
            state.status, state.status_fr, state.error = "failed", STATUS_FR["failed"], lost
    return state


def _save_state(settings: Settings, state: JobState) -> None:
    _write_json(job_dir(settings, state.id) / "state.json", state.model_dump(mode="json"))


def create_job(settings: Settings, spec: JobSpec, upload: bytes | None = None, suffix: str = "") -> JobState:
    """Write the job's folder (spec, uploaded batch, state « queued ») and hand it to the runner."""
    job_id = uuid.uuid4().hex
    folder = job_dir(settings, job_id)
    folder.mkdir(parents=True)
    params = dict(spec.params)
    if upload is not None:
        name = f"input{suffix.lower() if suffix.lower() in _UPLOAD_SUFFIXES else ''}"
        (folder / name).write_bytes(upload)
        params["input"] = name
    _write_json(folder / "spec.json", {"kind": spec.kind, "params": params, "actor": list(spec.actor)})
    runner = runner_for(settings)
    state = JobState(id=job_id, kind=spec.kind, status="queued", status_fr=STATUS_FR["queued"], created_at=_now(),
                     backend=runner.name)
    _save_state(settings, state)
    runner.submit(settings, job_id)
    return state


_UPLOAD_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".ndjson", ".zip", ".xml", ".pdf", ".docx", ".txt", ".md")


def results_path(settings: Settings, job_id: str) -> Path:
    return job_dir(settings, job_id) / "results.jsonl"


# --------------------------------------------------------------------------- the work (in a worker process)

class _Progress:
    """Writes the state as the job goes (at most every :data:`PROGRESS_EVERY_S`, and at the end)."""

    def __init__(self, settings: Settings, state: JobState) -> None:
        self.settings, self.state = settings, state
        self.t0 = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, errors: int | None = None, force: bool = False) -> None:
        self.state.done = done
        if errors is not None:
            self.state.errors = errors
        now = time.perf_counter()
        if force or now - self.last >= PROGRESS_EVERY_S:
            elapsed = now - self.t0
            self.state.rate_per_s = round(done / elapsed, 2) if elapsed > 0 else None
            _save_state(self.settings, self.state)
            self.last = now


def run_job(settings_json: str, job_id: str) -> str:
    """Run one job to its end (in a worker process); its state says how it went. Returns the final status."""
    settings = Settings.model_validate_json(settings_json)
    folder = job_dir(settings, job_id)
    spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    state = JobState.model_validate_json((folder / "state.json").read_text(encoding="utf-8"))
    state.status, state.status_fr, state.started_at = "running", STATUS_FR["running"], _now()
    _save_state(settings, state)
    progress = _Progress(settings, state)
    try:
        work = _KINDS[spec["kind"]]
        state.result = work(settings, folder, spec["params"], tuple(spec.get("actor") or (None, None)), progress)
        state.status = "finished"
    except GdrError as exc:
        state.status, state.error = "failed", exc.message
    except Exception as exc:  # the job's state must say it failed, whatever the cause
        state.status, state.error = "failed", f"Erreur inattendue : {type(exc).__name__}: {exc}"
    state.status_fr, state.finished_at = STATUS_FR[state.status], _now()
    progress(state.done, force=True)
    return state.status


def _triage_work(settings: Settings, folder: Path, params: Mapping[str, Any], actor: tuple[Any, ...],
                 progress: _Progress) -> dict[str, Any]:
    from assistant.db.engine import check_schema, make_engine
    from assistant.services.audit import Actor
    from assistant.services.batch import triage_and_store_entries, triage_entries, upload_entries
    from corpora.io import dump_json_line

    source = folder / str(params["input"])
    data = source.read_bytes()

    def read() -> Iterator[Any]:  # the batch read as POST /triage/batch reads it (rows « ligne 4 »…)
        return upload_entries(settings, data, filename=params.get("filename") or source.name,
                              declared_type=params.get("type") or None, media_type=params.get("media_type"))

    progress.state.total = sum(1 for _ in read())
    progress(0, force=True)
    entries = read()
    with_precedents = bool(params.get("precedents", False))
    engine = make_engine(settings) if params.get("store", True) else None
    done = errors = 0
    try:
        if engine is not None:
            check_schema(engine)
            rows = triage_and_store_entries(settings, engine, entries, with_precedents=with_precedents,
                                            actor=Actor(login=actor[0], role=actor[1]))
        else:
            rows = triage_entries(settings, entries, with_precedents=with_precedents)
        with (folder / "results.jsonl").open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(dump_json_line(row.as_json()) + "\n")
                done += 1
                errors += row.error is not None
                progress(done, errors)
    finally:
        if engine is not None:
            engine.dispose()
        # The upload holds personal data in clear; what is kept (results, database) is pseudonymised.
        source.unlink(missing_ok=True)
    return {"rows": done, "triaged": done - errors, "errors": errors}


def _index_work(settings: Settings, folder: Path, params: Mapping[str, Any], actor: tuple[Any, ...],
                progress: _Progress) -> dict[str, Any]:
    from assistant.services.retrieval import build, expected_total

    sources = params.get("sources") or None
    limit = params.get("limit")
    progress.state.total = expected_total(settings, sources, limit)
    progress(0, force=True)
    report = build(settings, sources=sources, limit=limit, reset=bool(params.get("reset", False)), progress=False,
                   on_progress=progress)
    return {"documents": report.seen, "written": report.written, "seconds": round(report.seconds, 2),
            "totals": report.totals}


_KINDS: dict[str, Callable[..., dict[str, Any]]] = {"triage": _triage_work, "index": _index_work}


# --------------------------------------------------------------------------- runners

def worker_settings_json(settings: Settings) -> str:
    """The settings a worker needs, as JSON: secrets are left out (they would travel through Redis)."""
    return settings.model_dump_json(exclude={"auth": {"secret_key"}, "admin_password": True})


class Runner(Protocol):
    name: str

    def submit(self, settings: Settings, job_id: str) -> None: ...

    def lost(self, settings: Settings, job_id: str) -> str | None:
        """Why a job that its state says is pending will never finish (its worker died), else None."""
        ...

    def close(self) -> None: ...


class LocalRunner:
    """A pool of worker processes of this process (``settings.jobs.workers``), started on the first job."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.workers = settings.jobs.workers
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[str, Any] = {}

    def submit(self, settings: Settings, job_id: str) -> None:
        if self.pool is None:
            # spawn: never fork the API's threads (uvicorn, the retriever's lock) into a worker.
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"))
        self.futures[job_id] = self.pool.submit(run_job, worker_settings_json(settings), job_id)

    def lost(self, settings: Settings, job_id: str) -> str | None:
        future = self.futures.get(job_id)
        if future is None:
            return "Tâche interrompue : le processus qui la portait s'est arrêté (redémarrage ?)."
        if future.done() and future.exception() is not None:
            return f"Processus de travail arrêté : {future.exception()}"
        return None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


class RqRunner:
    """RQ on Redis: jobs are enqueued on ``settings.jobs.queue``; ``gdr jobs worker`` runs them."""

    name = "rq"

    def __init__(self, settings: Settings) -> None:
        self.url, self.queue_name = settings.jobs.redis_url, settings.jobs.queue
        self.timeout_s = settings.jobs.timeout_s

    def _queue(self) -> Any:
        from redis import Redis
        from rq import Queue

        return Queue(self.queue_name, connection=Redis.from_url(self.url))

    def submit(self, settings: Settings, job_id: str) -> None:
        try:
            self._queue().enqueue(run_job, worker_settings_json(settings), job_id, job_id=job_id,
                                  job_timeout=self.timeout_s, result_ttl=7 * 24 * 3600, failure_ttl=7 * 24 * 3600)
        except Exception as exc:  # redis.ConnectionError and the like
            raise QueueUnavailable(f"File de tâches Redis injoignable ({self.url}) : {exc}") from exc

    def lost(self, settings: Settings, job_id: str) -> str | None:
        from rq.job import Job, JobStatus

        try:
            job = Job.fetch(job_id, connection=self._queue().connection)
            status = job.get_status()
        except Exception:  # no such job (expired) or Redis unreachable: nothing to add
            return None
        if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            latest = job.latest_result()
            lines = (latest.exc_string if latest is not None else "") or ""
            detail = lines.strip().splitlines()[-1] if lines.strip() else str(status)
            return f"Tâche arrêtée par le travailleur RQ : {detail}"
        return None

    def close(self) -> None:
        pass


RUNNERS: dict[str, Callable[[Settings], Runner]] = {"local": LocalRunner, "rq": RqRunner}
_open_runners: dict[tuple[str, str], Runner] = {}


def runner_for(settings: Settings) -> Runner:
    """The runner of these settings (one per data dir and backend in a process)."""
    key = (settings.jobs.backend, str(settings.data_dir.resolve()))
    if key not in _open_runners:
        try:
            factory = RUNNERS[settings.jobs.backend]
        except KeyError:
            raise InputError(f"Exécuteur de tâches inconnu : « {settings.jobs.backend} » "
                             f"(disponibles : {', '.join(sorted(RUNNERS))}).") from None
        _open_runners[key] = factory(settings)
    return _open_runners[key]


def close_runners() -> None:
    for runner in _open_runners.values():
        runner.close()
    _open_runners.clear()


def run_worker(settings: Settings, burst: bool = False) -> None:
    """``gdr jobs worker``: an RQ worker on the settings' queue (``burst``: stop when the queue is empty)."""
    from redis import Redis
    from rq import Queue, Worker

    if settings.jobs.backend != "rq":
        raise InputError("Les travailleurs ne servent qu'avec GDR_JOBS__BACKEND=rq (file Redis).")
    connection = Redis.from_url(settings.jobs.redis_url)
    queue = Queue(settings.jobs.queue, connection=connection)
    Worker([queue], connection=connection).work(burst=burst, with_scheduler=False)
