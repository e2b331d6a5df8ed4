"""Chat UI: French rendering (pure) and answers through the real services (browser: test_browser.py).

The index is built once per session on the bundled sample with the fake embedder (a few seconds).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ui_server import DEATH, GDR, _env

from classifier.result import TriageResult
from corpora.model import Hit
from ui import handlers, render


def _hit(document_id: str, title: str, similarity: float, source: str, kind: str = "case",
         excerpt: str = "", outcome: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": f"{document_id}#0", "document_id": document_id, "source": source, "kind": kind, "title": title,
            "score": similarity, "similarity": similarity, "start": 0, "end": len(excerpt), "excerpt": excerpt,
            "outcome": outcome}


RESULT = TriageResult.model_validate({
    "id": "intake:abc", "type": "pv", "risk_level": "critique", "risk_score": 0.952, "needs_review": True,
    "processing_mode": {"code": "PV-PRIO", "label": "Traitement prioritaire",
                        "expertises": ["pharmacovigilance", "CRPV"], "deadline_days": 15,
                        "reference": "EU GVP Module VI"},
    "criteria": [{"code": "PV-DECES", "label": "Décès du patient",
                  "evidence": [{"start": 15, "end": 21, "text": "décédé"}], "reference": "ICH E2A"},
                 {"code": "PV-AGE", "label": "Âge", "evidence": [{"field": "age", "value": 81}], "reference": ""}],
    "context": [{"fact": "Produit autorisé en France (BDPM)",
                 "source_hit": _hit("bdpm:123", "COMIRNATY", 1.0, "bdpm", "product")}],
    "explanation": {"niveau_plancher_criteres": "critique", "niveau_modele": None, "regle": "max",
                    "criteres_declenches": [], "contributions_modele": [], "probabilites": {}},
    "precedents": [_hit("vaers:42", "Cas VAERS 42", 0.5, "vaers",
                        outcome={"died": True, "hospitalised": True, "hospital_days": 3, "recovered": False}),
                   _hit("ctgov:NCT1", "Essai arrêté", 0.25, "ctgov", "trial",
                        outcome={"status": "TERMINATED", "why_stopped": "safety"})],
    "guidelines": [_hit("referentiel:PV-DECES", "Référentiel – Décès", 0.7, "referentiel", "guideline",
                        "Le décès est un critère de gravité.")],
    "warnings": ["Contexte indisponible."],
    "model_version": "criteria-only", "referentiel_version": "2026.11-2",
})


# --------------------------------------------------------------------------- pure rendering

@pytest.mark.parametrize(("message", "kind", "text", "dtype"), [
    ("/recherche myocardite après vaccination", "search", "myocardite après vaccination", None),
    ("/RECHERCHE  fièvre", "search", "fièvre", None),
    ("/amm\nNouveau médicament", "triage", "Nouveau médicament", "amm"),
    ("/aec Essai de phase I", "triage", "Essai de phase I", "aec"),
    (DEATH, "triage", DEATH, None),
    ("/aide", "help", "", None),
    ("   ", "empty", "", None),
    ("/inconnue x", "unknown", "/inconnue", None),
])
def test_parse_request(message: str, kind: str, text: str, dtype: str | None) -> None:
    request = render.parse_request(message)
    assert (request.kind, request.text, request.dossier_type) == (kind, text, dtype)


def test_render_triage_in_french() -> None:
    md = render.render_triage(RESULT, ["Type de dossier non précisé : pharmacovigilance (pv) supposée."])
    assert "### Dossier `intake:abc` (pharmacovigilance)" in md
    assert "**Niveau de risque : critique** (score 0,95)" in md
    assert "À revoir par un évaluateur" in md
    assert "Expertises : pharmacovigilance, CRPV" in md and "Délai : 15 jours" in md
    assert "Référence : EU GVP Module VI" in md
    assert "**PV-DECES** — Décès du patient" in md and "preuve : « décédé »" in md and "preuve : age = 81" in md
    assert "Produit autorisé en France (BDPM) — source : COMIRNATY (`bdpm:123`)" in md
    assert "Cas VAERS 42** (`vaers:42`, similarité 0,50) — issue : décès ; hospitalisation ; 3 jours" in md
    assert "issue : statut de l'essai : TERMINATED ; motif d'arrêt : safety" in md
    assert "#### Lignes directrices" in md and "> Le décès est un critère de gravité." in md
    assert md.index("Type de dossier non précisé") < md.index("Contexte indisponible.")
    assert "Modèle : criteria-only ; référentiel : 2026.11-2" in md


def test_render_hits_cite_sources() -> None:
    hits = [Hit.model_validate(_hit("sample:pv-001", "Hémorragie digestive", 0.289, "sample",
                                    excerpt="Patient   de 81 ans\ntraité par apixaban. " + "mot " * 200))]
    md = render.render_hits("hémorragie", hits)
    assert "### Résultats pour « hémorragie »" in md
    assert "**1. Hémorragie digestive** — source `sample`, document `sample:pv-001`, similarité 0,29" in md
    assert "> Patient de 81 ans traité par apixaban." in md and md.endswith(" …")
    assert render.render_hits("rien", []) == "Aucun passage trouvé pour « rien »."


@pytest.mark.parametrize(("outcome", "expected"), [
    (None, "non renseignée"),
    ({"died": False, "hospitalised": False}, "aucun critère de gravité enregistré"),
    ({"authorisation_status": "Authorised", "conditional_approval": True, "additional_monitoring": False},
     "statut : Authorised ; autorisation conditionnelle"),
    ({"decision": "Cas grave transmis.", "risk_level": "élevé", "died": True},
     "décision : Cas grave transmis ; niveau retenu : élevé"),
])
def test_outcome_fr(outcome: dict[str, Any] | None, expected: str) -> None:
    assert render.outcome_fr(outcome) == expected


# --------------------------------------------------------------------------- through the services

@pytest.fixture(scope="session")
def chat_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the sample ingested and indexed (fake embedder), built by the real CLI."""
    data_dir = tmp_path_factory.mktemp("ui") / "var"
    for args in (["ingest"], ["index", "build"]):
        done = subprocess.run([str(GDR), *args], env=_env(data_dir), capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr
    return data_dir


@pytest.fixture
def chat_service(chat_data: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The conversation service an application hands to the chat (its settings and resources)."""
    for key in [k for k in os.environ if k.startswith("GDR_")]:
        monkeypatch.delenv(key)
    for key, value in _env(chat_data).items():
        monkeypatch.setenv(key, value)
    from assistant.db.engine import make_engine
    from assistant.services.chat.service import ChatService
    from assistant.services.resources import Resources
    from assistant.settings import get_settings

    settings = get_settings()
    engine = make_engine(settings)
    with Resources(settings) as resources:
        yield ChatService(settings, engine, resources)
    engine.dispose()


def test_answer_triage_and_search(chat_service: Any, tmp_path: Path) -> None:
    md = handlers.answer(chat_service, DEATH)
    assert "**Niveau de risque : critique**" in md
    assert "**PV-DECES**" in md and "#### Précédents" in md and "`sample:pv-" in md
    assert "Type de dossier non précisé" in md

    upload = tmp_path / "dossier.txt"
    upload.write_text("Essai de phase I chez le volontaire sain.", encoding="utf-8")
    md = handlers.answer(chat_service, "/aec", [handlers.Upload("dossier.txt", upload, "text/plain")])
    assert "(autorisation d'essai clinique)" in md and "Niveau de risque : " in md

    md = handlers.answer(chat_service, "/recherche myocardite après vaccination")
    assert md.startswith("### Résultats pour « myocardite après vaccination »") and "similarité" in md


def test_answer_errors_are_french(chat_service: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ pas du json", encoding="utf-8")
    md = handlers.answer(chat_service, "", [handlers.Upload("bad.json", bad, "application/json")])
    assert md.startswith("**Impossible de traiter la demande** : ") and "Traceback" not in md
    assert handlers.answer(chat_service, "/inconnue").startswith("Commande inconnue : « /inconnue »")
    assert handlers.answer(chat_service, "/recherche").startswith("Indiquez ce que vous cherchez")
    assert "Bienvenue dans GDR Santé" in handlers.answer(chat_service, "/aide")


def test_handlers_accounts_decisions_queue_feedback(chat_service: Any) -> None:
    """The UI's calls to the services: login, triage in the chat, queue, decision with reason, feedback."""
    from sqlalchemy.orm import Session

    from assistant.services.users import Accounts

    accounts = Accounts.from_settings(chat_service.settings)
    with Session(chat_service.engine) as session:
        if "eva2" not in {u.login for u in accounts.list_users(session=session)}:
            accounts.create(session=session, login="eva2", password="une phrase de passe longue", role="evaluateur")
            accounts.create(session=session, login="forma2", password="une phrase de passe longue", role="formateur")
            session.commit()
    assert handlers.authenticate(chat_service, "eva2", "mauvais mot de passe") is None
    eva = handlers.authenticate(chat_service, "eva2", "une phrase de passe longue")
    assert eva is not None and eva.role == "evaluateur" and eva.may("decide") and not eva.may("training")
    forma = handlers.account(chat_service, "forma2")
    assert forma is not None and forma.may("training") and not forma.may("triage")

    assert handlers.would_triage(DEATH, False, False) and handlers.would_triage("/amm x", False, False)
    assert not handlers.would_triage("/recherche fièvre", False, False)
    assert not handlers.would_triage("Quel SMR pour Spasfon ?", False, True)

    session_state: dict[str, Any] = {}
    done = handlers.converse(chat_service, DEATH, [], session_state, eva)
    assert done.error is None and len(done.triaged) == 1 and session_state["conversation_id"]
    triaged = done.triaged[0]
    assert triaged.result.risk_level == "critique" and "décédé" in triaged.text and triaged.assessment_id
    follow = handlers.converse(chat_service, "pourquoi critique ?", [], session_state, eva)
    assert not follow.triaged and follow.reply["sentences"] and follow.reply["citations"]

    queue = handlers.pending(chat_service)
    assert triaged.result.id in {i.dossier_id for i in queue.items}
    result, text = handlers.stored_assessment(chat_service, triaged.assessment_id, eva)
    assert result.id == triaged.result.id and text == triaged.text

    from corpora.errors import InputError

    with pytest.raises(InputError, match="Motif obligatoire"):
        handlers.decide(chat_service, eva, triaged.result.id, "élevé", None, None, triaged.assessment_id)
    decision = handlers.decide(chat_service, eva, triaged.result.id, "élevé", None, "Lien non établi.",
                               triaged.assessment_id)
    assert decision.level_changed and decision.decided_by == "eva2"
    assert triaged.result.id not in {i.dossier_id for i in handlers.pending(chat_service).items}

    feedback_id = handlers.submit_feedback(chat_service, eva, "probleme", "Le délai affiché est faux.",
                                           screen="fiche de risque", dossier_id=triaged.result.id)
    assert feedback_id > 0
    assert handlers.changelog().startswith("#")
