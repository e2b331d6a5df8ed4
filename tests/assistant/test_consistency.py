"""Consistency monitor: similar dossiers with different decisions or levels (service, API, CLI) on SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, Clients, api_clients
from oversight_fixtures import session_on, store_proposal
from typer.testing import CliRunner

from assistant.cli.main import build_app
from assistant.db.engine import upgrade
from assistant.db.models import DecisionRow
from assistant.services import audit
from assistant.services.consistency import consistency_pairs
from assistant.services.decisions import DecisionIn, decide
from assistant.settings import Settings, get_settings
from corpora.errors import InputError
from retrieval.consistency import similar_pairs, situation_text

USER = audit.Actor("jeanne", "evaluateur")
OTHER_USER = audit.Actor("paul", "expert")
MYOCARDITIS = ("Un homme de 24 ans présente une myocardite avec douleur thoracique et troponine élevée trois jours "
               "après la deuxième dose du vaccin ARNm. Hospitalisé deux jours en cardiologie, évolution favorable.")
MYOCARDITIS_2 = ("Homme de 23 ans : myocardite, douleur thoracique et troponine élevée deux jours après la deuxième "
                 "dose du vaccin ARNm. Hospitalisé trois jours en cardiologie, évolution favorable.")
RASH = "Une femme de 60 ans signale une rougeur au point d'injection le lendemain de la vaccination antigrippale."


def _dossier(rid: str, text: str, age: float, sex: str, vaccine: str, symptoms: list[str]) -> dict:
    return {"id": rid, "type": "pv", "title": f"Signalement {rid}", "text": text, "language": "fr",
            "source": "test", "received_at": "2026-03-01",
            "fields": {"patient_age": age, "patient_sex": sex, "vaccine_types": [vaccine], "symptoms": symptoms}}


def _set_decided_at(session, decision_id: int, when: datetime) -> None:  # type: ignore[no-untyped-def]
    row = session.get(DecisionRow, decision_id)
    row.decided_at = when
    session.flush()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = get_settings(data_dir=tmp_path_factory.mktemp("consistency") / "var", database_url=None, corpora_dir=None,
                     auth=FAST_AUTH)
    upgrade(s)
    with session_on(s) as session:
        store_proposal(session, "t:myo-1", "pv", "élevé", criteria=("PV-HOSPITALISATION",),
                       dossier=_dossier("t:myo-1", MYOCARDITIS, 24, "M", "COVID19", ["Myocarditis"]))
        store_proposal(session, "t:myo-2", "pv", "élevé", criteria=("PV-HOSPITALISATION",),
                       dossier=_dossier("t:myo-2", MYOCARDITIS_2, 23, "M", "COVID19", ["Myocarditis"]))
        store_proposal(session, "t:rash", "pv", "faible",
                       dossier=_dossier("t:rash", RASH, 60, "F", "FLU", ["Injection site erythema"]))
        store_proposal(session, "t:rash-2", "pv", "faible",
                       dossier=_dossier("t:rash-2", RASH, 60, "F", "FLU", ["Injection site erythema"]))
        store_proposal(session, "t:pending", "pv", "critique",
                       dossier=_dossier("t:pending", MYOCARDITIS, 24, "M", "COVID19", ["Myocarditis"]))
        session.commit()
        a = decide(session, dossier_id="t:myo-1", request=DecisionIn(risk_level="élevé"), user=USER)
        b = decide(session, dossier_id="t:myo-2", user=OTHER_USER, request=DecisionIn(
            risk_level="modéré", reason="Évolution favorable, pas de séquelle : niveau modéré."))
        decide(session, dossier_id="t:rash", request=DecisionIn(risk_level="faible"), user=USER)
        decide(session, dossier_id="t:rash-2", request=DecisionIn(risk_level="faible"), user=USER)
        _set_decided_at(session, a.id, datetime(2026, 3, 2, 10, tzinfo=UTC))
        _set_decided_at(session, b.id, datetime(2026, 3, 5, 10, tzinfo=UTC))
        session.commit()
    return s


def test_similar_dossiers_with_different_decisions_are_paired_with_both_justifications(settings: Settings) -> None:
    with session_on(settings) as session:
        report = consistency_pairs(session)
    assert report.compared == 4  # decided dossiers only; the identical « rash » pair agrees: not reported
    assert report.total == 1
    pair = report.items[0]
    assert {pair.a.dossier_id, pair.b.dossier_id} == {"t:myo-1", "t:myo-2"}
    assert pair.similarity >= 0.5
    assert pair.differences[0] in ("niveau : élevé ≠ modéré", "niveau : modéré ≠ élevé")
    assert pair.differences[1].startswith("mode : ")  # the policy's mode of each level
    sides = {s.dossier_id: s for s in (pair.a, pair.b)}
    changed = sides["t:myo-2"]
    assert changed.status == "décision" and changed.reason and changed.reason.startswith("Évolution favorable")
    assert changed.proposed_level == "élevé" and changed.level_changed and changed.decided_by == "paul"
    assert [c.code for c in changed.criteria] == ["PV-HOSPITALISATION"]
    assert sides["t:myo-1"].reason is None and sides["t:myo-1"].decided_by == "jeanne"


def test_pending_proposals_since_type_and_bad_input(settings: Settings) -> None:
    with session_on(settings) as session:
        with_pending = consistency_pairs(session, include_pending=True)
        ids = {frozenset((p.a.dossier_id, p.b.dossier_id)) for p in with_pending.items}
        assert frozenset(("t:pending", "t:myo-1")) in ids  # critique proposed vs élevé decided
        statuses = {s.dossier_id: s.status for p in with_pending.items for s in (p.a, p.b)}
        assert statuses["t:pending"] == "proposition"
        assert consistency_pairs(session, since=date(2026, 3, 4)).total == 1  # t:myo-2 decided on the 5th
        assert consistency_pairs(session, since=date(2099, 1, 1)).total == 0
        assert consistency_pairs(session, dossier_type="amm").total == 0
        assert consistency_pairs(session, min_similarity=0.999).total == 0
        with pytest.raises(InputError) as err:
            consistency_pairs(session, dossier_type="xyz")
        assert err.value.code == "unknown_type" and "Type de dossier inconnu" in err.value.message


def test_situation_similarity_is_pure_and_ranked() -> None:
    texts = [situation_text(_dossier("t:a", MYOCARDITIS, 24, "M", "COVID19", ["Myocarditis"])),
             situation_text(_dossier("t:b", MYOCARDITIS_2, 23, "M", "COVID19", ["Myocarditis"])),
             situation_text(_dossier("t:c", RASH, 60, "F", "FLU", ["Injection site erythema"]))]
    assert "zvtcovid19" in texts[0] and "zsexm" in texts[0]
    pairs = similar_pairs(texts, 0.3)
    assert pairs[0][:2] == (0, 1) and all(p[:2] != (0, 2) for p in pairs)
    assert similar_pairs(texts, 0.3, keep=lambda i, j: False) == []


@pytest.fixture(scope="module")
def clients(settings: Settings) -> Iterator[Clients]:
    with api_clients(settings) as c:
        yield c


def test_get_consistency(clients: Clients) -> None:
    response = clients["expert"].get("/consistency")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 1 and body["items"][0]["differences"]
    assert clients["evaluateur"].get("/consistency").status_code == 403
    bad = clients["expert"].get("/consistency", params={"type": "xyz"})
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_type"


def test_gdr_consistency(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GDR_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("GDR_DATABASE_URL", raising=False)
    runner, app = CliRunner(), build_app()
    result = runner.invoke(app, ["consistency"])
    assert result.exit_code == 0, result.stderr
    assert "similarité" in result.stdout and "motif : Évolution favorable" in result.stdout
    assert "1 paire(s) divergente(s) parmi 4 dossier(s) comparé(s)" in result.stderr
    result = runner.invoke(app, ["consistency", "--json", "--pending", "--type", "pv"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) >= 2 and all(r["dossier_type"] == "pv" for r in rows)
    result = runner.invoke(app, ["consistency", "--since", "05/03/2026"])
    assert result.exit_code == 2 and "Date invalide pour --since" in result.stderr
