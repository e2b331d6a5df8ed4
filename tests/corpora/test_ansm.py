"""ANSM interaction thesaurus: stable ids, French text, lookup through drug classes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpora.errors import CorruptFile, InputError
from corpora.loaders.ansm import (
    iter_ansm_documents,
    level_key,
    load_interaction_index,
    pair_hash,
)
from corpora.loaders.base import LoadReport

THESAURUS = [
    {"main_drug": "ABATACEPT", "between_main_and_plus_drug": "", "plus_drug": "ANTI-TNF ALPHA",
     "severity_levels": [{"level": "Association DECONSEILLEE", "info": ""}],
     "interaction_mechanism": "Majoration de l’immunodépression.", "description": "…"},
    {"main_drug": "ANTI-TNF ALPHA", "between_main_and_plus_drug": "(adalimumab, infliximab)",
     "plus_drug": "ABATACEPT", "severity_levels": [{"level": "Association DECONSEILLEE", "info": ""}],
     "interaction_mechanism": "Majoration de l’immunodépression.", "description": "…"},
    {"main_drug": "ACIDE ACETYLSALICYLIQUE", "between_main_and_plus_drug": "", "plus_drug": "ANTICOAGULANTS ORAUX",
     "severity_levels": [
         {"level": "CONTRE-INDICATION", "info": "avec des doses anti-inflammatoires\n(>=1g par prise)"},
         {"level": "A prendre en compte", "info": "avec des doses antiagrégantes"}],
     "interaction_mechanism": "Majoration du risque hémorragique.", "description": "…"},
    {"main_drug": "TRAMADOL", "between_main_and_plus_drug": "", "plus_drug": "PAROXETINE",
     "severity_levels": [{"level": "Précaution d'emploi", "info": "Surveillance clinique."}],
     "interaction_mechanism": "Risque de syndrome sérotoninergique.", "description": "…"},
    {"main_drug": "", "plus_drug": "X", "severity_levels": [{"level": "CONTRE-INDICATION", "info": ""}]},
    {"main_drug": "A", "plus_drug": "B", "severity_levels": [{"level": "inconnu", "info": ""}]},
    "pas un objet",
]
INDEX = [
    {"substance": "adalimumab", "drug_classes": ["anti-tnf alpha"]},
    {"substance": "warfarine", "drug_classes": ["antivitamines k", "anticoagulants oraux"]},
    {"substance": "paroxétine", "drug_classes": ["inhibiteurs sélectifs de la recapture de la sérotonine"]},
]


@pytest.fixture()
def ansm_dir(tmp_path: Path) -> Path:
    d = tmp_path / "ansm_interactions"
    d.mkdir()
    (d / "thesaurus-referentiel-national-des-interactions-medicamenteuses-20102020.json").write_text(
        json.dumps(THESAURUS, ensure_ascii=False), encoding="utf-8")
    (d / "index-des-substances-20102020.json").write_text(json.dumps(INDEX, ensure_ascii=False), encoding="utf-8")
    return d


def test_documents_ids_and_accounting(ansm_dir: Path) -> None:
    report = LoadReport(source="ansm-interaction")
    docs = list(iter_ansm_documents(ansm_dir, report))
    assert report.written == 4 and report.read == 7
    assert report.skipped == {"entrée sans les deux substances": 1, "entrée sans niveau de contrainte": 1,
                              "entrée qui n'est pas un objet JSON": 1}
    h = pair_hash("abatacept", "Anti-TNF alpha")
    # The pair is listed under each member: same hash, the reversed entry gets "-2".
    assert [d.id for d in docs[:2]] == [f"ansm-interaction:{h}", f"ansm-interaction:{h}-2"]
    assert len({d.id for d in docs}) == 4
    # Stable across runs.
    assert [d.id for d in iter_ansm_documents(ansm_dir)] == [d.id for d in docs]

    aspirin = docs[2]
    assert aspirin.kind == "interaction" and aspirin.language == "fr"
    assert aspirin.metadata["level"] == "contre-indication"
    assert aspirin.metadata["levels"] == "|contre-indication|à prendre en compte|"
    assert aspirin.metadata["contraindication"] is True
    assert aspirin.metadata["substances"] == "|acide acetylsalicylique|anticoagulants oraux|"
    for fragment in ("acide acetylsalicylique", "anticoagulants oraux", "Niveau : contre-indication",
                     "(>=1g par prise)", "Mécanisme et risque : Majoration du risque hémorragique."):
        assert fragment in aspirin.text
    assert aspirin.title == "ACIDE ACETYLSALICYLIQUE + ANTICOAGULANTS ORAUX : contre-indication"


def test_levels() -> None:
    assert level_key("CONTRE-INDICATION") == "contre-indication"
    assert level_key("Association DECONSEILLEE") == "association deconseillee"
    assert level_key("Précaution d'emploi") == "precaution d'emploi"
    assert level_key("A prendre en compte") == "a prendre en compte"
    assert level_key("Il convient de prendre en compte") == "a prendre en compte"
    assert level_key("autre") is None


def test_interactions_between_resolves_classes(ansm_dir: Path) -> None:
    index = load_interaction_index(ansm_dir)
    # adalimumab is an anti-TNF alpha: found through its class, once per pair.
    found = index.interactions_between("Adalimumab", "abatacept")
    assert [(it.main, it.plus) for it in found] == [("ABATACEPT", "ANTI-TNF ALPHA")]
    assert found[0].facts()["level"] == "association déconseillée"
    # Order of arguments does not matter; salts and accents are normalised.
    assert index.interactions_between("warfarine", "acide acétylsalicylique")[0].level == "contre-indication"
    assert index.interactions_between("CHLORHYDRATE DE TRAMADOL", "paroxétine")[0].plus == "PAROXETINE"
    assert index.interactions_between("paracétamol", "warfarine") == []
    among = index.interactions_among(["tramadol", "paroxetine", "warfarine", "aspirine"])
    assert [(a, b) for a, b, _ in among] == [("tramadol", "paroxetine")]


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="introuvable"):
        list(iter_ansm_documents(tmp_path))
    (tmp_path / "thesaurus-x.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorruptFile, match="JSON invalide"):
        list(iter_ansm_documents(tmp_path))


@pytest.mark.corpora
def test_real_thesaurus(corpora_dir: Path) -> None:
    report = LoadReport(source="ansm-interaction")
    docs = list(iter_ansm_documents(corpora_dir / "ansm_interactions", report))
    assert len(docs) == 3139 == report.written and not report.skipped
    assert len({d.id for d in docs}) == 3139
    assert {d.metadata["level"] for d in docs} == {
        "contre-indication", "association déconseillée", "précaution d'emploi", "à prendre en compte"}
    index = load_interaction_index(corpora_dir / "ansm_interactions")
    assert index.interactions_between("tramadol", "paroxétine")
    assert index.interactions_between("warfarine", "acide acétylsalicylique")[0].level == "contre-indication"
