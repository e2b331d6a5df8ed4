"""Vaccines named in free text (retrieval/data/vaccine_names.yaml)."""

from __future__ import annotations

import pytest

from retrieval.vaccines import families_named, vaccine_codes_named

VOCABULARY = ["MMR", "DTAP", "HEP", "HEPA", "VARCEL", "IPV", "FLU3", "FLUN3", "HIBV", "PNC", "PPV", "HPV4",
              "COVID19", "RAB", "TD"]


@pytest.mark.parametrize(("text", "codes"), [
    ("Patiente ayant reçu le vaccin contre la grippe, urticaire.", ["FLU3", "FLUN3"]),
    ("Vaccination anti-grippe en octobre.", ["FLU3", "FLUN3"]),
    ("The patient received an influenza vaccine.", ["FLU3", "FLUN3"]),
    ("Got a flu shot yesterday.", ["FLU3", "FLUN3"]),
    ("Vaccin contre l'hépatite B, deuxième dose.", ["HEP"]),
    ("Comirnaty dose 2, myocardite.", ["COVID19"]),
    ("Fièvre après le vaccin ROR.", ["MMR"]),
    # outcome or disease words that name no vaccine
    ("Syndrome grippal après Gardasil.", ["HPV4"]),
    ("Flu-like symptoms after MMR vaccine.", ["MMR"]),
    ("Rage de dents, zona ophtalmique.", []),
    ("Fièvre après vaccination.", []),
])
def test_vaccine_codes_named(text: str, codes: list[str]) -> None:
    assert vaccine_codes_named(text, VOCABULARY) == codes


def test_only_the_codes_of_the_index_are_returned() -> None:
    assert [f.name for f in families_named("vaccin contre le zona (Shingrix)")] == ["zona"]
    assert vaccine_codes_named("vaccin contre le zona (Shingrix)", VOCABULARY) == []
