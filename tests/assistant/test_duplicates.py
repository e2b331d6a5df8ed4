"""Duplicate reports at intake: stored assessments on SQLite, twins within a batch, the French summary."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from api_auth import FAST_AUTH
from oversight_fixtures import session_on, triage_result

from assistant.db.engine import upgrade
from assistant.db.models import AssessmentRow, DuplicateKeyRow
from assistant.services.assessments import store_assessment
from assistant.services.duplicates import BatchTwins, summary_lines
from assistant.settings import DuplicatesSettings, Settings, get_settings
from corpora.model import Dossier, DossierFields, Product

NARRATIVE = ("A 34 year old female patient received a first dose of hepatitis B vaccine in the left deltoid. "
             "Two hours later she developed generalised urticaria and swelling of the lips. She was treated "
             "with antihistamines in the emergency department and recovered the next day.")
RETOLD = ("Follow-up: 34 y.o. female pt got 1st dose of hep B vax in left deltoid. Two hrs later she developed "
          "generalised urticaria and swelling of the lips. Treated with antihistamines in the ER, recovered next day.")
OTHER = ("Infant had fever of 39.5 C and persistent crying for four hours after the second dose of DTaP. "
         "Parents called the office; acetaminophen was given and the child was well the following morning.")


def _pv(rid: str, text: str, *, age: float | None = 34, sex: str = "F", vaccine: str = "HEP",
        dossier_type: str = "pv") -> Dossier:
    return Dossier(id=rid, type=dossier_type, title=f"Signalement {rid}", text=text,  # type: ignore[arg-type]
                   language="en", source="intake", received_at=date(2026, 3, 2),
                   fields=DossierFields(patient_age=age, patient_sex=sex, vaccine_types=[vaccine],
                                        products=[Product(vaccine_type=vaccine, role="suspect")],
                                        onset_date=date(2026, 3, 1), symptoms=["Urticaria"]))


@pytest.fixture()
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    s = get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=None, auth=FAST_AUTH)
    upgrade(s)
    return s


def _store(settings: Settings, dossier: Dossier, level: str = "modéré"):  # type: ignore[no-untyped-def]
    result = triage_result(dossier.id, dossier.type, level)
    with session_on(settings) as session:
        aid = store_assessment(session=session, result=result, dossier=dossier, duplicates=settings.duplicates)
        session.commit()
    return aid, result


def test_a_repeated_report_is_flagged_with_its_stored_twin(settings: Settings) -> None:
    first_id, first = _store(settings, _pv("intake:A-1", NARRATIVE))
    assert first.duplicates is None  # nothing stored before it
    _, other = _store(settings, _pv("intake:B-1", OTHER, age=0.3, sex="M"))
    assert other.duplicates is None
    second_id, second = _store(settings, _pv("intake:A-2", RETOLD, age=None))
    assert second.duplicates is not None and [d.id for d in second.duplicates] == ["intake:A-1"]
    twin = second.duplicates[0]
    assert twin.assessment_id == first_id and twin.source == "évaluations" and twin.score >= 0.7
    assert "produits" in twin.agreeing and "date de début" in twin.agreeing
    with session_on(settings) as session:
        stored = session.get(AssessmentRow, second_id)
        assert stored is not None and stored.result["duplicates"][0]["id"] == "intake:A-1"  # in the stored result
        assert session.query(DuplicateKeyRow).filter_by(assessment_id=second_id).count() > 0
    lines = summary_lines(second.duplicates)
    assert lines[0].startswith("  Doublon probable : intake:A-1 (dossier déjà évalué n° ")


def test_a_re_triage_is_not_its_own_twin_and_other_types_are_not_checked(settings: Settings) -> None:
    _store(settings, _pv("intake:A-1", NARRATIVE))
    _, again = _store(settings, _pv("intake:A-1", NARRATIVE))
    assert again.duplicates is None
    _, amm = _store(settings, _pv("ema:X", NARRATIVE, dossier_type="amm"))
    assert amm.duplicates is None


def test_the_threshold_and_the_switch_come_from_the_settings(settings: Settings) -> None:
    _store(settings, _pv("intake:A-1", NARRATIVE))
    strict = settings.model_copy(update={"duplicates": DuplicatesSettings(threshold=0.99)})
    _, result = _store(strict, _pv("intake:A-2", RETOLD, age=None))
    assert result.duplicates is None
    off = settings.model_copy(update={"duplicates": DuplicatesSettings(enabled=False)})
    _, result = _store(off, _pv("intake:A-3", NARRATIVE))
    assert result.duplicates is None


def test_twins_within_one_batch() -> None:
    twins = BatchTwins(DuplicatesSettings())
    first, second, third = (triage_result(i, "pv", "faible") for i in ("intake:1", "intake:2", "intake:3"))
    twins.add(_pv("intake:1", NARRATIVE), first)
    twins.add(_pv("intake:2", OTHER, vaccine="DTAP"), second)
    twins.add(_pv("intake:3", RETOLD), third)
    assert first.duplicates is None and second.duplicates is None
    assert third.duplicates is not None and third.duplicates[0].id == "intake:1"
    assert third.duplicates[0].source == "lot"


# --------------------------------------------------------------------------- the indexed history

SAMPLE = Path(__file__).resolve().parents[2] / "corpora" / "sample" / "dossiers.jsonl"


@pytest.fixture(scope="module")
def indexed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The bundled sample indexed (fake embedder), as the golden triage tests do."""
    from assistant.services.retrieval import build

    s = get_settings(data_dir=tmp_path_factory.mktemp("dup-index") / "var", database_url=None, corpora_dir=None,
                     retrieval={"embedder": "fake"})
    build(s)
    return s


def test_a_report_repeating_an_indexed_one_is_flagged(indexed_settings: Settings) -> None:
    from assistant.services.resources import Resources
    from assistant.services.triage import summary_fr, triage_dossiers
    from corpora.io import iter_jsonl
    from corpora.model import dossier_from_json

    original = next(dossier_from_json(obj) for _n, obj, _e in iter_jsonl(SAMPLE)
                    if obj and obj["id"] == "sample:pv-001")
    sentences = original.text.split(". ")
    copy = original.model_copy(update={
        "id": "intake:relance-001", "source": "intake",
        "text": "Relance du laboratoire. " + ". ".join(sentences[:1] + sentences[2:]),
        "fields": original.fields.model_copy(update={"other_medications": None})})
    with Resources(indexed_settings) as resources:
        results = list(triage_dossiers(indexed_settings, [copy, original], resources=resources))
    twins = results[0].duplicates
    assert twins and twins[0].id == "sample:pv-001" and twins[0].source == "historique"
    assert twins[0].score >= indexed_settings.duplicates.threshold and "récit" in twins[0].agreeing
    assert "Doublon probable : sample:pv-001 (historique indexé)" in summary_fr(results[0])
    # the original itself is indexed: never its own twin (the copy, earlier in the batch, is)
    assert results[1].duplicates is not None
    assert [d.id for d in results[1].duplicates] == ["intake:relance-001"] and results[1].duplicates[0].source == "lot"


def test_post_triage_flags_the_twin_of_a_stored_assessment(settings: Settings) -> None:
    from api_auth import api_clients

    first = _pv("intake:API-1", NARRATIVE).model_dump(mode="json")
    second = _pv("intake:API-2", RETOLD, age=None).model_dump(mode="json")
    with api_clients(settings) as clients:
        client = clients["evaluateur"]
        [one] = client.post("/triage", params={"precedents": "false"}, json=first).json()
        assert "duplicates" not in one
        response = client.post("/triage", params={"precedents": "false"}, json=second)
        assert response.status_code == 200, response.text
        [two] = response.json()
        assert [d["id"] for d in two["duplicates"]] == ["intake:API-1"]
        assert two["duplicates"][0]["assessment_id"] == one["assessment_id"]
        assert two["duplicates"][0]["source"] == "évaluations"
        stored = client.get(f"/assessments/{two['assessment_id']}").json()
        assert stored["result"]["duplicates"] == two["duplicates"]


@pytest.mark.postgres
def test_stored_twins_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    s = get_settings(data_dir=tmp_path / "var", corpora_dir=None, database_url=postgres_url, auth=FAST_AUTH)
    upgrade(s)
    first_id, _ = _store(s, _pv("intake:PG-1", NARRATIVE))
    _, second = _store(s, _pv("intake:PG-2", RETOLD, age=None))
    assert second.duplicates is not None and second.duplicates[0].assessment_id == first_id
