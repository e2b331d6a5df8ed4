"""``gdr corpora stats`` and ``gdr corpora fetch`` (real download code against a loopback HTTP server)."""

from __future__ import annotations

import contextlib
import filecmp
import http.server
import io
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from assistant.cli.main import build_app
from corpora import fetch as fetch_mod
from corpora.errors import InputError, OfflineError, UnknownSource
from corpora.fetch import FileSpec, fetch_corpora, load_file_specs, select_specs, verify_file

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO_ROOT / "corpora" / "sample"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return build_app()


# --------------------------------------------------------------------------- loopback server


class _Handler(http.server.SimpleHTTPRequestHandler):
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
def serve(root: Path) -> Iterator[str]:
    handler = partial(_Handler, directory=str(root))
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


# --------------------------------------------------------------------------- fetch (library)


def test_sources_yaml_lists_every_folder() -> None:
    specs = load_file_specs()
    groups = {s.group for s in specs}
    assert groups == {"vaers", "bdpm", "has", "ema", "ansm_interactions", "ctgov_stopped"}
    vaers = [s.path for s in specs if s.group == "vaers"]
    assert vaers[0] == "vaers/1990VAERSData.zip" and vaers[-1] == "vaers/2004VAERSData.zip" and len(vaers) == 15
    assert all(s.url.startswith("https://") for s in specs)
    assert [s.path for s in select_specs(specs, ["has-smr"])] == [
        "has/CIS_HAS_SMR_bdpm.txt", "has/CIS_HAS_ASMR_bdpm.txt", "has/HAS_LiensPageCT_bdpm.txt"]
    with pytest.raises(UnknownSource, match="Source inconnue : faers"):
        select_specs(specs, ["faers"])


def test_download_from_http_mirror_atomic_and_idempotent(mirror: tuple[Path, list[FileSpec]],
                                                         tmp_path: Path) -> None:
    root, specs = mirror
    dest = tmp_path / "dest"
    lines: list[str] = []
    with serve(root) as url:
        report = fetch_corpora(dest, mirror=url, specs=specs, progress=lines.append, timeout=5)
        assert report.counts() == {"downloaded": 3}
        for spec in specs:
            assert filecmp.cmp(root / spec.path, dest / spec.path, shallow=False)
        assert not list(dest.rglob("*.part"))
        again = fetch_corpora(dest, mirror=url + "/", specs=specs, timeout=5)
    assert again.counts() == {"present": 3}
    assert any("téléchargé et vérifié" in line for line in lines)


def test_resume_partial_download(mirror: tuple[Path, list[FileSpec]], tmp_path: Path) -> None:
    root, specs = mirror
    spec = specs[1]
    dest = tmp_path / "dest"
    data = (root / spec.path).read_bytes()
    part = dest / (spec.path + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:1000])
    _Handler.ranges.clear()
    with serve(root) as url:
        report = fetch_corpora(dest, mirror=url, specs=[spec], timeout=5)
    assert report.counts() == {"downloaded": 1}
    assert _Handler.ranges == ["bytes=1000-"]
    assert (dest / spec.path).read_bytes() == data and not part.exists()


def test_failures_are_reported_and_nothing_half_written(mirror: tuple[Path, list[FileSpec]],
                                                        tmp_path: Path) -> None:
    root, specs = mirror
    zip_path = root / specs[0].path
    zip_path.write_bytes(zip_path.read_bytes()[:300])  # truncated archive on the server
    (root / specs[1].path).unlink()  # 404
    dest = tmp_path / "dest"
    with serve(root) as url:
        report = fetch_corpora(dest, mirror=url, specs=specs, timeout=5)
    by_path = {r.path: r for r in report.results}
    assert by_path[specs[0].path].status == "failed" and "vérification" in str(by_path[specs[0].path].error)
    assert by_path[specs[1].path].status == "failed" and "HTTP 404" in str(by_path[specs[1].path].error)
    assert by_path[specs[2].path].status == "downloaded"
    assert not (dest / specs[0].path).exists() and not (dest / specs[1].path).exists()
    assert not list(dest.rglob("*.part"))


def test_folder_mirror_and_verification(mirror: tuple[Path, list[FileSpec]], tmp_path: Path) -> None:
    root, specs = mirror
    report = fetch_corpora(tmp_path / "dest", mirror=str(root), specs=specs)
    assert report.counts() == {"copied": 3}
    with pytest.raises(InputError, match="miroir lui-même"):
        fetch_corpora(root, mirror=str(root), specs=specs)
    with pytest.raises(InputError, match="Miroir introuvable"):
        fetch_corpora(tmp_path / "d2", mirror=str(tmp_path / "absent"), specs=specs)
    html = tmp_path / "page.tsv"
    html.write_text("<html><body>Accès refusé</body></html>\n", encoding="utf-8")
    assert verify_file(html, specs[2]) is not None
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    assert verify_file(empty, specs[0]) == "fichier vide"


def test_offline_without_mirror(mirror: tuple[Path, list[FileSpec]], tmp_path: Path) -> None:
    _root, specs = mirror
    with pytest.raises(OfflineError) as info:
        fetch_corpora(tmp_path / "dest", specs=specs, timeout=2)
    assert "Pas d'accès réseau" in info.value.message and "--mirror" in info.value.message
    assert not list((tmp_path / "dest").rglob("*.part"))


# --------------------------------------------------------------------------- fetch (CLI)


def test_cli_fetch_offline_is_one_french_line(runner: CliRunner, app, mirror, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _root, specs = mirror
    monkeypatch.setattr(fetch_mod, "load_file_specs", lambda *a, **k: specs)
    result = runner.invoke(app, ["corpora", "fetch", "--dest", str(tmp_path / "dest"), "--timeout", "2"])
    assert result.exit_code == 2
    assert "Erreur : Pas d'accès réseau" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_cli_fetch_with_mirror_and_json(runner: CliRunner, app, mirror, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root, specs = mirror
    monkeypatch.setattr(fetch_mod, "load_file_specs", lambda *a, **k: specs)
    with serve(root) as url:
        result = runner.invoke(app, ["corpora", "fetch", "--mirror", url, "--dest", str(tmp_path / "d"),
                                     "--only", "bdpm", "--json"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["path"], r["status"]) for r in rows] == [("bdpm/CIS_bdpm.txt", "downloaded")]
    assert "Bilan : 1 téléchargé(s)." in result.stderr
    bad = runner.invoke(app, ["corpora", "fetch", "--mirror", str(root), "--dest", str(tmp_path / "d"),
                              "--only", "faers"])
    assert bad.exit_code == 2 and "Source inconnue : faers" in bad.stderr


# --------------------------------------------------------------------------- stats


def test_cli_stats_sample_table_and_json(runner: CliRunner, app) -> None:  # type: ignore[no-untyped-def]
    lines = sum(1 for line in (SAMPLE_DIR / "dossiers.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip())
    table = runner.invoke(app, ["corpora", "stats", "--dir", str(SAMPLE_DIR)])
    assert table.exit_code == 0, table.stderr
    assert "sample" in table.stdout and "Écrits" in table.stdout and str(lines) in table.stdout
    as_json = runner.invoke(app, ["corpora", "stats", "--dir", str(SAMPLE_DIR), "--json"])
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert rows == [rows[0]] and rows[0]["source"] == "sample" and rows[0]["written"] == lines
    assert rows[0]["read"] == rows[0]["written"] + rows[0]["skipped_total"]


def test_cli_stats_json_line_is_stable(runner: CliRunner, app) -> None:  # type: ignore[no-untyped-def]
    # The JSON line other tools read: same keys, same order, files counted, seconds to the hundredth.
    result = runner.invoke(app, ["corpora", "stats", "--dir", str(SAMPLE_DIR), "--json"])
    assert result.exit_code == 0, result.stderr
    (line,) = result.stdout.splitlines()
    row = json.loads(line)
    assert isinstance(row.pop("seconds"), float)
    assert row == {"source": "sample", "kind": "case", "unit": "dossiers fictifs", "folder": ".", "read": 43,
                   "written": 43, "skipped_total": 0, "skipped": {}, "files": 1, "error": None}
    assert list(json.loads(line)) == ["source", "kind", "unit", "folder", "read", "written", "skipped_total",
                                      "skipped", "seconds", "files", "error"]


def test_cli_stats_counts_skips_with_reasons(runner: CliRunner, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "ctgov_stopped"
    folder.mkdir()
    (folder / "stopped_predictions_1.tsv").write_text(
        "stop_reason\tphase\tnct_id\tstart_date\tstatus\n"
        "Low accrual\tPhase 2\tNCT00000001\t1.02.2019\tTerminated\n"
        "Low accrual\tPhase 2\tNCT00000001\t1.02.2019\tTerminated\n", encoding="utf-8")
    result = runner.invoke(app, ["corpora", "stats", "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (row["source"], row["kind"], row["read"], row["written"]) == ("ctgov", "trial", 2, 1)
    assert row["skipped"] == {"identifiant NCT en double": 1}


def test_cli_stats_bad_input(runner: CliRunner, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for args, message in (
        (["--dir", str(tmp_path / "absent")], "Dossier des corpus introuvable"),
        (["--dir", str(tmp_path)], "Aucun corpus reconnu"),
        (["--dir", str(SAMPLE_DIR), "--source", "faers"], "Source inconnue : faers"),
        (["--dir", str(SAMPLE_DIR), "--vaers-years", "deux-mille"], "Années VAERS illisibles"),
    ):
        result = runner.invoke(app, ["corpora", "stats", *args])
        assert result.exit_code == 2, args
        assert f"Erreur : {message}" in result.stderr and "Traceback" not in result.stderr


def test_cli_stats_corrupt_source_exit_2(runner: CliRunner, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "has"
    folder.mkdir()
    (folder / "CIS_HAS_SMR_bdpm.txt").write_bytes(b"69766528\tCT-1\tInscription\t20220209\tFaible\t\x81\r\n")
    result = runner.invoke(app, ["corpora", "stats", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "has-smr" in result.stderr and "cp1252" in result.stderr


# --------------------------------------------------------------------------- real corpora


@pytest.mark.corpora
def test_real_fetch_from_loopback_mirror(corpora_dir: Path, tmp_path: Path) -> None:
    """The official catalogue (sources.yaml, with its SHA-256) against ../shared/corpora served over HTTP."""
    dest = tmp_path / "corpora"
    with serve(corpora_dir) as url:
        report = fetch_corpora(dest, mirror=url, only=["ansm", "ctgov"], timeout=10)
    assert report.counts() == {"downloaded": 4}, report.failed
    for result in report.results:
        assert filecmp.cmp(corpora_dir / result.path, dest / result.path, shallow=False)
    copied = fetch_corpora(dest, mirror=str(corpora_dir), only=["has", "vaers"])
    assert not copied.failed and copied.counts()["copied"] == 3 + 15


@pytest.mark.corpora
def test_real_stats_small_sources(runner: CliRunner, app, corpora_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["corpora", "stats", "--dir", str(corpora_dir), "--json", "--source", "bdpm",
                                 "--source", "has-smr", "--source", "has-asmr", "--source", "ansm-interaction",
                                 "--source", "ctgov", "--source", "vaers", "--vaers-years", "1990"])
    assert result.exit_code == 0, result.stderr
    rows = {r["source"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["bdpm"]["written"] == 15788 and rows["bdpm"]["kind"] == "product"
    assert rows["has-smr"]["written"] == 12738 and rows["has-asmr"]["written"] == 8093
    assert rows["ansm-interaction"]["written"] == 3139
    assert rows["ctgov"]["read"] == 28873 and rows["ctgov"]["skipped_total"] == 22
    assert rows["vaers"]["read"] == rows["vaers"]["written"] + rows["vaers"]["skipped_total"] > 0
    assert all(r["read"] == r["written"] + r["skipped_total"] for r in rows.values())
