"""Trainer mode service: cases drawn from the database with their recorded level, answers scored."""

from __future__ import annotations

import random

import pytest
from oversight_fixtures import session_on

from assistant.services import training
from assistant.services.decisions import policy_modes
from assistant.services.ingest import ingest_sample
from assistant.settings import Settings, get_settings
from corpora.errors import InputError, NotFound
from corpora.model import RISK_LEVELS


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = get_settings(data_dir=tmp_path_factory.mktemp("training") / "var", database_url=None, corpora_dir=None)
    ingest_sample(s)
    return s


def test_recorded_level_from_outcomes() -> None:
    assert training.recorded_level({"risk_level": "modéré", "died": True}) == "modéré"  # the sample's own
    assert training.recorded_level({"died": True}) == "critique"
    assert training.recorded_level({"hospitalised": True, "died": False}) == "élevé"
    assert training.recorded_level({"died": False, "recovered": True}) == "faible"
    assert training.recorded_level({"authorisation_status": "Authorised"}) is None


@pytest.mark.parametrize("difficulty", ["facile", "difficile"])
def test_draw_case_by_type_and_difficulty(settings: Settings, difficulty: str) -> None:
    with session_on(settings) as session:
        case = training.draw_case(session, dossier_type="pv", difficulty=difficulty, rng=random.Random(3))
        assert case.dossier.type == "pv" and case.difficulty == difficulty
        assert case.recorded_level in RISK_LEVELS
        easy = case.floor_level == case.recorded_level and not case.traps
        assert easy == (difficulty == "facile")
        again = training.draw_case(session, dossier_type="pv", difficulty=difficulty, rng=random.Random(3),
                                   exclude=[case.dossier.id])
        assert again.dossier.id != case.dossier.id


def test_draw_case_errors_in_french(settings: Settings) -> None:
    with session_on(settings) as session:
        with pytest.raises(InputError, match="Type de dossier inconnu"):
            training.draw_case(session, dossier_type="xyz")
        with pytest.raises(InputError, match="Difficulté inconnue"):
            training.draw_case(session, dossier_type="pv", difficulty="extrême")
        everything = training.draw_case(session, dossier_type="pv", rng=random.Random(1))
        with pytest.raises(NotFound, match="Aucun cas passé PV"):
            training.draw_case(session, dossier_type="pv", exclude=[everything.dossier.id], max_candidates=0)


def test_score_answer_and_summary(settings: Settings) -> None:
    with session_on(settings) as session:
        case = training.draw_case(session, dossier_type="pv", difficulty="facile", rng=random.Random(5))
    assert case.criteria, "a facile case fires at least one criterion (its floor is the recorded level)"
    first = case.criteria[0]
    expected_mode = policy_modes("pv")[case.recorded_level]
    right = training.score_answer(case, level=case.recorded_level, mode=expected_mode.lower(),
                                  reason=f"Critère {first.code} présent dans le récit.")
    assert right.level_points == training.LEVEL_POINTS and right.mode_points == training.MODE_POINTS
    assert first in right.named and right.level_agrees
    rank = RISK_LEVELS.index(case.recorded_level)
    wrong_level = RISK_LEVELS[3 if rank <= 1 else 0]
    wrong = training.score_answer(case, level=wrong_level, mode=None, reason="Rien de particulier.")
    assert wrong.level_points == 0 and wrong.mode_points == 0 and wrong.criteria_points == 0
    assert set(wrong.missed) == set(case.criteria) and wrong.total < right.total
    with pytest.raises(InputError, match="Motif obligatoire"):
        training.score_answer(case, level="faible", mode=None, reason="  ")
    summary = training.summarise([right, wrong])
    assert (summary.cases, summary.agreements, summary.agreement_rate) == (2, 1, 0.5)
    assert summary.mean_score == (right.total + wrong.total) / 2
    counts = dict(training.summarise([right, wrong], top=100).most_missed)
    assert counts[first] == 1 and all(counts[c] == 1 + (c in right.missed) for c in case.criteria)
    assert summary.by_difficulty == {"facile": (2, 1)}


def test_names_criterion_by_code_or_label_word() -> None:
    crit = training.CriterionBrief("PV-DECES", "Décès du patient", "critique")
    assert training.names_criterion("le pv-deces est rempli", crit)
    assert training.names_criterion("Le patient est décédé : décès.", crit)
    assert not training.names_criterion("Hospitalisation simple.", crit)
