"""Load, small version (issue 13 §5): concurrent triage requests and chat questions from this process
against ``gdr serve`` started as documented, on loopback: no error. The full run is ``bench/load.py``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from load import free_port, prepare, run_load, server_env, start_server

FAST_AUTH = {"hash_time_cost": 1, "hash_memory_kib": 8, "hash_parallelism": 1}


@pytest.mark.slow
def test_concurrent_triage_and_chat_against_gdr_serve(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    logins = prepare(data_dir, "fake", agents=3, auth=FAST_AUTH)
    port = free_port()
    server = start_server(port, server_env(data_dir, "fake", {
        f"GDR_AUTH__{k.upper()}": str(v) for k, v in FAST_AUTH.items()}))
    try:
        triage, chat = asyncio.run(run_load(f"http://127.0.0.1:{port}", logins, n_triage=30, n_chat=6))
    finally:
        server.terminate()
        server.wait(timeout=60)
    print("\n" + triage.line() + "\n" + chat.line())
    assert triage.errors == [] and chat.errors == []
    assert len(triage.latencies_ms) == 30 and len(chat.latencies_ms) == 6
