"""Work queue: pending dossiers ordered by level then days left on their regulatory clock (service, API, CLI)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, Clients, api_clients
from oversight_fixtures import session_on, store_proposal
from typer.testing import CliRunner

from assistant.cli.main import build_app
from assistant.db.engine import upgrade
from assistant.services import audit
from assistant.services.decisions import DecisionIn, decide
from assistant.services.queue import pending_queue
from assistant.settings import Settings, get_settings
from corpora.errors import InputError

TODAY = date(2026, 3, 10)
USER = audit.Actor("jeanne", "evaluateur")


def _dossier(dossier_id: str, received: date | None, **extra: object) -> dict:
    return {"id": dossier_id, "title": f"Dossier {dossier_id}", "text": str(extra.pop("text", "")),
            "received_at": received.isoformat() if received else None, "fields": dict(extra), "language": "fr"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = get_settings(data_dir=tmp_path_factory.mktemp("queue") / "var", database_url=None, corpora_dir=None,
                     auth=FAST_AUTH)
    upgrade(s)
    with session_on(s) as session:
        store_proposal(session, "t:pv-critique-recent", "pv", "critique", dossier=_dossier("a", date(2026, 3, 1)))
        store_proposal(session, "t:pv-critique-late", "pv", "critique", dossier=_dossier("d", date(2026, 2, 20)))
        store_proposal(session, "t:pv-eleve", "pv", "élevé", dossier=_dossier("b", date(2026, 3, 10)))
        store_proposal(session, "t:pv-faible", "pv", "faible", dossier=_dossier("c", date(2026, 1, 1)))
        store_proposal(session, "t:aec-modere", "aec", "modéré", dossier=_dossier("e", date(2026, 2, 20)))
        store_proposal(session, "t:aec-susar", "aec", "critique", criteria=("AEC-SUSAR",), dossier=_dossier(
            "s", date(2026, 3, 8), text="SUSAR : le participant est décédé d'une myocardite fulminante."))
        store_proposal(session, "t:amm-acceleree", "amm", "élevé",
                       dossier=_dossier("f", date(2025, 12, 1), accelerated_assessment=True))
        store_proposal(session, "t:sans-date", "pv", "modéré", dossier=_dossier("g", None),
                       created_at=datetime(2026, 3, 9, 10, tzinfo=UTC))
        store_proposal(session, "t:decide", "pv", "critique", dossier=_dossier("h", date(2026, 3, 9)))
        store_proposal(session, "t:re-trie", "pv", "faible", dossier=_dossier("i", date(2026, 3, 1)))
        session.commit()
        decide(session, dossier_id="t:decide", request=DecisionIn(risk_level="critique"), user=USER)
        decide(session, dossier_id="t:re-trie", request=DecisionIn(risk_level="faible"), user=USER)
        session.commit()
        # A new proposal after the decision: the dossier awaits a decision again.
        store_proposal(session, "t:re-trie", "pv", "élevé", dossier=_dossier("i", date(2026, 3, 1)))
        session.commit()
    return s


def test_queue_orders_by_level_then_days_left(settings: Settings) -> None:
    with session_on(settings) as session:
        queue = pending_queue(session, today=TODAY)
    ids = [i.dossier_id for i in queue.items]
    assert ids == ["t:pv-critique-late", "t:aec-susar", "t:pv-critique-recent", "t:re-trie", "t:pv-eleve",
                   "t:amm-acceleree", "t:aec-modere", "t:sans-date", "t:pv-faible"]
    assert "t:decide" not in ids and queue.total == 9 and queue.today == TODAY
    by_id = {i.dossier_id: i for i in queue.items}
    late = by_id["t:pv-critique-late"]
    assert (late.days_left, late.overdue, late.deadline, late.day0_source) == (-3, True, date(2026, 3, 7), "réception")
    assert by_id["t:pv-critique-recent"].days_left == 6 and not by_id["t:pv-critique-recent"].overdue
    susar = by_id["t:aec-susar"]
    assert (susar.clock, susar.days_left, susar.step) == ("SUSAR mortelle ou menaçant le pronostic vital", 5,
                                                           "déclaration de la SUSAR")
    assert by_id["t:re-trie"].days_left == 6 and by_id["t:pv-eleve"].days_left == 15
    amm = by_id["t:amm-acceleree"]
    assert (amm.clock, amm.deadline, amm.days_left) == ("évaluation accélérée", date(2026, 4, 30), 51)
    aec = by_id["t:aec-modere"]  # validation (03-02) is past: the next milestone is the Part I report
    assert aec.step == "rapport d'évaluation de la partie I" and aec.deadline == date(2026, 4, 16)
    assert aec.days_left == 37 and not aec.overdue
    assert [m.due for m in aec.milestones] == [date(2026, 3, 2), date(2026, 4, 16), date(2026, 4, 21)]
    undated = by_id["t:sans-date"]
    assert undated.day0 == date(2026, 3, 9) and undated.day0_source == "évaluation" and undated.days_left == 89
    faible = by_id["t:pv-faible"]
    assert faible.deadline == date(2026, 4, 1) and faible.days_left == 22 and faible.processing_mode == "PV-STANDARD"
    assert faible.processing_mode_label and faible.reference.startswith("EU GVP Module VI")
    assert queue.overdue == 1 and queue.due_soon == 0


def test_queue_filters_limit_and_bad_input(settings: Settings) -> None:
    with session_on(settings) as session:
        assert [i.dossier_id for i in pending_queue(session, today=TODAY, dossier_type="aec").items] == [
            "t:aec-susar", "t:aec-modere"]
        assert [i.dossier_id for i in pending_queue(session, today=TODAY, level="eleve").items] == [
            "t:re-trie", "t:pv-eleve", "t:amm-acceleree"]
        limited = pending_queue(session, today=TODAY, limit=2)
        assert len(limited.items) == 2 and limited.total == 9
        due_soon = pending_queue(session, today=date(2026, 3, 14))
        assert {i.dossier_id for i in due_soon.items if i.due_soon} == {"t:pv-critique-recent", "t:re-trie",
                                                                     "t:aec-susar"}
        with pytest.raises(InputError, match="Type de dossier inconnu"):
            pending_queue(session, dossier_type="xyz")
        with pytest.raises(InputError) as bad_level:
            pending_queue(session, level="énorme")
        assert bad_level.value.code == "unknown_level"


@pytest.fixture(scope="module")
def clients(settings: Settings) -> Iterator[Clients]:
    with api_clients(settings) as c:
        yield c


def test_get_queue_shows_level_and_days_left(clients: Clients, settings: Settings) -> None:
    """Acceptance: GET /queue orders pending dossiers by level, then by days left, and shows both."""
    today = date.today()
    with session_on(settings) as session:
        for n, (level, age) in enumerate([("modéré", 80), ("critique", 2), ("modéré", 10), ("critique", 14)]):
            store_proposal(session, f"api:{n}", "pv", level, dossier=_dossier(f"api{n}", today - timedelta(days=age)))
        session.commit()
    response = clients["evaluateur"].get("/queue", params={"limit": 500})
    assert response.status_code == 200, response.text
    items = [i for i in response.json()["items"] if i["dossier_id"].startswith("api:")]
    assert [(i["dossier_id"], i["risk_level"]) for i in items] == [
        ("api:3", "critique"), ("api:1", "critique"), ("api:0", "modéré"), ("api:2", "modéré")]
    shift = items[0]["days_left"] - 1  # the clock counts days in Paris; the machine may be a day apart
    assert shift in (-1, 0, 1) and [i["days_left"] - shift for i in items] == [1, 13, 10, 80]
    assert all({"days_left", "overdue", "due_soon", "deadline", "day0", "step", "reference"} <= set(i) for i in items)
    bad = clients["evaluateur"].get("/queue", params={"level": "énorme"})
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_level"
    assert clients["formateur"].get("/queue").status_code == 403


def test_gdr_queue_table_and_json(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GDR_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("GDR_DATABASE_URL", raising=False)
    runner, app = CliRunner(), build_app()
    result = runner.invoke(app, ["queue", "--date", "2026-03-10", "--type", "pv", "--limit", "3"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("niveau") and "t:pv-critique-late" in lines[1] and "retard 3 j!" in lines[1]
    assert "en attente de décision au 2026-03-10, 3 affiché(s)" in result.stderr
    result = runner.invoke(app, ["queue", "--date", "2026-03-10", "--json", "--type", "aec"])
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert [i["dossier_id"] for i in items] == ["t:aec-susar", "t:aec-modere"] and items[0]["days_left"] == 5
    result = runner.invoke(app, ["queue", "--date", "10/03/2026"])
    assert result.exit_code == 2 and "Date invalide pour --date" in result.stderr


def test_gdr_queue_on_an_empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GDR_DATABASE_URL", raising=False)
    result = CliRunner().invoke(build_app(), ["queue"])
    assert result.exit_code == 2 and "gdr db upgrade" in result.stderr
