"""Product recognition in French text (issue 12 §5): BDPM brands, no generic word, no unrelated product."""

from __future__ import annotations

from pathlib import Path

from classifier.products import brand_index, brand_phrase, recognise_brands, resolve_brand, without_dose

BDPM = [
    ("INFANRIX HEXA, poudre et suspension", ["anatoxine diphterique", "anatoxine tetanique"]),
    ("INFANRIX QUINTA, poudre et suspension", ["anatoxine diphterique"]),
    ("DOLIPRANE 1000 mg, comprimé", ["paracetamol"]),
    ("DOLIPRANE 500 mg, gélule", ["paracetamol"]),
    ("DÉPAKINE CHRONO 500 mg, comprimé", ["valproate de sodium"]),
    ("VACCIN BCG AJVACCINES, poudre", ["bcg"]),
    ("VACCIN RABIQUE PASTEUR, poudre", ["virus de la rage"]),
    ("ACIDE ACETYLSALICYLIQUE ARROW 500 mg", ["acide acetylsalicylique"]),
    ("FRACTION FLAVONOIQUE PURIFIEE MYLAN PHARMA 500 mg", ["fraction flavonoique purifiee"]),
    ("VITAMINE B12 GERDA 1000 µg/4 ml, solution injectable", ["cyanocobalamine"]),
    ("DAILY, comprimé", ["levonorgestrel"]),
]


def test_brand_phrase() -> None:
    assert brand_phrase("INFANRIX HEXA, poudre et suspension") == "infanrix hexa"
    assert brand_phrase("DOLIPRANE 1000 mg, comprimé") == "doliprane"
    assert brand_phrase("DÉPAKINE CHRONO 500 mg, comprimé") == "depakine chrono"
    assert brand_phrase("VACCIN BCG AJVACCINES, poudre") is None  # a generic word is never a brand
    assert brand_phrase("EAU, solution") is None
    assert without_dose("Prednisone 5 mg") == "prednisone"
    assert without_dose("acide valproïque 500 mg") == "acide valproique"
    assert brand_phrase("BEXSERO suspension injectable en seringue préremplie. Vaccin méningococcique") == "bexsero"


def test_index_and_recognition() -> None:
    index = brand_index(BDPM)
    assert index["doliprane"]["substances"] == ["paracetamol"]
    assert "infanrix" not in index  # Hexa or Quinta: a bare « Infanrix » is ambiguous
    assert "depakine" not in index and "depakine chrono" in index  # only whole brand phrases
    assert "fraction" not in index  # a bare first word is never a brand
    assert "vitamine" not in index and "daily" not in index  # generic word, everyday English word
    assert index["aspirine"]["substances"] == ["acide acetylsalicylique"]  # common French name
    text = ("Nourrisson de 4 mois, convulsions fébriles 6 heures après le vaccin hexavalent Infanrix Hexa, "
            "puis prise d'Aspirine et de DÉPAKINE chrono.")
    found = recognise_brands(text, index)
    assert [(f.text, f.brand) for f in found] == [("Infanrix Hexa", "INFANRIX HEXA"), ("Aspirine", "aspirine"),
                                                  ("DÉPAKINE chrono", "DÉPAKINE CHRONO")]
    assert all(text[f.start:f.end] == f.text for f in found)
    assert found[0].substances == ("anatoxine diphterique", "anatoxine tetanique")
    assert recognise_brands("vaccin rabique et vaccin BCG", index) == []  # « vaccin … » is not a brand
    assert recognise_brands("Aucun médicament, pas de vaccin.", index) == []
    assert recognise_brands("Baisse de la fraction d'éjection ventriculaire.", index) == []  # a substance's word
    assert resolve_brand("Doliprane 500 mg", index) == ["paracetamol"]
    assert resolve_brand("vaccin diphtérie-tétanos-coqueluche", index) == []


def test_french_narratives_find_their_products(corpora_dir: Path, tmp_path: Path) -> None:
    """The project's French set: products recognised ≥ 0.95, and the Infanrix Hexa case never cites BCG/rabies."""
    from classifier.context import gather_context
    from classifier.knowledge_base import build_knowledge_base
    from classifier.products_eval import evaluate_products, read_set
    from corpora.model import Dossier

    kb = build_knowledge_base(corpora_dir, tmp_path, sources=["bdpm", "ema", "ansm"])
    text = ("Nourrisson de 4 mois, convulsions fébriles 6 heures après le vaccin hexavalent Infanrix Hexa, "
            "hospitalisé 2 jours en pédiatrie, guéri sans séquelle.")
    ctx = gather_context(Dossier(id="sample:ih", type="pv", title="t", text=text, language="fr", source="sample"), kb)
    subs = {f.substance for f in ctx.facts}
    assert "anatoxine diphterique" in subs
    assert not any("bcg" in (s or "") or "rage" in (s or "") for s in subs)
    result = evaluate_products(read_set(), kb)
    assert result.narratives >= 30
    assert result.recognised_share >= 0.95, result.missed
    assert result.on_product_share >= 0.98, result.off_product
