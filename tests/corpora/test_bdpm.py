"""BDPM loader: products joined with substances, prescription conditions, generics, shortages, ATC."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from corpora.errors import EncodingProblem, InputError
from corpora.loaders.base import LoadReport
from corpora.loaders.bdpm import iter_bdpm_documents, load_bdpm_index, load_product_names

CIS = (
    "61111111\tTRAMADOL EXEMPLE 50 mg, gélule\tgélule\torale\tAutorisation active\tProcédure nationale\t"
    "Commercialisée\t12/03/1998\t\t\t LABORATOIRE ÉTÉ\tOui\r\n"
    "62222222\tDOLIPRANE 1000 mg, comprimé\tcomprimé\torale;rectale\tAutorisation abrogée\t"
    "Procédure décentralisée\tNon commercialisée\t07/07/2001\tAlerte\tEU/1/00/000/001\t SANOFI; OPELLA\tNon\r\n"
    "ligne cassée\tsans assez de colonnes\r\n"
    "61111111\tDOUBLON\tgélule\torale\tAutorisation active\tProcédure nationale\tCommercialisée\t"
    "12/03/1998\t\t\t X\tNon\r\n"
    "\r\n"
)
COMPO = (
    "61111111\tgélule\t86571\tCHLORHYDRATE DE TRAMADOL\t50 mg\tune gélule\tSA\t1\t\r\n"
    "61111111\tgélule\t12345\tTRAMADOL\t43,9 mg\tune gélule\tFT\t1\t\r\n"
    "62222222\tcomprimé\t02202\tPARACÉTAMOL\t1000 mg\tun comprimé\tSA\t1\t\r\n"
)
CPD = "61111111\tliste I\r\n61111111\tprescription limitée à 12 semaines\r\n\r\n"
GENER = "7\tTRAMADOL 50 mg - TOPALGIC 50 mg, gélule\t61111111\t1\t2\t\r\n"
DISPO = (
    "61111111\t\t4\tRemise à disposition\t01/01/2025\t02/01/2025\t03/01/2025\thttps://ansm.sante.fr/a\r\n"
    "61111111\t\t2\tTension d'approvisionnement\t12/05/2025\t04/07/2025\t\thttps://ansm.sante.fr/b\r\n"
)
MITM = "61111111\tN02AX02\tTRAMADOL EXEMPLE\thttps://base-donnees-publique.medicaments.gouv.fr/x\n"


@pytest.fixture()
def bdpm_dir(tmp_path: Path) -> Path:
    d = tmp_path / "bdpm"
    d.mkdir()
    for name, text in (("CIS_bdpm.txt", CIS), ("CIS_COMPO_bdpm.txt", COMPO), ("CIS_CPD_bdpm.txt", CPD),
                       ("CIS_GENER_bdpm.txt", GENER), ("CIS_CIP_Dispo_Spec.txt", DISPO), ("CIS_MITM.txt", MITM)):
        (d / name).write_bytes(text.encode("utf-8"))
    return d


def test_documents_and_accounting(bdpm_dir: Path) -> None:
    report = LoadReport(source="bdpm")
    docs = list(iter_bdpm_documents(bdpm_dir, report))
    assert [d.id for d in docs] == ["bdpm:61111111", "bdpm:62222222"]
    assert report.written == 2
    assert report.skipped == {"ligne malformée (moins de 11 colonnes)": 1, "CIS en double": 1}
    assert report.read == report.written + report.skipped_total

    tram = docs[0]
    assert tram.kind == "product" and tram.source == "bdpm" and tram.language == "fr"
    assert tram.title == "TRAMADOL EXEMPLE 50 mg, gélule"
    assert tram.received_at == date(1998, 3, 12)
    meta = tram.metadata
    assert meta["surveillance_renforcee"] is True
    assert meta["substances"] == "|tramadol|"
    assert meta["atc"] == "N02AX02"
    assert meta["generic"] is True
    assert meta["shortage"] is True and meta["shortage_status"] == "Tension d'approvisionnement"
    assert meta["prescription_conditions"] == "|liste I|prescription limitée à 12 semaines|"
    assert meta["holders"] == "|LABORATOIRE ÉTÉ|"
    assert all(v is not None for v in meta.values())
    for fragment in ("gélule", "Autorisation active", "Procédure nationale", "CHLORHYDRATE DE TRAMADOL (50 mg)",
                     "liste I", "Tension d'approvisionnement depuis le 12/05/2025", "Code ATC : N02AX02",
                     "Surveillance renforcée : oui", "générique"):
        assert fragment in tram.text

    doli = docs[1].metadata
    assert doli["status"] == "Autorisation abrogée"
    assert doli["routes"] == "|orale|rectale|"
    assert doli["holders"] == "|SANOFI|OPELLA|"
    assert doli["surveillance_renforcee"] is False
    assert doli["generic"] is False and doli["shortage"] is False
    assert "atc" not in doli


def test_index_lookups(bdpm_dir: Path) -> None:
    index = load_bdpm_index(bdpm_dir)
    assert len(index) == 2
    for spelling in ("tramadol", "Chlorhydrate de tramadol", "TRAMADOL (CHLORHYDRATE DE)"):
        assert [p.cis for p in index.products_for_substance(spelling)] == ["61111111"]
    assert [p.cis for p in index.products_for_substance("paracétamol")] == ["62222222"]
    assert index.products_for_substance("ibuprofène") == []
    assert [p.cis for p in index.products_by_name("Doliprane")] == ["62222222"]
    assert index.products_by_name("dolip") == []  # whole words only
    assert [p.cis for p in index.products_for_atc("n02")] == ["61111111"]
    facts = index.get("61111111").facts()  # type: ignore[union-attr]
    assert facts["surveillance_renforcee"] is True
    assert facts["prescription_conditions"] == ["liste I", "prescription limitée à 12 semaines"]
    assert facts["shortage"] is True and facts["atc"] == "N02AX02" and facts["generic"] is True
    assert load_product_names(bdpm_dir) == {"61111111": "TRAMADOL EXEMPLE 50 mg, gélule",
                                            "62222222": "DOLIPRANE 1000 mg, comprimé"}


def test_missing_and_badly_encoded(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="introuvable"):
        list(iter_bdpm_documents(tmp_path))
    # Older BDPM files were Windows-1252: accents survive either way.
    (tmp_path / "CIS_bdpm.txt").write_bytes(CIS.encode("cp1252"))
    titles = [d.title for d in iter_bdpm_documents(tmp_path)]
    assert titles == ["TRAMADOL EXEMPLE 50 mg, gélule", "DOLIPRANE 1000 mg, comprimé"]
    (tmp_path / "CIS_bdpm.txt").write_bytes(b"61111111\tX \x81\tgelule\n")
    with pytest.raises(EncodingProblem, match="ligne 1 illisible en utf-8 ou cp1252"):
        list(iter_bdpm_documents(tmp_path))


@pytest.fixture(scope="session")
def real_bdpm(corpora_dir: Path) -> tuple[list, LoadReport]:
    report = LoadReport(source="bdpm")
    return list(iter_bdpm_documents(corpora_dir / "bdpm", report)), report


@pytest.mark.corpora
def test_real_bdpm_counts(real_bdpm: tuple[list, LoadReport]) -> None:
    docs, report = real_bdpm
    assert len(docs) == 15788 == report.written
    assert report.read == report.written + report.skipped_total
    assert len({d.id for d in docs}) == 15788
    assert sum(d.metadata["surveillance_renforcee"] for d in docs) == 472
    statuses = {d.metadata["status"] for d in docs}
    assert {"Autorisation active", "Autorisation abrogée", "Autorisation suspendue", "Autorisation retirée"} <= statuses
    assert any("é" in d.title for d in docs) and not any("Ã" in d.text for d in docs)


@pytest.mark.corpora
def test_real_bdpm_index(corpora_dir: Path) -> None:
    index = load_bdpm_index(corpora_dir / "bdpm")
    tramadol = index.products_for_substance("chlorhydrate de tramadol")
    assert len(tramadol) > 50
    assert all("tramadol" in p.substance_keys for p in tramadol)
    assert index.products_by_name("doliprane")
