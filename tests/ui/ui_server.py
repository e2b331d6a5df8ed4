"""Helpers of the UI tests: the environment of a test server and ``gdr serve`` started as the README says."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

GDR = Path(sys.executable).with_name("gdr")
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DEATH = "Le patient est décédé deux jours après la vaccination."


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GDR_")}
    env.update(GDR_DATA_DIR=str(data_dir), GDR_RETRIEVAL__EMBEDDER="fake", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               # cheap Argon2id for the test accounts (the production cost is the settings' default)
               GDR_AUTH__HASH_TIME_COST="1", GDR_AUTH__HASH_MEMORY_KIB="8", GDR_AUTH__HASH_PARALLELISM="1")
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serve(data_dir: Path, cwd: Path) -> Iterator[str]:
    port = _free_port()
    log = (cwd / "serve.log").open("w", encoding="utf-8")
    proc = subprocess.Popen([str(GDR), "serve", "--host", "127.0.0.1", "--port", str(port)], env=_env(data_dir),
                            cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail("gdr serve s'est arrêté : " + (cwd / "serve.log").read_text(encoding="utf-8"))
            try:
                with urllib.request.urlopen(f"{base}/chat/", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("gdr serve n'a pas répondu en 60 s : " + (cwd / "serve.log").read_text(encoding="utf-8"))
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
