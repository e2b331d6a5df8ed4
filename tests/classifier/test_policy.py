"""Processing-mode policy: every type × level, deadlines with references."""

from __future__ import annotations

import pytest

from classifier.policy import expertises_of, load_policy, processing_mode
from corpora.model import RISK_LEVELS


def test_every_type_and_level() -> None:
    table = load_policy()
    for t in ("pv", "amm", "aec"):
        for level in RISK_LEVELS:
            mode = table[t][level]
            assert mode.code and mode.label and mode.expertises and mode.deadline_days > 0 and mode.reference


def test_pv_deadlines_follow_gvp() -> None:
    assert processing_mode("pv", "faible").deadline_days == 90
    assert processing_mode("pv", "modéré").deadline_days == 90
    assert processing_mode("pv", "élevé").deadline_days == 15
    crit = processing_mode("pv", "critique")
    assert crit.deadline_days == 15 and "GVP Module VI" in crit.reference


def test_aec_and_amm_references() -> None:
    aec = processing_mode("aec", "critique")
    assert aec.deadline_days == 45 and "536/2014" in aec.reference and "art. 42" in aec.reference
    assert processing_mode("amm", "élevé").deadline_days == 210


def test_extra_expertises_merged_and_level_spelling() -> None:
    mode = processing_mode("pv", "eleve", ["pédiatrie", "pharmacovigilance"])
    assert mode.expertises.count("pharmacovigilance") == 1 and "pédiatrie" in mode.expertises
    assert expertises_of([{"expertises": ["a", "b"]}, {"expertises": ["b", "c"]}]) == ["a", "b", "c"]
    with pytest.raises(ValueError):
        processing_mode("xyz", "faible")


def test_regulatory_clocks() -> None:
    from classifier.policy import regulatory_clock

    def days(clock):  # type: ignore[no-untyped-def]
        return [(s.label, s.day) for s in clock.steps]

    # PV: GVP VI.C.3, 15 calendar days for a serious case, 90 otherwise (the level's deadline).
    assert days(regulatory_clock("pv", "critique")) == [("échéance réglementaire", 15)]
    assert days(regulatory_clock("pv", "élevé")) == [("échéance réglementaire", 15)]
    assert days(regulatory_clock("pv", "modéré")) == [("échéance réglementaire", 90)]
    # AEC: Part I timetable (validation 10 days, report 45 days after validation, decision 5 days after).
    part1 = regulatory_clock("aec", "faible")
    assert part1.rule == "calendrier de la partie I"
    assert [d for _, d in days(part1)] == [10, 55, 60] and "art. 6(4)" in part1.steps[1].reference
    # SUSAR: 7 days when fatal or life-threatening (affirmed in the text), 15 otherwise.
    calls: list[int] = []

    def findings(codes: list[str]):  # type: ignore[no-untyped-def]
        def found() -> list[str]:
            calls.append(1)
            return codes
        return found

    fatal = regulatory_clock("aec", "critique", criteria=["AEC-SUSAR"], findings=findings(["SER_DEATH"]))
    assert days(fatal) == [("déclaration de la SUSAR", 7)] and "42(2)(a)" in fatal.steps[0].reference
    other = regulatory_clock("aec", "élevé", criteria=["AEC-SUSAR"], findings=findings(["SER_HOSPITALISATION"]))
    assert days(other) == [("déclaration de la SUSAR", 15)]
    regulatory_clock("aec", "élevé", findings=findings(["SER_DEATH"]))
    assert len(calls) == 2  # the text is only read when a rule needs it
    # AMM: the procedure's clock, 150 days in accelerated assessment.
    assert days(regulatory_clock("amm", "élevé")) == [("échéance réglementaire", 210)]
    accelerated = regulatory_clock("amm", "faible", fields={"accelerated_assessment": True})
    assert days(accelerated) == [("avis", 150)] and "14(9)" in accelerated.steps[0].reference
