"""Testers' loop: feedback with its context (API and CLI, CSV export by an admin) and the « Nouveautés »."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, Clients, api_clients
from oversight_fixtures import session_on, store_proposal
from typer.testing import CliRunner

from assistant.cli.main import build_app
from assistant.db.engine import upgrade
from assistant.services import audit
from assistant.services.changelog import changelog_path
from assistant.services.feedback import normalise_kind
from assistant.settings import Settings, get_settings
from corpora.errors import InputError


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = get_settings(data_dir=tmp_path_factory.mktemp("feedback") / "var", database_url=None, corpora_dir=None,
                     auth=FAST_AUTH)
    upgrade(s)
    return s


@pytest.fixture(scope="module")
def clients(settings: Settings) -> Iterator[Clients]:
    with api_clients(settings) as c:
        yield c


def test_feedback_on_a_proposal_and_an_answer_keeps_its_context(clients: Clients, settings: Settings) -> None:
    with session_on(settings) as session:
        assessment_id = store_proposal(session, "sample:pv-004", "pv", "élevé")
        session.commit()
    response = clients["expert"].post("/feedback", json={
        "kind": "pas utile", "comment": "Le niveau élevé ne tient pas compte de l'antécédent.",
        "assessment_id": assessment_id, "screen": "/chat"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "pas_utile" and body["dossier_id"] == "sample:pv-004" and body["author"] == "expert-test"
    assert body["context"]["proposed_level"] == "élevé" and body["versions"]["model"] == "test-model-1"
    assert {"application", "referentiel", "politique"} <= set(body["versions"])
    answer = clients["formateur"].post("/feedback", json={
        "kind": "utile", "answer_id": "conv-1#3", "screen": "/chat",
        "context": {"question": "Quels précédents pour une myocardite ?"}})
    assert answer.status_code == 201 and answer.json()["context"]["question"].startswith("Quels")
    problem = clients["evaluateur"].post("/feedback", json={
        "kind": "problème", "comment": "=HYPERLINK(\"http://x\") la file ne se met pas à jour", "screen": "/queue"})
    assert problem.status_code == 201 and problem.json()["kind"] == "probleme"
    with session_on(settings) as session:
        events = audit.list_events(session, kinds=["feedback"])
    assert len(events) == 3 and events[0].payload["assessment_id"] == assessment_id


def test_bad_feedback_is_refused_with_codes(clients: Clients) -> None:
    client = clients["evaluateur"]
    before = len(clients["admin"].get("/feedback").json())
    cases = [
        ({"kind": "bof"}, 400, "unknown_feedback_kind"),
        ({"kind": "suggestion", "comment": "  "}, 400, "comment_required"),
        ({"kind": "utile", "comment": "x" * 5000}, 400, "comment_too_long"),
        ({"kind": "utile", "assessment_id": 999999}, 404, "assessment_not_found"),
        ({"kind": "utile", "context": {"texte": "x" * 20000}}, 413, "context_too_large"),
        ({"comment": "sans type"}, 422, "invalid_request"),
    ]
    for body, status, code in cases:
        response = client.post("/feedback", json=body)
        assert response.status_code == status and response.json()["code"] == code, response.text
    assert len(clients["admin"].get("/feedback").json()) == before
    with pytest.raises(InputError):
        normalise_kind("")


def test_admin_lists_and_exports_csv(clients: Clients, settings: Settings) -> None:
    assert clients["expert"].get("/feedback").status_code == 403
    listed = clients["admin"].get("/feedback", params={"kind": "probleme"}).json()
    assert [f["kind"] for f in listed] == ["probleme"]
    exported = clients["admin"].get("/feedback/export")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r["type"] for r in rows} >= {"Pas utile", "Utile", "Problème"}
    assert list(rows[0]) == ["id", "date", "type", "auteur", "rôle", "écran", "dossier", "évaluation", "réponse",
                             "commentaire", "contexte", "versions"]
    problem = next(r for r in rows if r["type"] == "Problème")
    assert problem["commentaire"].startswith("'=HYPERLINK")  # never run as a formula by a spreadsheet
    assert json.loads(next(r for r in rows if r["type"] == "Pas utile")["contexte"])["proposed_level"] == "élevé"
    with session_on(settings) as session:
        [export] = audit.list_events(session, kinds=["export"])
    assert export.actor == "admin-test" and export.payload == {
        "what": "feedback", "count": len(rows), "kind": None, "since": None, "destination": "API"}


def test_gdr_feedback_list_and_export(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GDR_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("GDR_DATABASE_URL", raising=False)
    runner, app = CliRunner(), build_app()
    result = runner.invoke(app, ["feedback", "list", "--kind", "pas_utile"])
    assert result.exit_code == 0 and "Pas utile" in result.stdout and "sample:pv-004" in result.stdout
    out = tmp_path / "retours.csv"
    result = runner.invoke(app, ["feedback", "export", "--out", str(out), "--since", "2000-01-01"])
    assert result.exit_code == 0 and "3 retour(s) exporté(s)" in result.stderr
    assert len(list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))) == 4
    result = runner.invoke(app, ["feedback", "list", "--kind", "bof"])
    assert result.exit_code == 2 and "Type de retour inconnu" in result.stderr


def test_changelog_is_keep_a_changelog_in_french_and_served(clients: Clients) -> None:
    text = changelog_path().read_text(encoding="utf-8")
    assert text.startswith("# Nouveautés")
    versions = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, flags=re.M)
    assert versions[0] == ("Non publié", "") and all(date for _, date in versions[1:])
    dates = [date for _, date in versions[1:]]
    assert dates == sorted(dates, reverse=True)
    sections = set(re.findall(r"^### (.+)$", text, flags=re.M))
    assert sections <= {"Ajouté", "Modifié", "Déprécié", "Retiré", "Corrigé", "Sécurité"}
    response = clients.anonymous.get("/changelog")
    assert response.status_code == 200 and response.text == text
    assert response.headers["content-type"].startswith("text/markdown")
