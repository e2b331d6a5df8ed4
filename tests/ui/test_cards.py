"""Pure builders of the screens (no browser, no service): risk card, highlighting, citations, search, queue, trainer."""

from __future__ import annotations

import csv
import io
from datetime import date
from types import SimpleNamespace

from test_ui import RESULT

from assistant.services.training import CriterionBrief, TrainingCase, TrainingScore, summarise
from corpora.model import Dossier, Hit
from ui import cards, render

TEXT = "Le patient est décédé deux jours après la vaccination."


def test_segments_cover_the_text_and_mark_the_spans() -> None:
    vaccine = TEXT.index("vaccination")
    pieces = cards.segments(TEXT, [(15, 21, "PV-DECES"), (18, 23, "X"), (vaccine, vaccine + 11, "PV-VACCIN")])
    assert "".join(p["text"] for p in pieces) == TEXT
    assert [p["text"] for p in pieces if p["mark"]] == ["décédé d", "vaccination"]
    assert cards.segments("abc", []) == [{"text": "abc", "mark": ""}]


def test_markdown_highlight_and_window() -> None:
    assert cards.markdown_highlight("un *mot* décédé ici", [(9, 15, "c")]) == "un \\*mot\\* **décédé** ici"
    long = "a" * 10_000 + "CIBLE" + "b" * 10_000
    body, start, end, before, after = cards.window(long, 10_000, 10_005, chars=1000)
    assert body[start:end] == "CIBLE" and before and after and len(body) <= 1000


def test_risk_card_props_in_french() -> None:
    props = cards.risk_card(RESULT, TEXT, date(2026, 12, 1), assessment_id=7, can_decide=True)
    assert props["levelText"] == "Niveau de risque : critique" and props["tone"] == "critical"
    assert props["score"] == "0,95" and props["needsReview"].startswith("À revoir")
    assert props["deadline"] == {"days": 15, "due": "16/12/2026", "left": "15 jours restants"}
    assert props["mode"]["expertises"] == ["pharmacovigilance", "CRPV"]
    assert props["criteria"][0]["evidence"] == ["« décédé »"] and props["criteria"][1]["evidence"] == ["age = 81"]
    assert [s["text"] for s in props["text"] if s["mark"]] == ["décédé"]
    assert props["precedents"][0]["side"] == "Précédent 1" and props["precedents"][0]["outcome"].startswith("décès")
    assert props["guidelines"][0]["side"] == "Ligne directrice 1"
    assert "Niveau plancher des critères : critique" in props["explanation"]
    assert props["assessmentId"] == 7 and props["canDecide"] is True
    summary = cards.card_summary(RESULT, date(2026, 12, 1))
    assert "échéance le 16/12/2026 (15 jours restants)" in summary
    assert "Texte du dossier, Précédent 1, Précédent 2, Ligne directrice 1" in summary  # the side texts' names
    assert cards.days_left_text(-2) == "en retard de 2 jours" and cards.days_left_text(0) == "0 jour restant"


def test_dossier_and_passage_markdown() -> None:
    md = cards.dossier_markdown(RESULT, TEXT)
    assert "Le patient est **décédé** deux jours" in md and "- **PV-DECES** — Décès du patient : « décédé »" in md
    doc = "Avant. Le décès est un critère de gravité. Après."
    hit = Hit.model_validate({"id": "referentiel:PV-DECES#0", "document_id": "referentiel:PV-DECES",
                              "source": "referentiel", "kind": "guideline", "title": "Décès", "score": 1.0,
                              "similarity": 0.7, "start": 7, "end": 42, "excerpt": doc[7:42],
                              "outcome": {"died": True}})
    side = cards.passage_markdown(doc, hit, "[1] Décès")
    assert "Avant. **Le décès est un critère de gravité.** Après." in side
    assert "Issue enregistrée : décès" in side and "`referentiel:PV-DECES`" in side


def test_cited_answer_keeps_the_marks() -> None:
    reply = {"answer": "x", "sentences": [{"text": "Le niveau est critique.", "citations": [1, 2]},
                                          {"text": "Délai de 15 jours.", "citations": [3]}]}
    assert cards.cited_answer(reply) == "Le niveau est critique. [1][2] Délai de 15 jours. [3]"
    assert cards.cited_answer({"answer": "Je ne trouve pas.", "sentences": []}) == "Je ne trouve pas."


def test_parse_search_filters_period_and_export() -> None:
    request = cards.parse_search("myocardite source:vaers année:2003-2004 grave:oui vaccin:COVID19,FLU3 --csv")
    assert request.query == "myocardite" and request.export
    assert request.filters == {"source": ["vaers"], "year": ["2003", "2004"], "grave": ["oui"],
                               "vaccin": ["COVID19", "FLU3"]}
    assert cards.parse_search("période:2004 http://x").filters == {"year": ["2004"]}


def test_search_csv_is_french_and_safe() -> None:
    hit = Hit.model_validate({"id": "d#0", "document_id": "d", "source": "vaers", "kind": "case",
                              "title": "=SOMME(A1)", "score": 1.0, "similarity": 0.5, "start": 0, "end": 5,
                              "excerpt": "fièvre", "outcome": {"died": True}})
    data = cards.search_csv([hit])
    assert data.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    assert rows[0][:3] == ["rang", "titre", "source"]
    assert rows[1][1] == "'=SOMME(A1)" and rows[1][-1] == "décès" and rows[1][5] == "0.500"
    md = cards.search_markdown(cards.parse_search("fièvre source:vaers"), [hit])
    assert "filtres : source = vaers" in md and "[1]" in md


def test_queue_markdown() -> None:
    item = SimpleNamespace(risk_level="critique", days_left=-1, deadline=date(2026, 11, 30), dossier_id="intake:1",
                           title="Cas | grave", processing_mode_label="Traitement prioritaire", processing_mode="P")
    queue = SimpleNamespace(items=[item], total=1, overdue=1, due_soon=0, today=date(2026, 12, 1))
    md = cards.queue_markdown(queue)
    assert "1 dossier(s) en attente de décision (1 en retard" in md
    assert "| 1 | critique | en retard de 1 jour | 30/11/2026 | `intake:1` | Cas / grave |" in md
    assert cards.queue_markdown(SimpleNamespace(items=[])) == render.text("queue.empty")


def test_trainer_screens_hide_then_reveal_the_outcome() -> None:
    dossier = Dossier.model_validate({"id": "sample:pv-009", "type": "pv", "title": "Cas d'école", "text": TEXT,
                                      "language": "fr", "source": "sample", "fields": {"patient_age": 70}})
    crit = CriterionBrief("PV-DECES", "Décès du patient", "critique")
    case = TrainingCase(dossier, {"died": True, "decision": "Cas grave transmis."}, "critique", "facile", (crit,),
                        "critique", ())
    shown = cards.trainer_case_markdown(case, 1)
    assert "Cas n° 1" in shown and "Âge : 70" in shown and TEXT in shown
    assert "Cas grave transmis" not in shown and "critique" not in shown.replace("difficulté", "")
    score = TrainingScore("sample:pv-009", "pv", "facile", "élevé", "critique", None, "PV-X", 30, 0, 0, (crit,), ())
    revealed = cards.trainer_reveal_markdown(case, score, RESULT)
    assert "Score : 30 / 100" in revealed and "Cas grave transmis" in revealed
    assert "✗ **PV-DECES**" in revealed and "Proposition de l'outil" in revealed and "Précédent 1" in revealed
    summary = cards.trainer_summary_markdown(summarise([score]))
    assert "1 cas ; accord avec l'issue enregistrée : 0 / 1 (0 %)" in summary and "**PV-DECES**" in summary


def test_offline_html_drops_remote_assets_and_sets_french() -> None:
    html = ('<html lang="en"><head><link rel="preconnect" href="https://fonts.googleapis.com" />'
            '<link href="https://cdn.example/k.css" rel="stylesheet"/><script src="https://cdn.example/x.js"></script>'
            '<link rel="stylesheet" href="/assets/index.css"></head></html>')
    out = render.offline_html(html)
    assert out.startswith('<html lang="fr">') and "https://" not in out and "/assets/index.css" in out


def test_new_commands() -> None:
    assert [render.parse_request(c).kind for c in ("/file", "/formation", "/nouveautes", "/signaler")] == [
        "queue", "training", "news", "report"]
