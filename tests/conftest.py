"""Fixtures shared by every test package."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import io
import os
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import ClassVar

import pytest

from corpora.fetch import FileSpec

REPO_ROOT = Path(__file__).resolve().parent.parent


SUMMARY = pytest.StashKey[list[str]]()


@pytest.fixture
def report_line(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Add a line to the end-of-run summary: figures CI shows even without ``-s`` (e.g. hostile-input counts)."""
    return request.config.stash.setdefault(SUMMARY, []).append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    lines = config.stash.get(SUMMARY, [])
    if lines:
        terminalreporter.section("chiffres des tests")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    # A developer's .env must never change what the tests check (subprocesses inherit this too).
    os.environ["GDR_ENV_FILE"] = ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the real corpora or PostgreSQL are marked by their fixture (``make test-fast`` skips them)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "corpora_dir" in names:
            item.add_marker(pytest.mark.corpora)
        if "postgres_url" in names:
            item.add_marker(pytest.mark.postgres)
        if "chroma_server" in names:
            item.add_marker(pytest.mark.chroma_server)
        if "redis_url" in names:
            item.add_marker(pytest.mark.redis)


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    """The real public corpora (``GDR_CORPORA_DIR``); tests using it skip when it is unset.

    A relative value is taken as given (from the working directory), else from the repository root,
    so CI's ``GDR_CORPORA_DIR=../shared/corpora`` works from either.
    """
    value = os.environ.get("GDR_CORPORA_DIR")
    if not value:
        pytest.skip("GDR_CORPORA_DIR n'est pas défini : tests sur les corpus réels ignorés")
    path = Path(value)
    if not path.is_dir() and not path.is_absolute() and (REPO_ROOT / path).is_dir():
        path = REPO_ROOT / path
    if not path.is_dir():
        pytest.fail(f"GDR_CORPORA_DIR={value} est défini mais n'est pas un dossier")
    return path.resolve()


def _reachable(url: str, what: str, variable: str) -> None:
    """Fail (not skip) when a server was announced but does not answer: CI must not pass silently."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=3):
            pass
    except OSError as exc:
        pytest.fail(f"{variable}={url} est défini mais {what} ne répond pas : {exc}")


@dataclasses.dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int

    def retrieval(self, collection: str) -> dict[str, object]:
        """``retrieval`` settings pointing at this server, on a collection of its own."""
        return {"chroma_host": self.host, "chroma_port": self.port, "collection": collection}


@pytest.fixture(scope="session")
def chroma_server() -> ChromaServer:
    """The Chroma server of ``GDR_TEST_CHROMA_URL`` (``.ci/run`` starts one); tests using it skip without it."""
    import json
    import urllib.request
    from urllib.parse import urlsplit

    url = os.environ.get("GDR_TEST_CHROMA_URL")
    if not url:
        pytest.skip("GDR_TEST_CHROMA_URL non défini : tests sur un serveur Chroma ignorés (.ci/run en lance un)")
    _reachable(url, "le serveur Chroma", "GDR_TEST_CHROMA_URL")
    with urllib.request.urlopen(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=5) as response:
        assert "nanosecond heartbeat" in json.load(response)
    parts = urlsplit(url)
    return ChromaServer(parts.hostname or "127.0.0.1", int(parts.port or 8000))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server of ``GDR_TEST_REDIS_URL`` (``redis://127.0.0.1:6379/15`` in CI); skips without it."""
    url = os.environ.get("GDR_TEST_REDIS_URL")
    if not url:
        pytest.skip("GDR_TEST_REDIS_URL non défini : tests de la file de tâches Redis ignorés")
    _reachable(url, "le serveur Redis", "GDR_TEST_REDIS_URL")
    return url


# --------------------------------------------------------------------------- loopback HTTP mirror (corpora fetch)


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; honours ``Range: bytes=N-`` (to test resumption); records the ranges asked."""

    ranges: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        requested = self.headers.get("Range")
        if requested and requested.startswith("bytes=") and requested.endswith("-"):
            type(self).ranges.append(requested)
            start = int(requested[6:-1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            data = data[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextlib.contextmanager
def serve_folder(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on 127.0.0.1 (a free port) while the block runs; yields the base URL."""
    handler = partial(_RangeHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _zip_bytes(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.fixture()
def serve() -> Callable[[Path], contextlib.AbstractContextManager[str]]:
    """``with serve(folder) as url``: the folder over HTTP on loopback while the block runs."""
    return serve_folder


@pytest.fixture()
def http_ranges() -> list[str]:
    """The ``Range`` headers the loopback server received during the test."""
    _RangeHandler.ranges.clear()
    return _RangeHandler.ranges


@pytest.fixture()
def mirror(tmp_path: Path) -> tuple[Path, list[FileSpec]]:
    """A small mirror in the corpora layout and the specs describing it (official URLs unreachable)."""
    root = tmp_path / "mirror"
    (root / "vaers").mkdir(parents=True)
    (root / "bdpm").mkdir()
    (root / "ctgov_stopped").mkdir()
    (root / "vaers" / "1990VAERSData.zip").write_bytes(_zip_bytes({
        "1990VAERSDATA.csv": "VAERS_ID,SYMPTOM_TEXT\n1,fièvre\n" * 2000,
        "1990VAERSVAX.csv": "VAERS_ID,VAX_TYPE\n1,DTP\n", "1990VAERSSYMPTOMS.csv": "VAERS_ID,SYMPTOM1\n1,Pyrexia\n"}))
    (root / "bdpm" / "CIS_bdpm.txt").write_bytes(
        ("61111111\tEXEMPLE 50 mg, gélule\tgélule\torale\tAutorisation active\tProcédure nationale\t"
         "Commercialisée\t12/03/1998\t\t\t LABO\tOui\n" * 500).encode("utf-8"))
    (root / "ctgov_stopped" / "stopped_predictions_27.11.tsv").write_text(
        "stop_reason\tphase\tnct_id\tstart_date\tstatus\tprediction\nLow accrual\tPhase 2\tNCT00000001\t"
        "1.02.2019\tTerminated\tx\n", encoding="utf-8")
    dead = f"http://127.0.0.1:{closed_port()}/official"
    specs = [
        FileSpec("vaers", "vaers/1990VAERSData.zip", f"{dead}/1990VAERSData.zip", "zip",
                 members=("1990VAERSDATA.csv", "1990VAERSVAX.csv", "1990VAERSSYMPTOMS.csv")),
        FileSpec("bdpm", "bdpm/CIS_bdpm.txt", f"{dead}/CIS_bdpm.txt", "tsv", encoding="utf-8", columns=11),
        FileSpec("ctgov_stopped", "ctgov_stopped/stopped_predictions_27.11.tsv", f"{dead}/x.tsv", "tsv",
                 encoding="utf-8", header=("stop_reason", "nct_id", "status")),
    ]
    return root, specs
