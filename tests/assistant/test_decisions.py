"""Decisions on proposals: accept, change with a reason, refusals that store nothing; audit export and
verify from the command line (acceptance of issue 10), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from api_auth import FAST_AUTH, Clients, api_clients
from fastapi.testclient import TestClient
from oversight_fixtures import session_on, store_proposal
from typer.testing import CliRunner

from assistant.cli.main import build_app
from assistant.db.engine import make_engine, upgrade
from assistant.services import audit
from assistant.services.decisions import DecisionIn, decide, list_decisions
from assistant.services.ingest import ingest_sample
from assistant.settings import Settings, get_settings
from corpora.errors import InputError


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = get_settings(data_dir=tmp_path_factory.mktemp("decisions") / "var", database_url=None, corpora_dir=None,
                     auth=FAST_AUTH)
    ingest_sample(s)  # migrates, then loads the sample dossiers (received_at, titles)
    return s


@pytest.fixture(scope="module")
def clients(settings: Settings) -> Iterator[Clients]:
    with api_clients(settings) as c:
        yield c


def _sample(dossier_id: str) -> dict:
    path = Path(__file__).resolve().parents[2] / "corpora" / "sample" / "dossiers.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["id"] == dossier_id:
            record.pop("outcome", None)
            return record
    raise KeyError(dossier_id)


def _triage(client: TestClient, dossier_id: str) -> dict:
    response = client.post("/triage", params={"precedents": "false"}, json=_sample(dossier_id))
    assert response.status_code == 200, response.text
    [row] = response.json()
    return row


def _decide(client: TestClient, dossier_id: str, **body: object):  # type: ignore[no-untyped-def]
    return client.post(f"/dossiers/{quote(dossier_id, safe='')}/decision", json=body)


def _counts(settings: Settings) -> tuple[int, int]:
    with session_on(settings) as session:
        decisions = session.execute(sa.text("SELECT count(*) FROM decision")).scalar_one()
        events = session.execute(sa.text("SELECT count(*) FROM audit_event")).scalar_one()
    return int(decisions), int(events)


def test_accepting_the_proposal_needs_no_reason(clients: Clients, settings: Settings) -> None:
    proposal = _triage(clients["evaluateur"], "sample:pv-001")
    assert proposal["risk_level"] == "critique"
    response = _decide(clients["evaluateur"], "sample:pv-001", risk_level="critique")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["level_changed"] is False and body["mode_changed"] is False and body["reason"] is None
    assert body["assessment_id"] == proposal["assessment_id"]
    assert body["processing_mode"] == proposal["processing_mode"]["code"] == body["proposed_mode"]
    assert body["decided_by"] == "evaluateur-test" and body["decided_role"] == "evaluateur"
    assert body["model_version"] == proposal["model_version"]
    assert body["referentiel_version"] == proposal["referentiel_version"] and body["policy_version"]
    with session_on(settings) as session:
        [event] = audit.list_events(session, kinds=["decision"], dossier_id="sample:pv-001")
    assert event.actor == "evaluateur-test" and event.payload["decision_id"] == body["id"]
    assert event.versions["model"] == proposal["model_version"]


def test_change_without_reason_is_refused_and_stores_nothing(clients: Clients, settings: Settings) -> None:
    _triage(clients["expert"], "sample:pv-002")
    before = _counts(settings)
    for body in ({"risk_level": "faible"}, {"risk_level": "faible", "reason": "   "}):
        response = _decide(clients["expert"], "sample:pv-002", **body)
        assert response.status_code == 400
        payload = response.json()
        assert payload["code"] == "reason_required" and "Motif obligatoire" in payload["detail"]
        assert "→ faible" in payload["detail"]
    assert _counts(settings) == before


def test_change_with_reason_is_stored_audited_and_listed(clients: Clients, settings: Settings) -> None:
    proposal = _triage(clients["evaluateur"], "sample:pv-003")
    lower = "faible" if proposal["risk_level"] != "faible" else "modéré"
    response = _decide(clients["evaluateur"], "sample:pv-003", risk_level=lower,
                       reason="Cas déjà connu, doublon d'un signalement traité.",
                       assessment_id=proposal["assessment_id"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["level_changed"] is True and body["proposed_level"] == proposal["risk_level"]
    assert body["risk_level"] == lower and body["processing_mode"].startswith("PV-")
    listed = clients["formateur"].get(f"/dossiers/{quote('sample:pv-003', safe='')}/decisions")
    assert listed.status_code == 200 and [d["id"] for d in listed.json()] == [body["id"]]
    changed = clients["admin"].get("/decisions", params={"changed": "true", "type": "pv"}).json()
    assert body["id"] in [d["id"] for d in changed] and all(d["level_changed"] or d["mode_changed"] for d in changed)
    with session_on(settings) as session:
        [event] = audit.list_events(session, kinds=["override"], dossier_id="sample:pv-003")
    assert event.payload["reason"].startswith("Cas déjà connu") and event.payload["risk_level"] == lower


def test_mode_change_alone_needs_a_reason_and_a_known_code(clients: Clients) -> None:
    proposal = _triage(clients["evaluateur"], "sample:amm-001")
    level = proposal["risk_level"]
    other = next(code for code in ("AMM-EXPERTISE-COLLEGIALE", "AMM-STANDARD")
                 if code != proposal["processing_mode"]["code"])
    refused = _decide(clients["evaluateur"], "sample:amm-001", risk_level=level, processing_mode=other)
    assert refused.status_code == 400 and refused.json()["code"] == "reason_required"
    unknown = _decide(clients["evaluateur"], "sample:amm-001", risk_level=level, processing_mode="PV-STANDARD",
                      reason="x")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_processing_mode"
    assert "AMM-STANDARD" in unknown.json()["detail"]
    ok = _decide(clients["evaluateur"], "sample:amm-001", risk_level=level, processing_mode=other.lower(),
                 reason="Comité d'experts demandé par la direction.")
    assert ok.status_code == 201 and ok.json()["mode_changed"] and not ok.json()["level_changed"]


def test_bad_decisions_get_french_errors_with_codes(clients: Clients, settings: Settings) -> None:
    first = _triage(clients["evaluateur"], "sample:aec-001")
    proposal = _triage(clients["evaluateur"], "sample:aec-001")
    other = _triage(clients["evaluateur"], "sample:aec-003")
    before = _counts(settings)
    client = clients["evaluateur"]
    cases = [
        (_decide(client, "sample:aec-001", risk_level="énorme"), 400, "unknown_level", "Niveau de risque inconnu"),
        (_decide(client, "sample:inexistant", risk_level="faible", reason="x"), 404, "dossier_not_found",
         "Dossier introuvable"),
        (_decide(client, "sample:aec-002", risk_level="faible", reason="x"), 409, "no_proposal", "triez-le d'abord"),
        (_decide(client, "sample:aec-001", risk_level=proposal["risk_level"], assessment_id=first["assessment_id"]),
         409, "proposal_outdated", "n'est pas la dernière"),
        (_decide(client, "sample:aec-001", risk_level=proposal["risk_level"], assessment_id=other["assessment_id"]),
         404, "proposal_unknown", "n'existe pas pour ce dossier"),
        (_decide(client, "sample:aec-001", risk_level=proposal["risk_level"], assessment_id=2**63), 422,
         "invalid_request", "assessment_id (valeur trop grande)"),
        (_decide(client, "sample:aec-001", risk_level="faible", reason="x" * 5000), 400, "reason_too_long",
         "Motif trop long"),
        (client.post("/dossiers/sample%3Aaec-001/decision", json={"reason": "x"}), 422, "invalid_request",
         "risk_level (obligatoire)"),
        (clients["formateur"].post("/dossiers/sample%3Aaec-001/decision", json={"risk_level": "faible"}), 403,
         "permission_denied", "decide"),
    ]
    for response, status, code, words in cases:
        assert response.status_code == status, response.text
        assert response.json()["code"] == code and words in response.json()["detail"]
    assert _counts(settings) == before
    assert clients["evaluateur"].get("/dossiers/sample%3Ainexistant/decisions").json()["code"] == "dossier_not_found"


def test_service_checks_before_writing(settings: Settings) -> None:
    with session_on(settings) as session:
        store_proposal(session, "intake:abc", "pv", "élevé")
        session.commit()
        user = audit.Actor("jeanne", "expert")
        with pytest.raises(InputError) as refused:
            decide(session, dossier_id="intake:abc", request=DecisionIn(risk_level="modere"), user=user)
        assert refused.value.code == "reason_required"
        decision = decide(session, dossier_id="intake:abc", request=DecisionIn(risk_level="eleve"), user=user)
        session.commit()
        assert decision.risk_level == "élevé" and not decision.changed
        assert decision.processing_mode == "PV-EVALUATION-APPROFONDIE"
        assert [d.id for d in list_decisions(session, dossier_id="intake:abc")] == [decision.id]


# --------------------------------------------------------------------------- acceptance: CLI audit export / verify

@pytest.fixture(params=["sqlite", "postgres"])
def cli_env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GDR_CORPORA_DIR", raising=False)
    if url:
        monkeypatch.setenv("GDR_DATABASE_URL", url)
    else:
        monkeypatch.delenv("GDR_DATABASE_URL", raising=False)
    s = get_settings(data_dir=tmp_path / "var", database_url=url, corpora_dir=None)
    upgrade(s)
    return s


def _gdr(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), list(args))
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("tamper", "broken"), [
    ("UPDATE audit_event SET payload = '{\"reason\": \"autre motif\"}' WHERE kind = 'override'", 2),
    ("UPDATE audit_event SET actor = 'quelqu''un' WHERE seq = 1", 1),
    ("DELETE FROM audit_event WHERE seq = 2", 3),
])
def test_decision_appears_in_audit_export_and_verify_catches_edits(cli_env: Settings, tamper: str,
                                                                   broken: int) -> None:
    user = audit.Actor("jeanne", "evaluateur")
    with session_on(cli_env) as session:
        store_proposal(session, "sample:pv-010", "pv", "critique")
        session.commit()
        with pytest.raises(InputError):
            decide(session, dossier_id="sample:pv-010", request=DecisionIn(risk_level="modéré"), user=user)
        session.rollback()
        decision = decide(session, dossier_id="sample:pv-010", user=user, request=DecisionIn(
            risk_level="modéré", reason="Décès sans lien avec le vaccin (autopsie)."))
        session.commit()
        audit.record(session, "dossier_view", actor=user, dossier_id="sample:pv-010")
        session.commit()
    code, out, err = _gdr("audit", "export", "--since", "2000-01-01")
    assert code == 0 and "3 événement(s) exporté(s)" in err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["kind"] for e in events] == ["triage", "override", "dossier_view"]
    override = events[1]
    assert override["payload"]["decision_id"] == decision.id and override["actor"] == "jeanne"
    assert override["payload"]["reason"] == "Décès sans lien avec le vaccin (autopsie)."
    assert {"hash", "prev_hash", "seq", "at", "versions"} <= set(override)
    assert _gdr("audit", "export", "--since", "2999-01-01")[1] == ""
    code, _, err = _gdr("audit", "verify")
    assert code == 0 and "Journal d'audit intègre : 5 événement(s)" in err  # + the two exports
    engine = make_engine(cli_env)
    with engine.begin() as conn:
        conn.execute(sa.text(tamper))
    engine.dispose()
    code, out, err = _gdr("audit", "verify", "--json")
    assert code == 1 and "Journal d'audit rompu" in err and "événement n°" in err
    assert json.loads(out)["ok"] is False and json.loads(out)["broken_seq"] == broken
    assert f"événement n° {broken}" in err


def test_cli_bad_input_exits_2(cli_env: Settings) -> None:
    code, _, err = _gdr("audit", "export", "--since", "hier")
    assert code == 2 and "Date invalide pour --since" in err
    code, _, err = _gdr("audit", "export", "--kind", "rien")
    assert code == 2 and "Type d'événement inconnu" in err
    code, _, err = _gdr("audit", "purge", "--dry-run")
    assert code == 0 and "seraient supprimés" in err
    with session_on(cli_env) as session:
        assert audit.verify_chain(session).ok
