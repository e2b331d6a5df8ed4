"""Load, small version (issue 13 §5): concurrent triage requests and chat questions from this process
against ``gdr serve`` started as documented, on loopback: no error. The full run is ``bench/load.py``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from load import free_port, prepare, run_load, server_env, start_server

from assistant.api.http_protocol import BAD_REQUEST_FR

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
        # requests the HTTP parser rejects before the app: still one French JSON line, status 400
        rejected = [_raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
                    _raw(port, b"GET /health?q=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")]
    finally:
        server.terminate()
        server.wait(timeout=60)
    print("\n" + triage.line() + "\n" + chat.line())
    assert triage.errors == [] and chat.errors == []
    assert len(triage.latencies_ms) == 30 and len(chat.latencies_ms) == 6
    for response in rejected:
        head, _, body = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 "), response[:200]
        assert json.loads(body) == {"detail": BAD_REQUEST_FR, "code": "bad_http_request"}


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)
