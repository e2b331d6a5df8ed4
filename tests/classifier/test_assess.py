"""Assessment: criteria floors are never lowered, the model may raise, death statements are critique."""

from __future__ import annotations

import unicodedata

import pytest

from classifier.assess import assess, assess_batch
from classifier.models import CriteriaOnlyModel, ModelOutput
from corpora.model import Dossier


def _pv(text: str, language: str = "fr") -> Dossier:
    return Dossier(id="sample:t", type="pv", title="t", text=text, language=language, source="sample")


class _FixedModel:
    """A fake model giving the same level to every dossier."""

    dossier_type = "pv"
    version = "fixe"

    def __init__(self, level: int) -> None:
        self.level = level

    def score_rows(self, rows, languages=()):  # type: ignore[no-untyped-def]
        return [ModelOutput(risk_score=0.1 * self.level, level=self.level, contributions=[{"feature": "x",
                                                                                          "contribution": 1.0}])
                for _ in rows]


@pytest.mark.parametrize("text", ["Le patient est décédé.", "The patient died."])
def test_death_statement_is_critique(text: str) -> None:
    a = assess(_pv(text), CriteriaOnlyModel())
    assert a.level == "critique"
    assert unicodedata.is_normalized("NFC", a.level)
    assert a.model_version.startswith("criteria-only")


@pytest.mark.parametrize("text", ["Pas de décès.", "Antécédents familiaux : père décédé d'un infarctus."])
def test_negated_or_family_death_does_not_fire_death(text: str) -> None:
    a = assess(_pv(text), CriteriaOnlyModel())
    assert a.level != "critique"
    assert not any("DECES" in c.code for c in a.fired)


def test_floor_is_never_lowered_by_the_model() -> None:
    a = assess(_pv("Le patient est décédé."), _FixedModel(0))
    assert a.level == "critique"
    assert a.explanation.niveau_modele == "faible"
    assert a.explanation.niveau_plancher_criteres == "critique"


def test_model_can_raise_the_level() -> None:
    a = assess(_pv("Douleur au point d'injection."), _FixedModel(2))
    assert a.level == "élevé"
    assert a.explanation.contributions_modele[0].feature == "x"
    assert a.risk_score == pytest.approx(0.2)


def test_empty_text_is_assessed_from_fields_with_warning() -> None:
    a = assess(_pv(""), CriteriaOnlyModel())
    assert a.level in ("faible", "modéré", "élevé", "critique")
    assert any("texte vide" in w for w in a.warnings)


def test_batch_keeps_order_and_types() -> None:
    ds = [_pv("Le patient est décédé."), _pv("Rougeur au point d'injection."),
          Dossier(id="sample:a", type="aec", title="essai", text="Essai de phase I", source="sample")]
    out = assess_batch(ds, {"pv": _FixedModel(1)})
    assert [a.level for a in out][:2] == ["critique", "modéré"]
    assert out[2].model_version.startswith("criteria-only")
    assert all(0.0 <= a.risk_score <= 1.0 for a in out)


# --------------------------------------------------------------------------- the model reads what the extraction saw

_FILLER = ("Fever and headache after the vaccine.", "Fièvre et douleur au point d'injection.",
           "Rash and seizure after vaccination.", "Sore arm, heart attack, fatigue.", "Convulsions et fièvre.")
_OUTCOME = {0: ("",), 1: ("",), 2: ("Hospitalized.", "Hospitalization for 3 days.", "Hospitalisé 3 jours."),
            3: ("Died two days later.", "Death occurred.", "Est décédé le lendemain.")}


@pytest.fixture(scope="module")
def word_model():  # type: ignore[no-untyped-def]
    """A real PvRiskModel trained through the one feature function on the text alone (token weight 0): the
    outcome words are its only signal, it only ever saw them affirmed, and 5 % of labels are noise."""
    import numpy as np

    from classifier.assess import dossier_features
    from classifier.models import PvRiskModel

    rng = np.random.default_rng(0)
    texts, ys = [], []
    for _ in range(400):
        y = int(rng.choice(4, p=[0.4, 0.2, 0.25, 0.15]))
        texts.append(f"{_FILLER[int(rng.integers(len(_FILLER)))]} {_OUTCOME[y][int(rng.integers(len(_OUTCOME[y])))]}")
        ys.append(y if rng.random() > 0.05 else int(rng.integers(4)))
    rows = [dossier_features(_pv(t, "en"))[2] for t in texts]
    model = PvRiskModel(C=1.0, min_df=1, token_weight=0.0).fit(rows[:250], ys[:250])
    # thresholds for the model alone (no floors), so that the model itself would raise levels
    model.calibrate(rows[250:], ys[250:], recalls={"grave": 0.85, "critique": 0.85})
    model.version = "synthétique"
    return model


@pytest.mark.parametrize("text, highest", [
    ("Fièvre et céphalées après le vaccin. Pas de décès, pas d'hospitalisation. Guérie.", "modéré"),
    ("Douleur au point d'injection. Son père est décédé d'un infarctus il y a dix ans.", "élevé"),
    ("Sore arm and mild fever after flu vaccine; no hospitalization was required. Recovered.", "modéré"),
    ("Patient's father died of a heart attack years ago. Pt had a mild rash.", "modéré"),
])
def test_negated_and_family_mentions_do_not_raise_the_level(word_model, text: str, highest: str) -> None:  # type: ignore[no-untyped-def]
    from classifier.levels import level_rank

    a = assess(_pv(text), word_model)
    assert a.model_version == "synthétique"
    assert level_rank(a.level) <= level_rank(highest), (a.level, a.probabilities)
    assert a.level != "critique"


def test_affirmed_death_still_reaches_critique(word_model) -> None:  # type: ignore[no-untyped-def]
    assert assess(_pv("Le patient est décédé deux jours après le vaccin."), word_model).level == "critique"
    assert assess(_pv("Pt died after the vaccine.", "en"), word_model).level == "critique"


def test_hospitalised_seizure_that_recovered_is_not_critique(word_model) -> None:  # type: ignore[no-untyped-def]
    text = ("Nourrisson de 4 mois, convulsions fébriles 6 heures après le vaccin hexavalent Infanrix Hexa, "
            "hospitalisé 2 jours en pédiatrie, guéri sans séquelle.")
    a = assess(_pv(text), word_model)
    assert a.level == "élevé", (a.level, a.probabilities)
    assert a.explanation.niveau_plancher_criteres == "élevé"


@pytest.mark.parametrize("age", [-5.0, 250.0, 1e9, float("nan"), float("inf")])
def test_an_impossible_age_is_set_aside_with_a_warning(age: float) -> None:
    """-5 years must not fire the infant criteria, nor 250 the elderly one; the evaluator is told."""
    dossier = _pv("Patient hospitalisé après la vaccination.").model_copy(deep=True)
    dossier.fields.patient_age = age
    result = assess(dossier, CriteriaOnlyModel())
    codes = {c.code for c in result.fired}
    assert not codes & {"PV-PEDIATRIE", "PV-NOURRISSON", "PV-SUJET-AGE"}, codes
    assert any(w.startswith("âge invraisemblable") for w in result.warnings), result.warnings
    plausible = _pv("Patient hospitalisé après la vaccination.").model_copy(deep=True)
    plausible.fields.patient_age = 1.0
    assert "PV-NOURRISSON" in {c.code for c in assess(plausible, CriteriaOnlyModel()).fired}
