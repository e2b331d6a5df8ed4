"""The catalog: every source present, limits per source, reports, unknown names, dossiers."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from corpora.catalog import (
    REGISTRY,
    available_sources,
    check_sources,
    iter_documents,
    iter_records,
    vaers_zip_paths,
)
from corpora.errors import InputError, UnknownSource
from corpora.loaders.base import LoadReport
from corpora.model import SOURCE_KINDS, SOURCES

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "corpora" / "sample"


def make_mini_corpora(root: Path) -> Path:
    """A tiny corpora dir in the real layout: bdpm, has, ansm_interactions, ctgov_stopped."""
    (root / "bdpm").mkdir(parents=True)
    (root / "bdpm" / "CIS_bdpm.txt").write_text(
        "61111111\tTRAMADOL EXEMPLE 50 mg, gélule\tgélule\torale\tAutorisation active\tProcédure nationale\t"
        "Commercialisée\t12/03/1998\t\t\t LABO\tOui\n"
        "62222222\tDOLIPRANE 1000 mg, comprimé\tcomprimé\torale\tAutorisation active\tProcédure nationale\t"
        "Commercialisée\t07/07/2001\t\t\t LABO\tNon\n", encoding="utf-8")
    (root / "has").mkdir()
    (root / "has" / "CIS_HAS_SMR_bdpm.txt").write_bytes(
        "61111111\tCT-1\tInscription (CT)\t20220209\tModéré\tLe service médical rendu est modéré.\r\n"
        "62222222\tCT-2\tInscription (CT)\t20220209\tInsuffisant\tLe service médical rendu est insuffisant.\r\n"
        .encode("cp1252"))
    (root / "has" / "CIS_HAS_ASMR_bdpm.txt").write_bytes(
        "61111111\tCT-1\tInscription (CT)\t20220209\tV\tPas d'amélioration (ASMR V).\r\n".encode("cp1252"))
    (root / "ansm_interactions").mkdir()
    (root / "ansm_interactions" / "thesaurus-2020.json").write_text(json.dumps([
        {"main_drug": "TRAMADOL", "plus_drug": "PAROXETINE", "between_main_and_plus_drug": "",
         "severity_levels": [{"level": "Précaution d'emploi", "info": ""}],
         "interaction_mechanism": "Risque de syndrome sérotoninergique.", "description": ""}]), encoding="utf-8")
    (root / "ctgov_stopped").mkdir()
    (root / "ctgov_stopped" / "stopped_predictions_27.11.tsv").write_text(
        "stop_reason\tphase\tnct_id\tstart_date\tstatus\tprediction\n"
        "Low accrual\tPhase 2\tNCT00000001\t1.02.2019\tTerminated\tInsufficient_Enrollment\n"
        "Funding\tnan\tNCT00000002\tnan\tWithdrawn\tBusiness_Administrative\n"
        "Funding\tnan\tNCT00000002\tnan\tWithdrawn\tBusiness_Administrative\n", encoding="utf-8")
    return root


def test_registry_matches_the_model() -> None:
    assert set(REGISTRY) == set(SOURCES) - {"referentiel", "intake"}
    for name, spec in REGISTRY.items():
        assert spec.kind == SOURCE_KINDS[name]


def test_unknown_source_lists_valid_names() -> None:
    with pytest.raises(UnknownSource) as info:
        check_sources(["bdpm", "faers"])
    assert "Source inconnue : faers" in info.value.message
    assert "has-smr" in info.value.message and "ctgov" in info.value.message
    with pytest.raises(UnknownSource):
        list(iter_documents(SAMPLE_DIR, sources=["nope"]))


def test_mini_corpora_documents(tmp_path: Path) -> None:
    root = make_mini_corpora(tmp_path)
    assert available_sources(root) == ["bdpm", "has-smr", "has-asmr", "ansm-interaction", "ctgov"]
    reports: dict[str, LoadReport] = {}
    docs = list(iter_documents(root, reports=reports))
    assert Counter(d.source for d in docs) == {"bdpm": 2, "has-smr": 2, "has-asmr": 1,
                                               "ansm-interaction": 1, "ctgov": 2}
    assert reports["ctgov"].skipped == {"identifiant NCT en double": 1}
    assert all(r.read == r.written + r.skipped_total for r in reports.values())
    # HAS titles name the BDPM product when the BDPM folder is there.
    smr = next(d for d in docs if d.source == "has-smr")
    assert smr.title == "Avis SMR Modéré — TRAMADOL EXEMPLE 50 mg, gélule"
    assert all(d.kind == SOURCE_KINDS[d.source] for d in docs)


def test_limit_is_per_source_and_sources_filter(tmp_path: Path) -> None:
    root = make_mini_corpora(tmp_path)
    docs = list(iter_documents(root, limit=1))
    assert Counter(d.source for d in docs) == {"bdpm": 1, "has-smr": 1, "has-asmr": 1,
                                               "ansm-interaction": 1, "ctgov": 1}
    only = list(iter_documents(root, sources=["has-smr", "ctgov"]))
    assert {d.source for d in only} == {"has-smr", "ctgov"}
    assert list(iter_documents(root, limit=0)) == []
    with pytest.raises(InputError, match="absente"):
        list(iter_documents(root, sources=["vaers"]))
    with pytest.raises(InputError, match="introuvable"):
        list(iter_documents(tmp_path / "absent"))


def test_bundled_sample(tmp_path: Path) -> None:
    assert available_sources(SAMPLE_DIR) == ["sample"]
    reports: dict[str, LoadReport] = {}
    docs = list(iter_documents(SAMPLE_DIR, reports=reports))
    assert docs and {d.source for d in docs} == {"sample"}
    assert reports["sample"].written == len(docs)
    records = list(iter_records(SAMPLE_DIR))
    assert {r.dossier.type for r in records} == {"pv", "amm", "aec"}
    aec = list(iter_records(SAMPLE_DIR, types=["aec"], limit=3))
    assert len(aec) == 3 and {r.dossier.type for r in aec} == {"aec"}
    with pytest.raises(InputError, match="Type de dossier inconnu"):
        list(iter_records(SAMPLE_DIR, types=["xyz"]))
    # No record source in a folder without VAERS, EPAR or sample.
    assert list(iter_records(make_mini_corpora(tmp_path))) == []


def test_vaers_zip_paths(tmp_path: Path) -> None:
    folder = tmp_path / "vaers"
    folder.mkdir()
    for name in ("1991VAERSData.zip", "1990VAERSData.zip", "notes.txt", "2004VAERSDATA.ZIP"):
        (folder / name).write_bytes(b"x")
    assert [p.name for p in vaers_zip_paths(tmp_path)] == ["1990VAERSData.zip", "1991VAERSData.zip",
                                                          "2004VAERSDATA.ZIP"]
    assert [p.name for p in vaers_zip_paths(folder, years=[1991])] == ["1991VAERSData.zip"]
    assert vaers_zip_paths(tmp_path / "absent") == []


@pytest.mark.corpora
def test_real_catalog_every_source(corpora_dir: Path) -> None:
    reports: dict[str, LoadReport] = {}
    docs = list(iter_documents(corpora_dir, limit=5, reports=reports, vaers_years=[1990]))
    counts = Counter(d.source for d in docs)
    expected = set(REGISTRY) - {"sample"}
    assert set(counts) == expected
    assert all(n == 5 for n in counts.values())
    assert len({d.id for d in docs}) == len(docs)
    assert all(d.kind == SOURCE_KINDS[d.source] for d in docs)


@pytest.mark.corpora
def test_real_records(corpora_dir: Path) -> None:
    records = list(iter_records(corpora_dir, limit=3, vaers_years=[1990]))
    assert Counter(r.dossier.type for r in records) == {"pv": 3, "amm": 3}
    amm = list(iter_records(corpora_dir, types=["amm"], limit=2))
    assert [r.dossier.source for r in amm] == ["ema-epar", "ema-epar"]


def test_parse_years_mixes_ranges_and_lists() -> None:
    from corpora.catalog import parse_years
    from corpora.errors import InputError

    assert parse_years(None) is None and parse_years("") is None
    assert parse_years("2003-2004") == [2003, 2004]
    assert parse_years("2004, 1990-1991") == [1990, 1991, 2004]
    for bad in ("abc", "1800", "2004-"):
        with pytest.raises(InputError, match="Années VAERS illisibles"):
            parse_years(bad)
