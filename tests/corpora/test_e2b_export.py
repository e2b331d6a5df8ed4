"""VAERS → ICH E2B(R3) → Dossier gives the direct conversion back; the export's element paths; the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_vaers import make_zip  # the tiny 2004-layout VAERS builder (same folder)
from typer.testing import CliRunner

from corpora.e2b import parse_xml_root
from corpora.e2b_export import NOT_EXPORTED, batch_xml, read_records
from corpora.intake import parse_upload
from corpora.loaders.vaers import iter_vaers_records
from corpora.model import Record


def _comparable(record: Record) -> dict[str, Any]:
    """The dossier minus what E2B(R3) cannot carry (documented in corpora.e2b_export) and its id prefix."""
    d = record.dossier.model_dump(mode="json", exclude={"id", "source"})
    for key in NOT_EXPORTED:
        d["fields"][key] = None
    for product in d["fields"]["products"] or []:
        product["site"] = None
    return d


def _round_trip(records: list[Record]) -> list[Record]:
    back = read_records("".join(batch_xml(records)))
    assert len(back) == len(records)
    for direct, via in zip(records, back, strict=True):
        assert via.dossier.id == "intake:US-VAERS-" + direct.dossier.id.split(":", 1)[1]
        assert _comparable(via) == _comparable(direct), direct.dossier.id
        for key in ("died", "life_threatening", "disability", "recovered", "date_died"):
            assert via.outcome.get(key) == (direct.outcome or {}).get(key), (direct.dossier.id, key)  # type: ignore[union-attr]
    return back


def test_round_trip_on_real_vaers_year(corpora_dir: Path) -> None:
    """200 reports of VAERS 2004 (bounded for CI): every Dossier field E2B(R3) can carry comes back equal."""
    records = list(iter_vaers_records([corpora_dir / "vaers" / "2004VAERSData.zip"], limit=200))
    assert len(records) == 200
    back = _round_trip(records)
    assert sum(bool(r.dossier.fields.products) for r in back) == 200


@pytest.fixture
def tiny_vaers(tmp_path: Path) -> Path:
    header = ["VAERS_ID", "RECVDATE", "STATE", "AGE_YRS", "SEX", "SYMPTOM_TEXT", "DIED", "DATEDIED", "L_THREAT",
              "ER_VISIT", "HOSPITAL", "HOSPDAYS", "X_STAY", "DISABLE", "RECOVD", "VAX_DATE", "ONSET_DATE",
              "NUMDAYS", "LAB_DATA", "V_ADMINBY", "V_FUNDBY", "OTHER_MEDS", "CUR_ILL", "HISTORY", "PRIOR_VAX",
              "SPLTTYPE"]
    data = [header,
            ["0251", "01/05/2004", "CA", "0.5", "F", "Fever 39.5 C and seizure 6 hours after DTaP; ER visit.", "",
             "", "", "Y", "Y", "2", "", "", "Y", "01/02/2004", "01/02/2004", "0", "CBC normal", "PVT", "PUB",
             "acetaminophen", "otitis media", "premature birth", "HepB 2003", "WAES0401USA"],
            ["0252", "02/11/2004", "", "71", "M", "Died of cardiac arrest two days after influenza vaccine.", "Y",
             "02/09/2004", "", "", "", "", "", "", "N", "02/07/2004", "02/09/2004", "2", "", "", "", "", "", "",
             "", ""]]
    vax = [["VAERS_ID", "VAX_TYPE", "VAX_MANU", "VAX_LOT", "VAX_DOSE", "VAX_ROUTE", "VAX_SITE", "VAX_NAME"],
           ["0251", "DTAP", "SANOFI PASTEUR", "U0987AA", "1", "IM", "LL", "DTAP (DAPTACEL)"],
           ["0251", "HEPB", "MERCK & CO. INC.", "", "2", "IM", "RL", "HEP B (RECOMBIVAX HB)"],
           ["0252", "FLU", "UNKNOWN MANUFACTURER", "", "", "", "", "INFLUENZA (FLUZONE)"]]
    symptoms = [["VAERS_ID", "SYMPTOM1", "SYMPTOM2"], ["0251", "Pyrexia", "Convulsion"], ["0252", "Cardiac arrest", ""]]
    return make_zip(tmp_path / "2004VAERSData.zip", "2004", data, vax, symptoms)


def test_round_trip_and_paths_on_a_tiny_year(tiny_vaers: Path) -> None:
    records = list(iter_vaers_records([tiny_vaers]))
    back = _round_trip(records)
    first = back[0].dossier.fields
    assert first.vaccine_types == ["DTAP", "HEPB"] and first.products[1].manufacturer == "MERCK & CO. INC."  # type: ignore[index]
    assert first.lab_data == "CBC normal" and first.prior_vaccinations == "HepB 2003"
    assert back[1].outcome == {"died": True, "life_threatening": False, "hospitalised": False, "disability": False,
                               "congenital_anomaly": None, "recovered": False, "date_died": "2004-02-09"}
    root = parse_xml_root("".join(batch_xml(records)))
    ns = "{urn:hl7-org:v3}"
    assert root.tag == f"{ns}MCCI_IN200100UV01"
    event = root.find(f"{ns}PORR_IN049016UV/{ns}controlActProcess/{ns}subject/{ns}investigationEvent")
    assert event is not None and event.find(f"{ns}id").get("extension") == "US-VAERS-251"  # type: ignore[union-attr]
    lot = event.find(f".//{ns}organizer/{ns}component/{ns}substanceAdministration/{ns}consumable/"
                     f"{ns}instanceOfKind/{ns}productInstanceInstance/{ns}lotNumberText")
    assert lot is not None and lot.text == "U0987AA"


def test_exported_icsr_is_triaged_with_declared_seriousness(tiny_vaers: Path) -> None:
    """At intake the same file's seriousness is reporter-declared: appended to the text, kept on the item."""
    xml = "".join(batch_xml(iter_vaers_records([tiny_vaers]))).encode()
    first, second = parse_upload(xml, filename="icsr.xml")
    assert first.declared_seriousness == ["hospitalisation ou prolongation d'hospitalisation"]
    assert second.dossier.text.endswith("Critères de gravité déclarés par le notifiant : décès.")


def test_cli_convert_to_e2b_then_triage(tiny_vaers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli.main import build_app

    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GDR_CORPORA_DIR", raising=False)
    out = tmp_path / "icsr.xml"
    runner = CliRunner()
    result = runner.invoke(build_app(), ["corpora", "convert", "vaers", str(tiny_vaers), "--to", "e2b", "--out",
                                         str(out)])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(build_app(), ["triage", str(out), "--json", "--no-precedents"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n") == 2 and '"critique"' in result.stdout
    bad = runner.invoke(build_app(), ["corpora", "convert", "vaers", str(tiny_vaers), "--to", "pdf", "--out",
                                      str(tmp_path / "x")])
    assert bad.exit_code == 2 and "Format de sortie inconnu" in bad.stderr
