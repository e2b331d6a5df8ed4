"""VAERS loader: published zips, header-name mapping across layouts, outcomes apart, every skip counted."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from corpora.errors import CorruptFile, InputError, InputTooLarge
from corpora.loaders import vaers
from corpora.loaders.base import LoadReport
from corpora.loaders.vaers import (
    SKIP_BAD_ID,
    SKIP_DUPLICATE,
    SKIP_MALFORMED,
    iter_vaers_records,
    vaers_record_to_document,
)
from corpora.model import VaersOutcome, record_to_json

DATA_2004 = [
    ["VAERS_ID", "RECVDATE", "STATE", "AGE_YRS", "CAGE_YR", "CAGE_MO", "SEX", "RPT_DATE", "SYMPTOM_TEXT",
     "DIED", "DATEDIED", "L_THREAT", "ER_VISIT", "HOSPITAL", "HOSPDAYS", "X_STAY", "DISABLE", "RECOVD",
     "VAX_DATE", "ONSET_DATE", "NUMDAYS", "LAB_DATA", "V_ADMINBY", "V_FUNDBY", "OTHER_MEDS", "CUR_ILL",
     "HISTORY", "PRIOR_VAX", "SPLTTYPE"],
    ["214577", "01/02/2004", "MA", "29.0", "29", "", "F", "12/29/2003", "Rash and swelling after the vaccine.",
     "", "", "", "", "Y", "3", "", "", "U", "12/24/2003", "12/25/2003", "1", "NONE", "PVT", "OTH", "",
     "NONE", "UNK", "", ""],
    ["025003", "07/02/1990", "TX", "0.8", "", "", "M", "", "Infant died: Reye syndrome. Café au lait.",
     "Y", "02/10/1990", "Y", "", "", "", "", "", "N", "01/29/1990", "02/04/1990", "6", "Autopsy: edema",
     "UNK", "UNK", "Tylenol", "", "Asthma", "", "WAES9001"],
    ["214579", "01/03/2004", "", "", "", "", "U", "", "Sore arm.", "", "", "", "Y", "", "", "Y", "Y", "Y",
     "", "", "", "", "PUB", "PUB", "", "", "", "", ""],
    ["214577", "01/02/2004", "MA", "29.0", "", "", "F", "", "duplicate of the first row", "", "", "", "", "",
     "", "", "", "Y", "", "", "", "", "", "", "", "", "", "", ""],
    ["ABC", "01/02/2004", "MA", "", "", "", "F", "", "bad id", "", "", "", "", "", "", "", "", "Y", "", "",
     "", "", "", "", "", "", "", "", ""],
    ["214580", "01/02/2004", "MA"],
]
VAX_2004 = [
    ["VAERS_ID", "VAX_TYPE", "VAX_MANU", "VAX_LOT", "VAX_DOSE", "VAX_ROUTE", "VAX_SITE", "VAX_NAME"],
    ["214577", "VARCEL", "MERCK & CO. INC.", "0476N", "1", "SC", "RA", "VARICELLA (VARIVAX)"],
    ["25003", "DTP", "LEDERLE LABORATORIES", "259962", "3", "IM", "", "DTP (TRI-IMMUNOL)"],
    ["25003", "OPV", "UNKNOWN MANUFACTURER", "", "", "PO", "", "POLIO VIRUS, ORAL (ORIMUNE)"],
    ["214579", "FLU3", "AVENTIS PASTEUR", "U1", "", "IM", "LA", "INFLUENZA (SEASONAL) (FLUZONE)"],
]
SYMPTOMS_2004 = [
    ["VAERS_ID", "SYMPTOM1", "SYMPTOMVERSION1", "SYMPTOM2", "SYMPTOMVERSION2", "SYMPTOM3", "SYMPTOMVERSION3",
     "SYMPTOM4", "SYMPTOMVERSION4", "SYMPTOM5", "SYMPTOMVERSION5"],
    ["214577", "Cellulitis", "8.10", "Rash", "8.10", "Rash", "8.10", "", "", "", ""],
    ["214577", "Swelling", "8.10", "", "", "", "", "", "", "", ""],
    ["025003", "Death", "8.10", "Reye's syndrome", "8.10", "", "", "", "", "", ""],
]

# A later layout: extra and reordered columns, ER_ED_VISIT and BIRTH_DEFECT, VAX_DOSE_SERIES.
DATA_2021 = [
    ["VAERS_ID", "RECVDATE", "STATE", "AGE_YRS", "SEX", "SYMPTOM_TEXT", "DIED", "DATEDIED", "L_THREAT",
     "ER_VISIT", "HOSPITAL", "HOSPDAYS", "X_STAY", "DISABLE", "RECOVD", "VAX_DATE", "ONSET_DATE", "NUMDAYS",
     "LAB_DATA", "V_ADMINBY", "V_FUNDBY", "OTHER_MEDS", "CUR_ILL", "HISTORY", "PRIOR_VAX", "SPLTTYPE",
     "FORM_VERS", "TODAYS_DATE", "BIRTH_DEFECT", "OFC_VISIT", "ER_ED_VISIT", "ALLERGIES"],
    ["916600", "01/01/2021", "TX", "33.0", "F", "Right side of epiglottis swelled up.", "", "", "", "", "", "",
     "", "", "Y", "12/28/2020", "12/30/2020", "2", "", "PVT", "", "", "", "", "", "", "2", "01/01/2021",
     "Y", "Y", "Y", "Pcn"],
]
VAX_2021 = [
    ["VAERS_ID", "VAX_TYPE", "VAX_MANU", "VAX_LOT", "VAX_DOSE_SERIES", "VAX_ROUTE", "VAX_SITE", "VAX_NAME"],
    ["916600", "COVID19", "MODERNA", "037K20A", "1", "IM", "LA", "COVID19 (COVID19 (MODERNA))"],
]
SYMPTOMS_2021 = [
    ["VAERS_ID", "SYMPTOM1", "SYMPTOMVERSION1", "SYMPTOM2", "SYMPTOMVERSION2", "SYMPTOM3", "SYMPTOMVERSION3",
     "SYMPTOM4", "SYMPTOMVERSION4", "SYMPTOM5", "SYMPTOMVERSION5"],
    ["916600", "Dysphagia", "23.1", "Epiglottitis", "23.1", "", "", "", "", "", ""],
]


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("latin-1")


def make_zip(path: Path, year: str, data: list, vax: list, symptoms: list, lower: bool = False) -> Path:
    names = [f"{year}VAERSDATA.csv", f"{year}VAERSVAX.csv", f"{year}VAERSSYMPTOMS.csv"]
    if lower:
        names = [n.lower() for n in names]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, rows in zip(names, (data, vax, symptoms), strict=True):
            zf.writestr(name, _csv_bytes(rows))
    return path


@pytest.fixture
def zip2004(tmp_path: Path) -> Path:
    return make_zip(tmp_path / "2004VAERSData.zip", "2004", DATA_2004, VAX_2004, SYMPTOMS_2004)


@pytest.fixture
def zip2021(tmp_path: Path) -> Path:
    return make_zip(tmp_path / "2021VAERSData.zip", "2021", DATA_2021, VAX_2021, SYMPTOMS_2021, lower=True)


def test_2004_layout_maps_fields_and_outcome(zip2004: Path) -> None:
    report = LoadReport("vaers")
    records = {r.dossier.id: r for r in iter_vaers_records([zip2004], report)}
    assert list(records) == ["vaers:214577", "vaers:25003", "vaers:214579"]

    first = records["vaers:214577"]
    d, f = first.dossier, first.dossier.fields
    assert (d.type, d.source, d.language) == ("pv", "vaers", "en")
    assert d.text == "Rash and swelling after the vaccine."
    assert d.received_at.isoformat() == "2004-01-02"
    assert f.patient_age == 29.0 and f.patient_sex == "F"
    assert f.symptoms == ["Cellulitis", "Rash", "Swelling"]  # both SYMPTOMS rows, de-duplicated, in order
    assert f.vaccine_types == ["VARCEL"] and f.manufacturers == ["MERCK & CO. INC."]
    assert f.products[0].model_dump(exclude_none=True) == {
        "name": "VARICELLA (VARIVAX)", "role": "suspect", "vaccine_type": "VARCEL",
        "manufacturer": "MERCK & CO. INC.", "lot": "0476N", "dose": "1", "route": "SC", "site": "RA",
    }
    assert (f.vaccination_date.isoformat(), f.onset_date.isoformat(), f.onset_days) == (
        "2003-12-24", "2003-12-25", 1.0)
    assert f.current_illness == "NONE"  # "none" is a statement, kept
    assert f.medical_history is None  # "UNK" says nothing
    assert f.other_medications is None  # "" is null
    assert (f.administered_by, f.funded_by, f.region, f.country) == ("PVT", "OTH", "MA", "US")
    assert "VARICELLA (VARIVAX)" in d.title and "Cellulitis" in d.title
    assert first.outcome == {
        # tick boxes left blank are false; RECOVD "U" is unknown; no BIRTH_DEFECT column in 2004 → null
        "died": False, "date_died": None, "life_threatening": False, "hospitalised": True, "hospital_days": 3.0,
        "prolonged_hospitalisation": False, "disability": False, "er_visit": False, "recovered": None,
        "congenital_anomaly": None,
    }

    died = records["vaers:25003"]  # leading zeros dropped, joined with "25003" and "025003" rows
    assert [p.vaccine_type for p in died.dossier.fields.products] == ["DTP", "OPV"]
    assert died.dossier.fields.manufacturers == ["LEDERLE LABORATORIES"]  # UNKNOWN MANUFACTURER → null
    assert "Café" in died.dossier.text  # latin-1 decoded
    assert died.dossier.fields.lab_data == "Autopsy: edema"  # kept as input, documented as off-limits
    assert died.outcome["died"] is True and died.outcome["date_died"] == "1990-02-10"
    assert died.outcome["life_threatening"] is True and died.outcome["recovered"] is False
    assert died.dossier.fields.patient_sex == "M" and died.dossier.fields.report_type == "WAES9001"

    third = records["vaers:214579"]
    assert third.dossier.fields.patient_sex is None  # "U"
    assert third.dossier.fields.region is None and third.dossier.fields.patient_age is None
    assert third.outcome["er_visit"] is True and third.outcome["prolonged_hospitalisation"] is True
    assert third.outcome["disability"] is True and third.outcome["recovered"] is True
    assert third.outcome["congenital_anomaly"] is None  # the 2004 layout has no BIRTH_DEFECT


def test_every_skipped_row_is_counted_with_a_french_reason(zip2004: Path) -> None:
    report = LoadReport("vaers")
    written = list(iter_vaers_records([zip2004], report))
    assert len(written) == 3
    assert report.read == 6
    assert report.skipped == {SKIP_DUPLICATE: 1, SKIP_BAD_ID: 1, SKIP_MALFORMED: 1}
    assert report.read == report.written + report.skipped_total
    assert report.files and all("2004VAERS" in f for f in report.files)


def test_later_layout_loads_by_header_name(zip2021: Path) -> None:
    [rec] = list(iter_vaers_records([zip2021]))
    assert rec.dossier.id == "vaers:916600"
    assert rec.outcome["congenital_anomaly"] is True  # BIRTH_DEFECT
    assert rec.outcome["er_visit"] is True  # ER_ED_VISIT of the newer form
    assert rec.dossier.fields.products[0].dose == "1"  # VAX_DOSE_SERIES
    assert rec.dossier.fields.symptoms == ["Dysphagia", "Epiglottitis"]
    VaersOutcome.model_validate(rec.outcome)


def test_several_zips_a_folder_and_loose_csvs(tmp_path: Path, zip2004: Path, zip2021: Path) -> None:
    both = [r.dossier.id for r in iter_vaers_records([zip2004, zip2021])]
    assert both[-1] == "vaers:916600" and len(both) == 4
    assert [r.dossier.id for r in iter_vaers_records([tmp_path])] == both  # folder of zips, sorted
    loose = tmp_path / "loose"
    loose.mkdir()
    with zipfile.ZipFile(zip2021) as zf:
        zf.extractall(loose)
    csvs = sorted(loose.iterdir())
    assert [r.dossier.id for r in iter_vaers_records(csvs)] == ["vaers:916600"]
    assert [r.dossier.id for r in iter_vaers_records([loose])] == ["vaers:916600"]


def test_windows_1252_quotes_and_undefined_bytes_decode(tmp_path: Path) -> None:
    data = _csv_bytes(DATA_2004[:2]).replace(b"Rash and swelling", b"\x93Rash\x94 and \x81swelling")
    path = tmp_path / "2004VAERSData.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("2004VAERSDATA.csv", data)
        zf.writestr("2004VAERSVAX.csv", _csv_bytes(VAX_2004))
        zf.writestr("2004VAERSSYMPTOMS.csv", _csv_bytes(SYMPTOMS_2004))
    [rec] = list(iter_vaers_records([path]))
    assert rec.dossier.text == "\u201cRash\u201d and \x81swelling after the vaccine."


def test_zip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vaers, "_MAX_MEMBER", 64 * 1024)  # the real bound (8 GiB) is too big for a test
    path = tmp_path / "2004VAERSData.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2004VAERSDATA.csv", _csv_bytes(DATA_2004[:1]) + b"0" * (1 * 2**20))
        zf.writestr("2004VAERSVAX.csv", _csv_bytes(VAX_2004))
        zf.writestr("2004VAERSSYMPTOMS.csv", _csv_bytes(SYMPTOMS_2004))
    with pytest.raises(InputTooLarge, match="anormalement volumineux"):
        list(iter_vaers_records([path]))


def test_limit_stops_early(zip2004: Path) -> None:
    report = LoadReport("vaers")
    assert len(list(iter_vaers_records([zip2004], report, limit=2))) == 2
    assert report.written == 2


def test_truncated_or_wrong_files_raise_french_errors(tmp_path: Path, zip2004: Path) -> None:
    truncated = tmp_path / "2003VAERSData.zip"
    truncated.write_bytes(zip2004.read_bytes()[:300])
    with pytest.raises(CorruptFile, match="tronqué ou corrompu"):
        list(iter_vaers_records([truncated]))
    with pytest.raises(InputError, match="introuvable"):
        list(iter_vaers_records([tmp_path / "absent.zip"]))
    other = tmp_path / "notes.txt"
    other.write_text("bonjour", encoding="utf-8")
    with pytest.raises(InputError, match="pas un fichier VAERS reconnu"):
        list(iter_vaers_records([other]))
    partial = tmp_path / "2005VAERSData.zip"
    with zipfile.ZipFile(partial, "w") as zf:
        zf.writestr("2005VAERSDATA.csv", _csv_bytes(DATA_2004))
    with pytest.raises(InputError, match="manquant"):
        list(iter_vaers_records([partial]))
    not_vaers = tmp_path / "2006VAERSData.zip"
    with zipfile.ZipFile(not_vaers, "w") as zf:
        for kind in ("DATA", "VAX", "SYMPTOMS"):
            zf.writestr(f"2006VAERS{kind}.csv", b"a,b\n1,2\n")
    with pytest.raises(CorruptFile, match="VAERS_ID"):
        list(iter_vaers_records([not_vaers]))


def test_document_metadata_is_chroma_scalar(zip2004: Path) -> None:
    docs = {d.id: d for d in map(vaers_record_to_document, iter_vaers_records([zip2004]))}
    doc = docs["vaers:25003"]
    assert doc.kind == "case" and doc.source == "vaers" and doc.language == "en"
    assert doc.metadata["vaccine_types"] == "|DTP|OPV|"
    assert "|Death|" in doc.metadata["symptoms"]
    assert doc.metadata["serious"] is True and doc.metadata["died"] is True
    assert doc.metadata["year"] == 1990 and doc.metadata["sex"] == "M"
    assert doc.outcome == records_outcome(doc.outcome)
    assert docs["vaers:214579"].metadata["serious"] is True  # disability
    for d in docs.values():
        assert all(isinstance(v, str | int | float | bool) for v in d.metadata.values())


def records_outcome(outcome: dict | None) -> dict:
    assert outcome is not None
    return VaersOutcome.model_validate(outcome).model_dump(mode="json")


def test_json_line_keys(zip2004: Path) -> None:
    row = record_to_json(next(iter_vaers_records([zip2004])))
    assert list(row) == ["id", "type", "title", "text", "received_at", "language", "source", "fields", "outcome"]
    assert "died" not in row["fields"] and "hospitalised" not in row["fields"]


@pytest.mark.corpora
def test_real_1990_zip_joins_vax_and_symptoms(corpora_dir: Path) -> None:
    report = LoadReport("vaers")
    records = list(iter_vaers_records([corpora_dir / "vaers" / "1990VAERSData.zip"], report))
    assert len(records) == 2106 and report.skipped_total == 0
    assert all(r.dossier.fields.products for r in records)  # "025001" ids join across the three files
    assert sum(1 for r in records if r.dossier.fields.symptoms) >= 2100
    assert all(r.dossier.id.startswith("vaers:") and not r.dossier.id.startswith("vaers:0") for r in records)
