"""Hostile-input suite (issue 13 §3): every case of ``hostile_inputs.py`` through intake, ``gdr triage``,
``POST /triage``, ``POST /triage/batch`` and ``POST /chat``.

For each case and each way in: no 5xx, no traceback, either a result or one French message; and
nothing stored half-way (the assessments and audit events added are exactly the results returned).
The number of cases is printed in the end-of-run summary and checked (≥ 500).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from api_auth import FAST_AUTH, Clients, api_clients
from hostile_inputs import Case, all_cases
from typer.testing import CliRunner

from assistant.cli.main import build_app
from assistant.db.engine import make_engine, upgrade
from assistant.services.intake import read_upload
from assistant.settings import Settings, get_settings
from corpora.errors import GdrError

CASES = all_cases()
assert len({case.name for case in CASES}) == len(CASES), "noms de cas en double"
# Intake, POST /triage and gdr triage (a folder of every case) take them all; the batch route and the
# chat take the crafted cases and one generated case in three (CI budget: the whole suite runs in ~1.5 min).
SOME_CASES = [c for i, c in enumerate(CASES) if not c.name.startswith("gen_") or i % 3 == 0]
# A word or an accent only French has: every refusal must read as French to an ANSM agent.
FRENCH = re.compile(r"[éèêàçùôî«»]|\b(le|la|les|du|des|de|un|une|est|fichier|dossier|texte|trop|lot|ligne|"
                    r"invalide|illisible|refusé|refusée|vide|aucun|aucune|erreur|format|non|attendu)\b", re.IGNORECASE)
ENGLISH_LEAKS = re.compile(r"Traceback|Exception|Error:|object has no attribute|Expecting value|"
                           r"codec can't|NoneType|line \d+, in ")


def _french(message: str) -> bool:
    return bool(message.strip()) and bool(FRENCH.search(message)) and not ENGLISH_LEAKS.search(message)


def test_case_count(report_line: Callable[[str], None]) -> None:
    crafted = sum(not c.name.startswith("gen_") for c in CASES)
    report_line(f"entrées hostiles : {len(CASES)} ({crafted} écrites à la main, {len(CASES) - crafted} générées, "
                "graine 13) × intake, gdr triage, POST /triage, POST /triage/batch, POST /chat")
    assert len(CASES) >= 500


# --------------------------------------------------------------------------- intake (service)

@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # No rate limit here: hundreds of requests by one account in a minute are the point of this suite.
    # Names by patterns only (CI budget): the NER model meets these texts in test_pseudonymisation.py.
    s = get_settings(data_dir=tmp_path_factory.mktemp("hostile") / "var", database_url=None, corpora_dir=None,
                     retrieval={"embedder": "fake"}, auth=FAST_AUTH, api={"rate_limit_per_minute": 0},
                     privacy={"ner_model": "none"})
    upgrade(s)
    return s


def test_intake_never_crashes(settings: Settings) -> None:
    accepted = refused = 0
    for case in CASES:
        try:
            items = read_upload(settings, case.data, filename=case.filename)
        except GdrError as exc:
            assert _french(exc.message), f"{case.name}: {exc.message!r}"
            refused += 1
            continue
        assert items, case.name
        for item in items:
            assert len(item.dossier.text) <= settings.intake.max_text_chars, case.name
            assert all(_french(w) for w in item.warnings), f"{case.name}: {item.warnings}"
        accepted += 1
    print(f"\nintake : {accepted} acceptées, {refused} refusées avec un message en français")
    assert accepted and refused


# --------------------------------------------------------------------------- API

@pytest.fixture(scope="module")
def clients(settings: Settings) -> Iterator[Clients]:
    with api_clients(settings) as c:
        yield c


@pytest.fixture(scope="module")
def engine(settings: Settings) -> Iterator[sa.Engine]:
    e = make_engine(settings)
    yield e
    e.dispose()


def _stored(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        assessments = conn.execute(sa.text("select count(*) from assessment")).scalar_one()
        events = conn.execute(sa.text("select count(*) from audit_event")).scalar_one()
        return int(assessments), int(events)


def _check_refusal(case: Case, response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert status < 500, f"{case.name}: {status} {response.text[:300]}"  # type: ignore[attr-defined]
    detail = response.json()["detail"]  # type: ignore[attr-defined]
    assert isinstance(detail, str) and _french(detail), f"{case.name}: {detail!r}"


def test_post_triage(clients: Clients, engine: sa.Engine) -> None:
    client = clients["evaluateur"]
    before = _stored(engine)
    statuses: dict[int, int] = {}
    for case in CASES:
        if case.filename.startswith(("../", "/", "C:", "..\\")) or "\x00" in case.filename:
            response = client.post("/triage", params={"precedents": "false"},
                                   files={"file": (case.filename, case.data, "application/octet-stream")})
        else:
            response = client.post("/triage", params={"precedents": "false", "filename": case.filename[:200]},
                                   content=case.data, headers={"Content-Type": "application/octet-stream"})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        after = _stored(engine)
        if response.status_code == 200:
            rows = response.json()
            assert rows and all(r["assessment_id"] for r in rows), case.name
            assert after[0] == before[0] + len(rows), f"{case.name}: une évaluation par résultat"
            assert after[1] >= before[1] + len(rows), f"{case.name}: un événement d'audit par évaluation"
        else:
            _check_refusal(case, response)
            assert after == before, f"{case.name}: rien ne doit être enregistré sur un refus"
        before = after
    print(f"\nPOST /triage : {dict(sorted(statuses.items()))}")


def test_post_triage_batch(clients: Clients, engine: sa.Engine) -> None:
    client = clients["expert"]
    before = _stored(engine)
    statuses: dict[int, int] = {}
    for case in SOME_CASES:
        response = client.post("/triage/batch", params={"filename": case.filename[:200]}, content=case.data,
                               headers={"Content-Type": "application/octet-stream"})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        after = _stored(engine)
        if response.status_code != 200:
            _check_refusal(case, response)
            assert after == before, case.name
            continue
        lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        summary = lines[-1]["summary"]
        results = [row for row in lines[:-1] if "error" not in row]
        assert all(_french(row["error"]) for row in lines[:-1] if "error" in row), case.name
        assert summary["triaged"] == len(results) and summary["rows"] == len(lines) - 1, case.name
        assert after[0] == before[0] + len(results), f"{case.name}: une évaluation par ligne triée"
        before = after
    print(f"\nPOST /triage/batch : {dict(sorted(statuses.items()))}")


def test_post_chat(clients: Clients) -> None:
    client = clients["formateur"]
    sent = 0
    for case in SOME_CASES:
        text = case.text
        if text is None or "\x00" in text:
            continue
        response = client.post("/chat", json={"message": text})
        sent += 1
        if response.status_code != 200:
            _check_refusal(case, response)
        else:
            assert response.json()["answer"], case.name
    # Bodies that are not the documented JSON at all.
    for name, body in {"nested_list": b"[" * 100_000 + b"]" * 100_000,
                       "nested_object": b'{"message":' * 50_000 + b'"x"' + b"}" * 50_000,
                       "wrong_type": b'{"message": {"a": [1, 2]}}', "not_json": b"\xff\xfe\x00garbage",
                       "huge": b'{"message": "' + b"a" * (12 * 1024 * 1024) + b'"}'}.items():
        response = client.post("/chat", content=body, headers={"Content-Type": "application/json"})
        sent += 1
        _check_refusal(Case(name, body, "body.json"), response)
    print(f"\nPOST /chat : {sent} messages hostiles, aucune erreur 5xx")


# --------------------------------------------------------------------------- CLI

@pytest.fixture(scope="module")
def cli_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Case, Path]]:
    folder = tmp_path_factory.mktemp("hostile-files")
    files = []
    for n, case in enumerate(CASES):
        suffix = Path(case.filename.replace("\x00", "")).suffix[:8] or ".txt"
        path = folder / f"{n:04d}{suffix}"
        path.write_bytes(case.data)
        files.append((case, path))
    return files


def test_gdr_triage(cli_files: list[tuple[Case, Path]], settings: Settings, monkeypatch: pytest.MonkeyPatch,
                    tmp_path: Path) -> None:
    """Every case as a file given by name; then all of them in one folder (a batch that must go on)."""
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GDR_CORPORA_DIR", raising=False)
    monkeypatch.setenv("GDR_RETRIEVAL__EMBEDDER", "fake")
    app = build_app()
    runner = CliRunner()
    codes: dict[int, int] = {}
    # One by one for the crafted cases (each its own exit code), the generated ones as one folder.
    for case, path in cli_files:
        if case.name.startswith("gen_"):
            continue
        result = runner.invoke(app, ["triage", str(path), "--json", "--no-precedents"])
        codes[result.exit_code] = codes.get(result.exit_code, 0) + 1
        assert result.exit_code in (0, 2, 3), f"{case.name}: {result.exit_code} {result.output[-500:]}"
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            f"{case.name}: {result.exception!r}"
        assert "Traceback" not in result.output, case.name
        if result.exit_code:
            message = result.stderr.strip().splitlines()[0]
            assert _french(message), f"{case.name}: {message!r}"
        else:
            assert all(json.loads(line)["risk_level"] for line in result.stdout.splitlines()), case.name
    folder = cli_files[0][1].parent
    result = runner.invoke(app, ["triage", str(folder), "--json", "--no-precedents"])
    assert result.exit_code == 3 and "Traceback" not in result.output, result.output[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.endswith("ignoré.")]
    triaged = [json.loads(line) for line in result.stdout.splitlines()]
    assert errors and triaged
    not_french = [line for line in errors if not _french(line.rpartition(" : ")[2])]
    assert not not_french, not_french[:5]
    print(f"\ngdr triage : codes de sortie {dict(sorted(codes.items()))} ; dossier de {len(cli_files)} fichiers : "
          f"{len(triaged)} triés, {len(errors)} signalés")
