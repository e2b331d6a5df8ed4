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


def test_lab_data_is_read_without_its_outcome_words() -> None:
    autopsy = feature_row(_pv("Fever", lab_data="Autopsy: cause of death SIDS. Coroner report; died at hospital."))
    assert "lab_data=1" in autopsy.tokens
    assert [t for t in autopsy.tokens if t.startswith("lab:")] == ["lab:cause", "lab:report"]  # no outcome word
    assert "lab_data=0" in feature_row(_pv("Fever", lab_data=None)).tokens
    labs = feature_row(_pv("Fever", lab_data="CSF culture negative; CT scan normal. Post-mortem pending."))
    assert {"lab:csf", "lab:culture", "lab:scan", "lab:normal"} <= set(labs.tokens)
    assert not any(w in t for t in labs.tokens for w in ("mortem", "post"))
    assert labs.text == autopsy.text  # lab data never enters the narrative text


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


# --------------------------------------------------------------------------- masked vocabulary, modifiers

_OUTCOME_TEXTS = (
    "Pt died 2 days later; autopsy by the coroner: COD SIDS. Sudden infant death syndrome. Infant expired at home.",
    "Admitted to the PICU, hospitalized 5 days, life-threatening, permanent disability. Readmitted; ICU stay.",
    "Mort subite du nourrisson. Le patient est décédé, hospitalisé en réanimation, pronostic vital engagé.",
    "Mort in utero (intra-uterine death), stillborn; fetal death. Handicap, invalidité. Admis aux soins intensifs.",
)


def _masked_vocabulary_hits(row: object) -> list[str]:
    from classifier.features import outcome_vocabulary

    vocab = outcome_vocabulary()
    text, tokens = row.text, row.tokens  # type: ignore[attr-defined]
    hits = [m.group(0) for m in vocab.narrative.finditer(text.replace(MASK_TOKEN, " "))]
    hits += [w for w in ("sids", "cod", "doa", "suid", "msn") if w in text.split()]
    for t in tokens:
        if vocab.narrative.search(t.replace("_", " ")):
            hits.append(t)
        if t.startswith("sym=") and vocab.names_outcome(t[4:].replace("_", " ")):
            hits.append(t)
        if t.split("=", 1)[-1] in vocab.finding_codes:
            hits.append(t)
    return hits


def test_no_token_of_the_masked_vocabulary_survives_into_the_features() -> None:
    from classifier.assess import dossier_features

    for i, text in enumerate(_OUTCOME_TEXTS):
        d = _pv(text, "fr" if i >= 2 else "en",
                symptoms=["Sudden infant death syndrome", "Death", "Pyrexia", "Hospitalisation", "Autopsy",
                          "Foetal death", "Intra-uterine death", "Life threatening", "Coroner"],
                medical_history="Brother died of SIDS; hospitalised for asthma",
                lab_data="Autopsy: SIDS; CT scan at admission normal; intubated in the ICU")
        row = dossier_features(d, masked=True)[2]
        assert _masked_vocabulary_hits(row) == []
        assert "sym=pyrexia" in row.tokens
        assert not any(t.startswith(("crit=PV-DECES", "crit=PV-HOSPITALISATION", "crit=PV-PRONOSTIC-VITAL"))
                       for t in row.tokens)
        unmasked = dossier_features(d)[2]
        assert _masked_vocabulary_hits(unmasked)  # the same dossier, read as is, does say its outcome


def test_outcome_coded_terms_are_dropped_in_every_mode() -> None:
    toks = structured_tokens(_pv("x", symptoms=["Sudden infant death syndrome", "SIDS", "Death neonatal",
                                                "Intra-uterine death", "Hospitalisation", "Convulsion"]))
    assert [t for t in toks if t.startswith("sym=")] == ["sym=convulsion"]


def test_negated_family_and_history_mentions_are_marked_not_read_as_words() -> None:
    from classifier.assess import dossier_features

    fr = dossier_features(_pv("Fièvre après le vaccin. Pas de décès, pas d'hospitalisation, pas de convulsion.",
                              "fr"))[2]
    assert "xxnegimeseizurexx" in fr.text  # a negated finding is marked…
    words = set(fr.text.replace(".", " ").replace(",", " ").split())
    # …but a negated outcome leaves neither its words, nor a marker, nor a token the model could learn from
    assert not {"died", "death", "deces", "hospitalization", "hospitalisation", "convulsion"} & words
    assert not any("serdeath" in w or "serhosp" in w for w in words)
    assert not any("SER_" in t for t in fr.tokens), fr.tokens
    en = dossier_features(_pv("Sore arm; no hospitalization was required. Father died of MI years ago."))[2]
    assert "hospitalization" not in en.text and " died " not in f" {en.text} " and "serdeath" not in en.text
    assert not any("SER_" in t for t in en.tokens), en.tokens
    affirmed = dossier_features(_pv("The patient died two days later."))[2]
    assert "died" in affirmed.text and "find=SER_DEATH" in affirmed.tokens
