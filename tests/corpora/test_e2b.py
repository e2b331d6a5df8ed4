"""ICH E2B(R3) ICSR mapping (corpora.e2b), through the intake dispatch and directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpora.e2b import parse_e2b
from corpora.errors import InputError
from corpora.intake import parse_upload

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ICSR = (FIXTURES / "icsr_e2b_r3.xml").read_text(encoding="utf-8")


def test_e2b_r3_icsr_mapping() -> None:
    [item] = parse_upload(ICSR.encode(), filename="icsr.xml")
    d = item.dossier
    assert d.id == "intake:FR-ANSM-2026-000123" and d.type == "pv" and d.language == "fr"
    assert str(d.received_at) == "2026-03-12"
    assert d.text.startswith("Patiente de 67 ans ayant présenté une hépatite aiguë")
    assert d.fields.patient_age == 67 and d.fields.patient_sex == "F"
    assert d.fields.symptoms == ["hépatite aiguë cytolytique"]
    assert d.fields.substances == ["amoxicilline", "acide clavulanique"]
    assert d.fields.products and d.fields.products[0].name == "Augmentin 1 g/125 mg"
    assert d.fields.products[0].role == "suspect"
    # Reporter-declared seriousness (hospitalisation true, death false) is an input known at intake.
    assert item.declared_seriousness == ["hospitalisation ou prolongation d'hospitalisation"]
    assert "Critères de gravité déclarés par le notifiant : hospitalisation" in d.text
    assert "décès" not in d.text


def test_pv_type_only() -> None:
    with pytest.raises(InputError, match="type « pv » attendu"):
        parse_upload(ICSR.encode(), declared_type="amm")


def test_receipt_date_and_impossible_date() -> None:
    # C.1.4 is an HL7 timestamp: its date part only; an impossible date is no date (not a crash), and
    # C.1.5 (availabilityTime) is used instead, as when C.1.4 is absent.
    [item] = parse_e2b(ICSR.replace('<low value="20260312"/>', '<low value="20260312101500+0100"/>'))
    assert str(item.dossier.received_at) == "2026-03-12"
    [item] = parse_e2b(ICSR.replace('<low value="20260312"/>', '<low value="20261399"/>'))
    assert str(item.dossier.received_at) == "2026-03-15"
