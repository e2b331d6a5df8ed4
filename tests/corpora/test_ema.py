"""EMA loaders: EPAR table (xlsx or CSV) with outcomes kept apart, and the JSON outputs as documents."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from corpora.errors import CorruptFile, EncodingProblem, InputError
from corpora.loaders.base import LoadReport
from corpora.loaders.cells import split_top_level
from corpora.loaders.ema_epar import (
    SKIP_DUPLICATE,
    SKIP_NO_NUMBER,
    SKIP_VETERINARY,
    epar_record_to_document,
    iter_epar_records,
)
from corpora.loaders.ema_json import EMA_JSON_SOURCES, ema_facts_by_substance, iter_ema_documents
from corpora.model import SOURCE_KINDS, EparOutcome

HEADER = [
    "Category", "Medicine name", "Therapeutic area", "International non-proprietary name (INN) / common name",
    "Active substance", "Product number", "Patient safety", "Authorisation status", "ATC code",
    "Additional monitoring", "Generic", "Biosimilar", "Conditional approval", "Exceptional circumstances",
    "Accelerated assessment", "Orphan medicine", "Marketing authorisation date",
    "Date of refusal of marketing authorisation", "Marketing authorisation holder/company name",
    "Human pharmacotherapeutic group", "Vet pharmacotherapeutic group", "Date of opinion", "Decision date",
    "Revision number", "Condition / indication", "Species", "ATCvet code", "First published", "Revision date",
    "URL",
]
OUTCOME_KEYS = set(EparOutcome.model_fields)


def _row(**values: object) -> list[object]:
    base: dict[str, object] = {h: None for h in HEADER}
    base.update({"Patient safety": "no", "Additional monitoring": "no", "Generic": "no", "Biosimilar": "no",
                 "Conditional approval": "no", "Exceptional circumstances": "no",
                 "Accelerated assessment": "no", "Orphan medicine": "no"})
    for key, value in values.items():
        base[key.replace("_", " ")] = value
    return [base[h] for h in HEADER]


ROWS = [
    [
        "Human", "Xeljanz", "Arthritis; Rheumatoid", "tofacitinib", "Tofacitinib", "EMEA/H/C/004214", "yes",
        "Authorised", "L04AA29", "yes", "no", "no", "yes", "no", "no", "no", datetime(2017, 3, 22, 1, 0),
        datetime(2013, 4, 25), "Pfizer Europe MA EEIG", "Immunosuppressants", None, datetime(2013, 7, 24),
        datetime(2023, 3, 10), 27, "Rheumatoid arthritis: tofacitinib is indicated in adults.", None, None,
        datetime(2018, 6, 25), datetime(2023, 6, 12), "https://www.ema.europa.eu/en/medicines/human/EPAR/xeljanz",
    ],
    _row(Category="Human", **{"Medicine name": "Refusalix", "Product number": "EMEA/H/C/000999",
                              "Active substance": "foo acid, bar (as sulfate, hydrate)",
                              "Authorisation status": "Refused", "ATC code": "Not yet assigned",
                              "Date of opinion": datetime(2012, 5, 3), "Orphan medicine": "yes",
                              "Date of refusal of marketing authorisation": datetime(2012, 9, 1)}),
    _row(Category="Veterinary", **{"Medicine name": "Dogmed", "Product number": "EMEA/V/C/000111"}),
    _row(Category="Human", **{"Medicine name": "No number"}),
    _row(Category="Human", **{"Medicine name": "Xeljanz again", "Product number": "EMEA/H/C/004214"}),
]


def make_xlsx(path: Path, rows: list[list[object]] = ROWS, header: list[str] = HEADER, titles: int = 8) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(titles):
        ws.append(["Medicines output: European public assessment reports" if i == 0 else None])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


@pytest.fixture
def xlsx(tmp_path: Path) -> Path:
    return make_xlsx(tmp_path / "epar.xlsx")


def test_xlsx_human_rows_with_outcome_apart(xlsx: Path) -> None:
    report = LoadReport("ema-epar")
    records = list(iter_epar_records(xlsx, report))
    assert [r.dossier.id for r in records] == ["ema-epar:EMEA/H/C/004214", "ema-epar:EMEA/H/C/000999"]
    assert report.skipped == {SKIP_VETERINARY: 1, SKIP_NO_NUMBER: 1, SKIP_DUPLICATE: 1}
    assert report.read == 5 and report.written == 2

    x = records[0]
    d, f = x.dossier, x.dossier.fields
    assert (d.type, d.language, d.source, d.title) == ("amm", "en", "ema-epar", "Xeljanz")
    assert d.text.startswith("Rheumatoid arthritis") and f.indication == d.text
    assert d.received_at.isoformat() == "2012-07-24"  # submission proxy: opinion (2013-07-24) − 365 days
    assert f.inn == "tofacitinib" and f.substances == ["Tofacitinib"] and f.atc_codes == ["L04AA29"]
    assert f.therapeutic_area == "Arthritis; Rheumatoid" and f.pharmacotherapeutic_group == "Immunosuppressants"
    assert (f.generic, f.biosimilar, f.orphan, f.accelerated_assessment) == (False, False, False, False)
    assert f.atmp is None and f.prime is None  # columns absent from this layout
    assert f.marketing_authorisation_holder == "Pfizer Europe MA EEIG"
    assert (f.product_number, f.procedure) == ("EMEA/H/C/004214", "centralised")
    assert x.outcome == {"authorisation_status": "Authorised", "additional_monitoring": True,
                         "conditional_approval": True, "exceptional_circumstances": False}
    dumped = d.fields.model_dump()
    assert not OUTCOME_KEYS & {k for k, v in dumped.items() if v is not None}

    refused = records[1]
    assert refused.dossier.received_at.isoformat() == "2011-05-04"  # opinion − 365 days
    assert refused.dossier.fields.substances == ["foo acid", "bar (as sulfate, hydrate)"]
    assert refused.dossier.fields.atc_codes is None and refused.dossier.fields.orphan is True
    assert refused.outcome["authorisation_status"] == "Refused"


def test_csv_with_same_headers_and_newer_layout_aliases(tmp_path: Path) -> None:
    path = tmp_path / "epar.csv"
    header = ["Category", "Name of medicine", "EMA product number", "Medicine status", "Active substance",
              "Therapeutic indication", "Generic or hybrid", "Advanced therapy", "PRIME: priority medicine",
              "Marketing authorisation date", "Additional monitoring"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(header)
        w.writerow(["Human", "Zolgensma", "EMEA/H/C/004750", "Authorised", "onasemnogène abéparvovec",
                    "Treatment of spinal muscular atrophy.", "No", "Yes", "Yes", "18/05/2020", "Yes"])
    [rec] = list(iter_epar_records(path))
    f = rec.dossier.fields
    # no opinion date: submission proxy = MA date − 432 days
    assert rec.dossier.title == "Zolgensma" and rec.dossier.received_at.isoformat() == "2019-03-13"
    assert (f.generic, f.atmp, f.prime) == (False, True, True)
    assert f.substances == ["onasemnogène abéparvovec"]  # accents intact
    assert rec.outcome["authorisation_status"] == "Authorised" and rec.outcome["additional_monitoring"] is True


def test_bad_epar_inputs_raise_french_errors(tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(CorruptFile, match="classeur xlsx"):
        list(iter_epar_records(fake))
    headerless = make_xlsx(tmp_path / "other.xlsx", rows=[["a", "b"]], header=["Foo", "Bar"])
    with pytest.raises(CorruptFile, match="en-tête EPAR introuvable"):
        list(iter_epar_records(headerless))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Category,Medicine name,Product number\nHuman,Café,EMEA/H/C/1\n".encode("latin-1"))
    with pytest.raises(EncodingProblem, match="UTF-8"):
        list(iter_epar_records(latin))
    with pytest.raises(InputError, match="introuvable"):
        list(iter_epar_records(tmp_path / "absent.xlsx"))
    pdf = tmp_path / "epar.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(InputError, match="format non reconnu"):
        list(iter_epar_records(pdf))
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(make_xlsx(tmp_path / "full.xlsx").read_bytes()[:2000])
    with pytest.raises(CorruptFile):
        list(iter_epar_records(truncated))


def test_hostile_xml_in_xlsx_is_refused(tmp_path: Path, xlsx: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    payload = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
               b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')
    with zipfile.ZipFile(xlsx) as src, zipfile.ZipFile(bomb, "w") as dst:
        for info in src.infolist():
            data = payload if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            dst.writestr(info, data)
    with pytest.raises(CorruptFile):
        list(iter_epar_records(bomb))


def test_epar_document(xlsx: Path) -> None:
    doc = epar_record_to_document(next(iter_epar_records(xlsx)))
    assert doc.kind == SOURCE_KINDS["ema-epar"] and doc.id == "ema-epar:EMEA/H/C/004214"
    assert doc.metadata["substances"] == "|tofacitinib|" and doc.metadata["atc_codes"] == "|L04AA29|"
    assert doc.metadata["authorisation_status"] == "Authorised" and doc.metadata["year"] == 2012
    assert "Indication:" in doc.text and doc.outcome["conditional_approval"] is True
    assert all(isinstance(v, str | int | float | bool) for v in doc.metadata.values())


def test_helpers() -> None:
    assert split_top_level("a (x, y), b; c") == ["a (x, y)", "b", "c"]


def _write_json_outputs(folder: Path) -> None:
    rows = {
        "ema-referral": [
            {"category": "Human", "referral_name": "Valproate", "reference_number": "EMEA/H/A-31/1454",
             "international_non_proprietary_name_inn_common_name": "valproic acid;Sodium Valproate",
             "safety_referral": "Yes", "referral_type": "Article 31 referrals",
             "current_status": "European Commission final decision", "procedure_start_date": "09/03/2017"},
            {"category": "Veterinary", "referral_name": "Same number", "reference_number": "EMEA/H/A-31/1454",
             "international_non_proprietary_name_inn_common_name": "", "safety_referral": "No"},
        ],
        "ema-psusa": [
            {"category": "", "active_substances_in_scope_of_procedure": "valproic acid", "procedure_number":
             "PSUSA/00003090/202405", "regulatory_outcome": "Variation", "first_published_date": "19/12/2024"},
            {"category": "Human", "active_substance": "x", "procedure_number": "", "regulatory_outcome": ""},
        ],
        "ema-dhpc": [{"category": "Human", "name_of_medicine": "Tranexamic acid", "procedure_number": "",
                      "active_substances": "tranexamic acid", "dhpc_type": "Adverse event;Quality defect",
                      "regulatory_outcome": "Variation", "dissemination_date": "11/12/2025",
                      "dhpc_url": "https://www.ema.europa.eu/en/medicines/dhpc/tranexamic-acid"}],
        "ema-postauth": [{"category": "Human", "name_of_medicine": "Hetlioz", "ema_product_number":
                          "EMEA/H/C/003870", "active_substance": "tasimelteon",
                          "post_authorisation_opinion_status": "Negative", "orphan_medicine": "Yes"}],
        "ema-orphan": [{"active_substance": "carfilzomib", "eu_designation_number": "EU/3/08/548",
                        "status": "Expired", "intended_use": "Treatment of multiple myeloma",
                        "date_of_designation_or_refusal": "03/06/2008"}],
        "ema-shortage": [{"category": "Human", "medicine_affected": "Fiasp", "supply_shortage_status": "Ongoing",
                          "international_non_proprietary_name_inn_or_common_name": "insulin aspart",
                          "shortage_url": "https://www.ema.europa.eu/en/medicines/human/shortages/fiasp"}],
    }
    for source, items in rows.items():
        filename = EMA_JSON_SOURCES[source][0]
        (folder / filename).write_text(json.dumps(items), encoding="utf-8")


def test_json_outputs_become_documents(tmp_path: Path) -> None:
    _write_json_outputs(tmp_path)
    reports: dict[str, LoadReport] = {}
    docs = list(iter_ema_documents(tmp_path, reports))
    by_id = {d.id: d for d in docs}
    assert len(by_id) == len(docs)
    assert set(reports) == set(EMA_JSON_SOURCES)
    assert reports["ema-psusa"].skipped == {"identifiant manquant": 1}
    assert all(r.read == r.written + r.skipped_total for r in reports.values())

    ref = by_id["ema-referral:EMEA/H/A-31/1454"]
    assert ref.kind == "referral" and ref.metadata["safety_referral"] is True
    assert ref.metadata["substances"] == "|valproic acid|sodium valproate|"
    assert ref.received_at.isoformat() == "2017-03-09" and "Article 31" in ref.text
    assert by_id["ema-referral:EMEA/H/A-31/1454~2"].metadata["category"] == "Veterinary"  # counter suffix
    psusa = by_id["ema-psusa:PSUSA/00003090/202405"]
    assert psusa.kind == "psusa" and psusa.outcome == {"regulatory_outcome": "Variation"}
    assert psusa.metadata["regulatory_outcome"] == "Variation"
    dhpc = by_id["ema-dhpc:tranexamic-acid/2025-12-11"]  # slug + dissemination date
    assert dhpc.kind == "dhpc" and dhpc.metadata["dhpc_type"] == "|Adverse event|Quality defect|"
    assert by_id["ema-postauth:EMEA/H/C/003870"].kind == "opinion"
    assert by_id["ema-orphan:EU/3/08/548"].kind == "product"
    assert by_id["ema-shortage:fiasp"].kind == "product"
    for d in docs:
        assert d.language == "en" and d.kind == SOURCE_KINDS[d.source]
        assert all(isinstance(v, str | int | float | bool) for v in d.metadata.values())
    facts = ema_facts_by_substance(tmp_path)
    assert {d.source for d in facts["valproic acid"]} == {"ema-referral", "ema-psusa"}


def test_json_errors(tmp_path: Path) -> None:
    (tmp_path / EMA_JSON_SOURCES["ema-dhpc"][0]).write_text("{not json", encoding="utf-8")
    with pytest.raises(CorruptFile, match="JSON invalide"):
        list(iter_ema_documents(tmp_path))
    with pytest.raises(InputError, match="introuvable"):
        list(iter_ema_documents(tmp_path / "absent"))


@pytest.mark.corpora
def test_real_epar_table(corpora_dir: Path) -> None:
    report = LoadReport("ema-epar")
    records = list(iter_epar_records(
        corpora_dir / "ema" / "Medicines_output_european_public_assessment_reports.xlsx", report))
    assert len(records) == 1466 and report.skipped == {SKIP_VETERINARY: 282}
    assert len({r.dossier.id for r in records}) == 1466
    for r in records:
        assert r.dossier.type == "amm" and r.dossier.id.startswith("ema-epar:EMEA/H/")
        assert set(r.outcome) == OUTCOME_KEYS
        assert not OUTCOME_KEYS & set(r.dossier.fields.model_dump(exclude_none=True))
    assert sum(r.dossier.received_at is not None for r in records) >= 1460
    statuses = {r.outcome["authorisation_status"] for r in records}
    assert {"Authorised", "Withdrawn", "Refused"} <= statuses


@pytest.mark.corpora
def test_real_json_outputs(corpora_dir: Path) -> None:
    reports: dict[str, LoadReport] = {}
    docs = list(iter_ema_documents(corpora_dir / "ema", reports))
    counts = {s: r.written for s, r in reports.items()}
    assert counts == {"ema-referral": 589, "ema-psusa": 2515, "ema-dhpc": 160, "ema-postauth": 131,
                      "ema-orphan": 3138, "ema-shortage": 74}
    assert all(r.skipped_total == 0 for r in reports.values())
    assert len({d.id for d in docs}) == len(docs)
    assert sum(d.metadata.get("safety_referral") is True for d in docs) == 100
