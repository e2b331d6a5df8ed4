"""Substance and name normalisation (pure functions)."""

from __future__ import annotations

import pytest

from corpora.normalise import bar_join, fold, normalise_name, normalise_substance, substance_keys


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CHLORHYDRATE DE TRAMADOL", "tramadol"),
        ("TRAMADOL (CHLORHYDRATE DE)", "tramadol"),
        ("tramadol", "tramadol"),
        ("Ésoméprazole magnésique trihydraté", "esomeprazole"),
        ("chlorhydrate d’irinotécan trihydraté", "irinotecan"),
        ("acétate de leuproréline", "leuproreline"),
        ("DIPROPIONATE DE BÉCLOMÉTASONE", "beclometasone"),
        ("AMOXICILLINE TRIHYDRATÉE", "amoxicilline"),
        ("SUGAMMADEX SODIQUE", "sugammadex"),
        ("metformine (sel de chlorhydrate)", "metformine"),
        ("PARACÉTAMOL", "paracetamol"),
        ("ACIDE ACÉTYLSALICYLIQUE", "acide acetylsalicylique"),
        ("  Lévothyroxine   sodique ", "levothyroxine"),
    ],
)
def test_normalise_substance_strips_salts_accents_and_case(raw: str, expected: str) -> None:
    assert normalise_substance(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # A salt whose base is only an ion is the substance itself.
        ("SODIUM (CHLORURE DE)", "chlorure de sodium"),
        ("chlorure de potassium", "chlorure de potassium"),
        ("sulfate de magnésium", "sulfate de magnesium"),
        ("sulfate ferreux", "sulfate ferreux"),
    ],
)
def test_mineral_salts_are_kept_whole(raw: str, expected: str) -> None:
    assert normalise_substance(raw) == expected


def test_same_key_for_every_spelling() -> None:
    spellings = ["CHLORHYDRATE DE TRAMADOL", "Tramadol (chlorhydrate de)", "tramadol chlorhydrate", "TRAMADOL"]
    assert {normalise_substance(s) for s in spellings} == {"tramadol"}


def test_empty_and_blank() -> None:
    assert normalise_substance("") == ""
    assert normalise_substance("   ") == ""
    assert substance_keys([None, "", "Tramadol", "CHLORHYDRATE DE TRAMADOL", "Paracétamol"]) == [
        "tramadol", "paracetamol"]


def test_fold_and_names() -> None:
    assert fold("Œstradiol  É’") == "oestradiol e’"  # apostrophes are made plain in keys only
    assert normalise_name("L’ŒSTRADIOL ") == "l'oestradiol"
    assert normalise_name("DOLIPRANE 1000 mg, comprimé.") == "doliprane 1000 mg, comprime"


def test_bar_join() -> None:
    assert bar_join(["a", "b|c", " ", ""]) == "|a|b/c|"
    assert bar_join([]) == ""
    assert bar_join(None) == ""


def test_fr_decimal_writes_a_decimal_comma() -> None:
    from corpora.normalise import fr_decimal

    assert fr_decimal(14.74) == "14,7"
    assert fr_decimal(0.0193, 3) == "0,019"
    assert fr_decimal(100.0, 0) == "100"


def test_fr_int_groups_digits_and_fr_decimal_keeps_a_measured_value() -> None:
    from corpora.normalise import fr_decimal, fr_int

    assert fr_int(10485760) == "10 485 760"
    assert fr_decimal(0.976, None) == "0,976" and fr_decimal(1.0, None) == "1,0"
