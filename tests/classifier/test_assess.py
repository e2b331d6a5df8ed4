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
