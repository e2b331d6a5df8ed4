"""Extraction: seriousness with negation / hypothesis / history / family, population, trial, drugs."""

from __future__ import annotations

import pytest

from classifier.extraction import Finding, extract, finding_codes


def find(text: str, code: str) -> list[Finding]:
    return [f for f in extract(text) if f.code == code]


def only(text: str, code: str) -> Finding:
    found = find(text, code)
    assert len(found) == 1, (text, code, found)
    return found[0]


@pytest.mark.parametrize(
    "text",
    [
        "Le patient est décédé.",
        "La patiente est décédée deux jours après l'injection.",
        "The patient died.",
        "Pt expired at home the next morning.",
        "Décès du patient à J3.",
    ],
)
def test_death_affirmed(text: str) -> None:
    f = only(text, "SER_DEATH")
    assert f.affirmed and not f.negated and not f.family and not f.hypothetical and not f.history


@pytest.mark.parametrize(
    "text",
    ["Pas de décès.", "Aucun décès rapporté.", "Le patient n'est pas décédé.", "Patient did not die.",
     "Décès : non", "No death was reported."],
)
def test_death_negated(text: str) -> None:
    f = only(text, "SER_DEATH")
    assert f.negated and not f.affirmed


@pytest.mark.parametrize(
    "text",
    ["Antécédent familial de décès par mort subite.", "His father died of MI.", "Sa mère est décédée d'un AVC.",
     "Family history of sudden death."],
)
def test_death_in_family_does_not_count(text: str) -> None:
    f = find(text, "SER_DEATH")[0]
    assert f.family and not f.affirmed


def test_reporter_mother_is_not_family() -> None:
    f = only("Mother states the infant died in his crib.", "SER_DEATH")
    assert f.affirmed


@pytest.mark.parametrize("text", ["Risque de décès en cas de surdosage.", "This could lead to death."])
def test_death_hypothetical(text: str) -> None:
    f = only(text, "SER_DEATH")
    assert f.hypothetical and not f.affirmed


def test_history() -> None:
    f = only("Antécédent de convulsions fébriles.", "IME_SEIZURE")
    assert f.history and not f.affirmed
    g = only("Pt with h/o seizures.", "IME_SEIZURE")
    assert g.history


def test_hospitalisation() -> None:
    assert only("No hospitalization.", "SER_HOSPITALISATION").negated
    assert only("Aucune hospitalisation.", "SER_HOSPITALISATION").negated
    assert only("Patient hospitalisé en pédiatrie.", "SER_HOSPITALISATION").affirmed
    assert only("She was admitted to the hospital.", "SER_HOSPITALISATION").affirmed
    assert not find("Seen in ER and released.", "SER_HOSPITALISATION")
    assert only("Seen in ER and released.", "SER_ER_VISIT").affirmed
    assert only("Prolongation de l'hospitalisation de 5 jours.", "SER_PROLONGED_HOSP").affirmed


def test_other_seriousness_and_ime() -> None:
    assert all(f.affirmed for f in find("Arrêt cardio-respiratoire, massage cardiaque.", "SER_LIFE_THREAT"))
    assert only("Intubated in the ICU.", "SER_INTENSIVE_CARE").affirmed
    assert only("Invalidité permanente.", "SER_DISABILITY").affirmed
    assert only("Malformation cardiaque chez le nouveau-né.", "SER_CONGENITAL").affirmed
    assert only("Choc anaphylactique après la dose.", "IME_ANAPHYLAXIS").affirmed
    assert only("Syndrome de Guillain-Barré.", "IME_GBS").affirmed
    assert only("Developed GBS 3 weeks later.", "IME_GBS").affirmed
    assert only("Guérison sans séquelles.", "SER_NOT_RECOVERED").negated


def test_offsets_match_text() -> None:
    text = ("Nourrisson de 4 mois, hospitalisé pour convulsions après le vaccin ROR ; pas de décès. "
            "3 yo male, MMR and Hep B, had a seizure, taken to ER. His father died of MI.")
    findings = extract(text)
    assert findings
    for f in findings:
        assert text[f.start:f.end] == f.text
    assert findings == sorted(findings, key=lambda f: (f.start, f.end, f.code))


def test_population() -> None:
    age = next(f for f in extract("Nourrisson de 4 mois") if f.value is not None)
    assert age.code == "POP_PAEDIATRIC" and age.value == pytest.approx(0.333, abs=0.01)
    assert only("82-year-old woman", "POP_ELDERLY").value == 82
    assert only("Patient de 45 ans", "POP_ADULT").value == 45
    assert len(find("Femme enceinte de 12 SA", "POP_PREGNANCY")) == 2
    assert find("patiente enceinte", "POP_PREGNANCY")[0].affirmed
    assert find("She is not pregnant.", "POP_PREGNANCY")[0].negated
    assert find("Essai chez des volontaires sains.", "POP_HEALTHY_VOLUNTEERS")


def test_trial_and_product_features() -> None:
    text = ("Essai de phase I/II, première administration chez l'homme d'un anticorps bispécifique, "
            "escalade de dose, bras placebo ; thérapie génique par vecteur AAV ; médicament orphelin.")
    codes = {f.code for f in extract(text)}
    assert {"TRIAL_PHASE_1", "TRIAL_PHASE_2", "TRIAL_FIH", "TRIAL_DOSE_ESCALATION", "TRIAL_PLACEBO",
            "TRIAL_NOVEL_MECHANISM", "PROD_ATMP", "PROD_ORPHAN", "PROD_BIOLOGICAL"} <= codes
    assert "TRIAL_FIH" in {f.code for f in extract("A first-in-human (FIH) study")}
    assert {f.code for f in extract("Demande de biosimilaire")} >= {"PROD_BIOSIMILAR"}
    assert {f.code for f in extract("Spécialité générique")} >= {"PROD_GENERIC"}


def test_drugs_with_atc() -> None:
    drugs = [f for f in extract("Traitée par Dépakine et paracetamol; received MMR vaccine.") if f.code == "DRUG"]
    subs = {f.substance: f.atc for f in drugs}
    assert subs["valproate de sodium"] == "N03AG01"
    assert subs["paracétamol"] == "N02BE01"
    assert subs["vaccin rougeole-oreillons-rubéole"] == "J07BD52"


def test_all_caps_narrative() -> None:
    text = "PT EXPIRED 2 DAYS LATER. TEN DAYS AFTER VACCINE, SEEN IN ER."
    codes = {f.code for f in extract(text)}
    assert "SER_DEATH" in codes and "SER_ER_VISIT" in codes
    assert "IME_SCAR" not in codes  # "TEN" in capitals is not toxic epidermal necrolysis


def test_empty_and_codes() -> None:
    assert extract("") == []
    codes = finding_codes()
    assert codes["SER_DEATH"][0] == "Décès" and "DRUG" in codes


def test_negation_scope_stops_at_a_new_statement() -> None:
    assert only("Patient with no known allergies was hospitalized.", "SER_HOSPITALISATION").affirmed
    assert only("Pt was not hospitalized.", "SER_HOSPITALISATION").negated
    assert only("Il n'y a pas eu de décès.", "SER_DEATH").negated
    assert only("Parents declined admission.", "SER_HOSPITALISATION").negated
    assert only("No fever, but admitted overnight.", "SER_HOSPITALISATION").affirmed


def test_french_phrasings() -> None:
    assert only("Décès de son père à 60 ans.", "SER_DEATH").family
    assert only("Le patient a succombé à J3.", "SER_DEATH").affirmed
    assert only("N'a pas nécessité d'hospitalisation.", "SER_HOSPITALISATION").negated
    assert only("Hospitalisation non nécessaire.", "SER_HOSPITALISATION").negated
    assert only("Antécédents : HTA, diabète, AVC en 2015.", "IME_STROKE").history
    scar = only("Suspicion de syndrome de Stevens-Johnson.", "IME_SCAR")
    assert scar.affirmed and scar.certainty == "suspected"  # a suspicion is still a finding
    assert only("Pourrait évoluer vers une hépatite fulminante.", "IME_HEPATIC").hypothetical
