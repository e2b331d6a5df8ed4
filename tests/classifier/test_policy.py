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
