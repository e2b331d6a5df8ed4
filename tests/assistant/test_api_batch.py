"""PDF/DOCX/CIOMS through ``POST /triage``, batches through ``POST /triage/batch`` and ``gdr triage`` folders.

Criteria only (no index, no trained model): a fresh SQLite data dir per module.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, api_clients
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.cli.main import build_app
from assistant.db.engine import upgrade
from assistant.settings import Settings, get_settings
from corpora import seriousness
from corpora.sample_files import text_pdf

SAMPLES = Path(__file__).resolve().parents[2] / "corpora" / "sample" / "files"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = get_settings(data_dir=tmp_path_factory.mktemp("api-batch") / "var", database_url=None, corpora_dir=None,
                     retrieval={"embedder": "fake"}, auth=FAST_AUTH)
    upgrade(s)
    return s


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with api_clients(settings) as clients:
        yield clients["evaluateur"]


def _stored(client: TestClient) -> int:
    response = client.get("/assessments", params={"limit": 500})
    assert response.status_code == 200, response.text
    return len(response.json())


def _send(client: TestClient, path: str, name: str, data: bytes, media: str, **params: str) -> object:
    return client.post(path, params={"precedents": "false", **params}, files={"file": (name, data, media)})


def test_cioms_pdf_triage_finds_seriousness_products_and_pages(client: TestClient) -> None:
    response = _send(client, "/triage", "cioms_i_champs.pdf", (SAMPLES / "cioms_i_champs.pdf").read_bytes(),
                     "application/pdf")
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    [row] = response.json()  # type: ignore[attr-defined]
    assert row["id"] == "intake:FR-FICTIF-2026-0001" and row["risk_level"] in ("élevé", "critique")
    assert row["intake"]["declared_seriousness"] == [seriousness.HOSPITALISATION]
    assert row["intake"]["form"] == "CIOMS I" and row["intake"]["pages"][0]["page"] == 1
    assert row["intake"]["boxes"]["suspect"].startswith("1) Augmentin")
    pages = [ev.get("page") for c in row["criteria"] for ev in c["evidence"] if "start" in ev]
    assert pages and set(pages) == {1}
    stored = client.get(f"/assessments/{row['assessment_id']}").json()
    assert stored["dossier"]["fields"]["products"][0]["name"] == "Augmentin 1 g/125 mg"


def test_flattened_cioms_raw_body_and_docx(client: TestClient) -> None:
    response = client.post("/triage", params={"precedents": "false"}, content=(SAMPLES / "cioms_i_aplati.pdf")
                           .read_bytes(), headers={"content-type": "application/pdf"})
    assert response.status_code == 200, response.text
    [row] = response.json()
    assert row["risk_level"] == "critique"  # life-threatening ticked on the form
    assert row["intake"]["declared_seriousness"] == [seriousness.LIFE_THREATENING, seriousness.HOSPITALISATION]
    docx = _send(client, "/triage", "recit_pv.docx", (SAMPLES / "recit_pv.docx").read_bytes(),
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document", type="pv")
    [row] = docx.json()  # type: ignore[attr-defined]
    assert row["intake"]["format"] == "docx" and [p["page"] for p in row["intake"]["pages"]] == [1, 2]


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("p.pdf", text_pdf(["Texte."], encrypt_user_password="secret"), 422, "protégé par un mot de passe"),
        ("scan.pdf", None, 422, "PDF sans texte : une reconnaissance de caractères est nécessaire"),
        ("t.pdf", b"%PDF-1.7\n1 0 obj", 422, "PDF tronqué"),
        ("gros.pdf", b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024), 413, "Fichier trop volumineux"),
    ],
)
def test_bad_documents_are_refused_and_nothing_stored(client: TestClient, name: str, data: bytes | None,
                                                      status: int, message: str) -> None:
    from corpora.sample_files import image_only_pdf

    before = _stored(client)
    response = _send(client, "/triage", name, data if data is not None else image_only_pdf(), "application/pdf")
    assert response.status_code == status  # type: ignore[attr-defined]
    assert message in response.json()["detail"]  # type: ignore[attr-defined]
    assert _stored(client) == before


# --------------------------------------------------------------------------- POST /triage/batch

def _ndjson(response: object) -> list[dict]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/x-ndjson")  # type: ignore[attr-defined]
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]  # type: ignore[attr-defined]


def test_batch_csv_streams_one_line_per_row_and_stores_each(client: TestClient) -> None:
    before = _stored(client)
    lines = _ndjson(_send(client, "/triage/batch", "lot_pv.csv", (SAMPLES / "lot_pv.csv").read_bytes(), "text/csv"))
    rows, summary = lines[:-1], lines[-1]["summary"]
    assert summary == {"rows": 5, "triaged": 5, "errors": 0}
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5] and rows[0]["where"] == "ligne 2"
    assert rows[2]["risk_level"] == "critique"  # declared death
    assert all(isinstance(r["assessment_id"], int) for r in rows) and _stored(client) == before + 5


def test_batch_row_errors_keep_their_place(client: TestClient) -> None:
    data = ("texte;age\nFièvre après vaccin;30\nÂge faux;trente\n\"Décès du patient\";80\n").encode()
    before = _stored(client)
    lines = _ndjson(_send(client, "/triage/batch", "lot.csv", data, "text/csv"))
    assert [(r["row"], "error" in r) for r in lines[:-1]] == [(1, False), (2, True), (3, False)]
    assert lines[1]["where"] == "ligne 3" and "âge illisible" in lines[1]["error"]
    assert lines[-1]["summary"] == {"rows": 3, "triaged": 2, "errors": 1} and _stored(client) == before + 2


def test_batch_zip_of_files(client: TestClient) -> None:
    lines = _ndjson(_send(client, "/triage/batch", "lot_pv.zip", (SAMPLES / "lot_pv.zip").read_bytes(),
                          "application/zip"))
    assert lines[-1]["summary"]["triaged"] == 5
    assert lines[0]["where"] == "lot_pv.zip › lot/cioms_i_aplati.pdf" and lines[0]["intake"]["form"] == "CIOMS I"


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bombe.csv", b"text\n" + b"a" * (30 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("vide.csv", b"text\n", 400, "Lot vide"),
        ("lot.csv", "id:type:texte\n1:pv:Fièvre\n".encode(), 422, "séparateur"),
        ("bombe.zip", None, 413, "bombe de décompression"),
        ("lot.zip", b"PK\x03\x04 tronque", 422, "archive zip illisible"),
    ],
)
def test_batch_level_errors_are_4xx_before_any_row(client: TestClient, name: str, data: bytes | None, status: int,
                                                   message: str) -> None:
    before = _stored(client)
    response = _send(client, "/triage/batch", name, data if data is not None else _bomb(), "application/octet-stream")
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert message in response.json()["detail"]  # type: ignore[attr-defined]
    assert _stored(client) == before


# --------------------------------------------------------------------------- gdr triage

@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GDR_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("GDR_CORPORA_DIR", raising=False)


def test_cli_triage_folder_and_single_bad_file(cli_env: None, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(build_app(), ["triage", str(SAMPLES), "--json", "--no-precedents"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 13 and {"row", "where"}.isdisjoint(rows[0])
    forms = [r for r in rows if (r.get("intake") or {}).get("form") == "CIOMS I"]
    assert len(forms) == 3 and all(r["intake"]["declared_seriousness"] for r in forms)

    folder = tmp_path / "lot"
    folder.mkdir()
    (folder / "a.pdf").write_bytes((SAMPLES / "cioms_i_aplati.pdf").read_bytes())
    (folder / "b.pdf").write_bytes(b"%PDF-1.4 tronque")
    (folder / "c.txt").write_text("Fièvre après vaccination, guérison.", encoding="utf-8")
    result = runner.invoke(build_app(), ["triage", str(folder), "--json", "--no-precedents"])
    assert result.exit_code == 3 and len(result.stdout.splitlines()) == 2
    assert f"{folder / 'b.pdf'} : " in result.stderr and "PDF tronqué" in result.stderr

    result = runner.invoke(build_app(), ["triage", str(folder / "b.pdf"), str(folder / "a.pdf"), "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "PDF tronqué" in result.stderr
