"""Criteria evaluation: floors, evidence spans, structured fields, context facts, never the outcome."""

from __future__ import annotations

from typing import Any

from classifier.criteria import evaluate_criteria
from classifier.levels import floor_level, is_serious, level_rank, max_level, normalise_level
from corpora.model import RISK_LEVELS, Dossier, Hit


def dossier(text: str, type_: str = "pv", **fields: Any) -> Dossier:
    return Dossier(id="sample:t", type=type_, title="t", text=text, source="sample", fields=fields)


def codes(d: Dossier, **kw: Any) -> set[str]:
    return {c.code for c in evaluate_criteria(d, **kw)}


def test_death_is_critique_with_evidence() -> None:
    for text in ("Le patient est décédé.", "The patient died."):
        fired = evaluate_criteria(dossier(text))
        assert floor_level(fired) == "critique"
        death = next(c for c in fired if c.code == "PV-DECES")
        ev = death.evidence[0]
        assert text[ev["start"]:ev["end"]] == ev["text"]
        assert "ICH E2A" in death.reference


def test_negated_family_hypothetical_death_do_not_fire() -> None:
    for text in ("Pas de décès.", "Antécédent familial de décès.", "His father died of MI.", "Risque de décès."):
        assert "PV-DECES" not in codes(dossier(text)), text


def test_pv_anchors() -> None:
    assert floor_level(evaluate_criteria(dossier("Hospitalisé 3 jours."))) == "élevé"
    assert floor_level(evaluate_criteria(dossier("Passage aux urgences, retour à domicile."))) == "modéré"
    assert floor_level(evaluate_criteria(dossier("Douleur au point d'injection, résolue."))) == "faible"
    assert floor_level(evaluate_criteria(dossier("Arrêt cardiaque récupéré."))) == "critique"


def test_structured_fields_fire() -> None:
    d = dossier("Fièvre.", patient_age=0.5, pregnant=None, vaccine_types=["DTP"])
    fired = {c.code: c for c in evaluate_criteria(d)}
    assert {"PV-PEDIATRIE", "PV-NOURRISSON", "PV-VACCIN"} <= set(fired)
    assert {"field": "fields.patient_age", "value": 0.5} in fired["PV-NOURRISSON"].evidence
    assert "PV-SUJET-AGE" in codes(dossier("Chute.", patient_age=82))
    assert "PV-GROSSESSE" in codes(dossier("Nausées.", pregnant=True))


def test_aec_and_amm_criteria() -> None:
    aec = dossier("Essai de phase I, première administration chez l'homme, escalade de dose.", "aec",
                  population=["healthy_volunteers"])
    fired = evaluate_criteria(aec)
    assert {"AEC-PREMIERE-ADMINISTRATION", "AEC-PHASE-PRECOCE", "AEC-ESCALADE-DOSE",
            "AEC-VOLONTAIRES-SAINS"} <= {c.code for c in fired}
    assert floor_level(fired) == "élevé"
    assert "AEC-PREMIERE-ADMINISTRATION" in codes(dossier("Étude.", "aec", first_in_human=True))
    placebo = dossier("Essai randomisé contre placebo dans le cancer du poumon métastatique.", "aec")
    assert "AEC-PLACEBO-MALADIE-GRAVE" in codes(placebo)
    assert "AEC-PLACEBO-MALADIE-GRAVE" not in codes(dossier("Essai contre placebo dans la rhinite.", "aec"))
    low = {c.code: c for c in evaluate_criteria(dossier("Essai à faible niveau d'intervention.", "aec"))}
    assert low["AEC-FAIBLE-INTERVENTION"].weight < 0
    amm = dossier("Thérapie génique.", "amm", atmp=True, orphan=True)
    assert floor_level(evaluate_criteria(amm)) == "élevé"
    levo = dossier("Nouvelle formulation.", "amm", substances=["Lévothyroxine sodique"])
    assert "AMM-HISTORIQUE-CRISE" in codes(levo)


def test_first_in_human_of_a_high_risk_mechanism_is_critique() -> None:
    # TGN1412-like: the EMA first-in-human guideline's highest-risk situation needs both conditions.
    tgn = dossier("Phase I, première administration chez l'homme d'un anticorps superagoniste du CD28 "
                  "chez des volontaires sains.", "aec")
    fired = evaluate_criteria(tgn)
    assert "AEC-PREMIERE-ADMINISTRATION-HAUT-RISQUE" in {c.code for c in fired}
    assert floor_level(fired) == "critique"
    assert floor_level(evaluate_criteria(dossier("Study.", "aec", first_in_human=True))) == "élevé"
    english = dossier("First-in-human study of a bispecific antibody.", "aec", first_in_human=True)
    assert floor_level(evaluate_criteria(english)) == "critique"
    later = evaluate_criteria(dossier("Essai de phase II d'un anticorps bispécifique dans le lymphome.", "aec"))
    assert "AEC-PREMIERE-ADMINISTRATION-HAUT-RISQUE" not in {c.code for c in later}
    assert floor_level(later) != "critique"


def test_context_facts_fire_criteria() -> None:
    hit = Hit(id="ema-referral:X#0", document_id="ema-referral:X", source="ema-referral", kind="referral",
              title="Referral", score=1.0, similarity=1.0, start=0, end=4, excerpt="Safe")

    class Fact:
        code = "CTX_EMA_REFERRAL_SAFETY"
        fact = "Arbitrage de sécurité."
        source_hit = hit

    fired = {c.code: c for c in evaluate_criteria(dossier("Céphalées."), context=[Fact()])}
    assert "PV-ARBITRAGE-DHPC" in fired
    assert fired["PV-ARBITRAGE-DHPC"].evidence[0]["value"]["document_id"] == "ema-referral:X"


def test_levels_helpers() -> None:
    assert RISK_LEVELS == ("faible", "modéré", "élevé", "critique")
    assert normalise_level("modere") == "modéré" and normalise_level("ÉLEVÉ") == "élevé"
    assert level_rank("critique") == 3 and max_level("faible", None, "élevé") == "élevé"
    assert is_serious("élevé") and not is_serious("modéré")
    assert floor_level([]) == "faible" and floor_level([{"floor": "modéré"}, {"floor": None}]) == "modéré"


def test_unless_lowers_specific_situations() -> None:
    bio = dossier("Anticorps monoclonal.", "amm")
    assert "AMM-BIOLOGIQUE" in codes(bio)
    biosim = dossier("Biosimilaire d'un anticorps monoclonal.", "amm", biosimilar=True)
    fired = codes(biosim)
    assert "AMM-BIOLOGIQUE" not in fired and "AMM-BIOSIMILAIRE" in fired
    low = dossier("Essai chez l'enfant, à faible niveau d'intervention.", "aec", low_intervention=True)
    fired = codes(low)
    assert "AEC-PEDIATRIE" not in fired and "AEC-PEDIATRIE-FAIBLE-INTERVENTION" in fired


def test_field_evidence_reads_as_french_text() -> None:
    from classifier.result import FieldEvidence

    fact = FieldEvidence(field="context.CTX_SHORTAGE",
                         value={"fact": "La spécialité X est en tension d'approvisionnement.", "document_id": "bdpm:1"})
    assert fact.text_fr() == "La spécialité X est en tension d'approvisionnement. [bdpm:1]"  # not a dict's repr
    assert FieldEvidence(field="fields.patient_age", value=81.0).text_fr() == "fields.patient_age = 81"
    assert FieldEvidence(field="fields.patient_age", value=0.25).text_fr() == "fields.patient_age = 0,25"
    assert FieldEvidence(field="fields.orphan", value=True).text_fr() == "fields.orphan = oui"
    assert FieldEvidence(field="fields.substances", value="ibuprofène").text_fr() == "fields.substances = ibuprofène"
