"""Pure feature functions: bilingual normalisation, masking, language check, excluded inputs."""

from __future__ import annotations

from classifier.features import (
    MASK_TOKEN,
    FeatureOptions,
    age_band,
    detect_language,
    feature_row,
    mask_outcome_words,
    normalise_text,
    structured_tokens,
    substance_key,
)
from corpora.model import Dossier, DossierFields


def _pv(text: str, language: str = "en", **fields: object) -> Dossier:
    return Dossier(id="sample:t", type="pv", title="t", text=text, language=language, source="sample",
                   fields=DossierFields.model_validate(fields))


def test_french_text_is_mapped_to_english_training_words() -> None:
    fr = normalise_text("Le patient est décédé après une fièvre et des convulsions.", "fr")
    en = normalise_text("The patient died after a fever and seizures.", "en")
    assert "died" in fr and "fever" in fr and "seizure" in fr
    shared = set(fr.split()) & set(en.split())
    assert {"died", "fever"} <= {w.strip(".,") for w in shared}


def test_english_text_is_not_translated() -> None:
    assert normalise_text("Pt had fever", "en") == "pt had fever"


def test_mask_outcome_words_in_both_languages() -> None:
    masked = mask_outcome_words("Pt died after being hospitalized. Le patient est décédé, hospitalisé en réanimation.")
    for word in ("died", "hospitalized", "décédé", "hospitalisé", "réanimation"):
        assert word not in masked
    assert masked.count(MASK_TOKEN) == 5
    assert masked.startswith("Pt ")


def test_masked_feature_row_has_no_outcome_words() -> None:
    row = feature_row(_pv("The patient died in the ICU"), options=FeatureOptions(mask_outcomes=True))
    assert "died" not in row.text and "icu" not in row.text


def test_detect_language() -> None:
    assert detect_language("Le patient est décédé après la vaccination") == "fr"
    assert detect_language("The patient died after the vaccine") == "en"
    assert detect_language("Cold, cough, fever, aches, headache, fatigue (next day).") == "en"
    assert detect_language("Der Patient ist gestorben nach der Impfung und wurde nicht behandelt") is None
    assert detect_language("el paciente murió después de la vacuna contra la gripe") is None


def test_lab_data_is_never_read() -> None:
    a = feature_row(_pv("Fever", lab_data="Autopsy: cause of death SIDS"))
    b = feature_row(_pv("Fever", lab_data=None))
    assert a == b


def test_outcome_symptom_terms_are_dropped() -> None:
    toks = structured_tokens(_pv("x", symptoms=["Death", "Pyrexia", "Hospitalisation"]))
    assert "sym=pyrexia" in toks
    assert not any(t in toks for t in ("sym=death", "sym=hospitalisation"))


def test_structured_tokens() -> None:
    toks = structured_tokens(_pv("x", patient_age=0.5, patient_sex="F", vaccine_types=["DTAP", "HEP"]))
    assert {"age=0-1", "sex=F", "vax=dtap", "vax=hep", "nprod=2"} <= set(toks)


def test_findings_enter_as_language_independent_tokens() -> None:
    class F:
        def __init__(self, code: str, negated: bool = False) -> None:
            self.code, self.negated, self.hypothetical, self.history, self.family = code, negated, False, False, False

    row = feature_row(_pv("x"), findings=[F("SER_DEATH"), F("SER_HOSP", negated=True)])
    assert "find=SER_DEATH" in row.tokens and "find_neg=SER_HOSP" in row.tokens


def test_age_band_edges() -> None:
    assert [age_band(a) for a in (None, 0.2, 1, 5, 15, 30, 50, 70)] == [
        "inconnu", "0-1", "1-2", "2-11", "12-17", "18-44", "45-64", "65+"]


def test_substance_key_drops_salts() -> None:
    assert substance_key("Foo Hydrochloride") == "foo"
