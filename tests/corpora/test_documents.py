"""PDF, DOCX and CIOMS I intake: the project's sample files, variants of the form, and bad documents."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest

from corpora import cioms, seriousness
from corpora.errors import CorruptFile, InputError, InputTooLarge
from corpora.intake import parse_upload
from corpora.limits import IntakeLimits
from corpora.model import IntakeItem
from corpora.sample_files import (
    SAMPLE_FORM,
    CiomsCase,
    cioms_pdf,
    image_only_pdf,
    narrative_docx,
    text_pdf,
    write_samples,
)

SAMPLES = Path(__file__).resolve().parents[2] / "corpora" / "sample" / "files"


def _one(data: bytes, name: str, **kw: object) -> IntakeItem:
    [item] = parse_upload(data, filename=name, **kw)  # type: ignore[arg-type]
    return item


# --------------------------------------------------------------------------- CIOMS I

def _check_augmentin(item: IntakeItem) -> None:
    d, f = item.dossier, item.dossier.fields
    assert d.type == "pv" and d.id == "intake:FR-FICTIF-2026-0001" and d.language == "fr"
    assert d.text.startswith("Patiente de 67 ans ayant présenté une hépatite aiguë cytolytique")
    assert item.declared_seriousness == [seriousness.HOSPITALISATION]
    assert d.text.endswith("Critères de gravité déclarés par le notifiant : hospitalisation ou prolongation "
                           "d'hospitalisation.")
    assert f.patient_age == 67 and f.patient_sex == "F" and f.country == "FR"
    assert f.onset_date == date(2026, 3, 12) and f.onset_days == 15 and d.received_at == date(2026, 3, 15)
    assert f.products and f.products[0].name == "Augmentin 1 g/125 mg" and f.products[0].role == "suspect"
    assert f.products[0].substances == ["amoxicilline", "acide clavulanique"] and f.products[0].lot == "AB1234"
    assert f.products[0].dose == "3 g par jour" and f.products[0].route == "orale"
    assert f.substances == ["amoxicilline", "acide clavulanique"] and f.indication == "Sinusite aiguë"
    assert f.other_medications == "Ramipril 5 mg depuis 2019"
    assert f.medical_history == "Hypertension artérielle. Pas d'antécédent hépatique connu."
    assert f.manufacturers == ["Laboratoire Fictif SAS"] and f.report_type == "CIOMS I (initial)"
    assert item.details["form"] == "CIOMS I" and item.details["ticked"] == ["hosp"]
    # The narrative's span sits on page 1; the initials (identifying) are not in the dossier.
    assert item.pages and item.pages[0]["page"] == 1 and "M.D." not in d.model_dump_json()


def test_sample_cioms_form_fields() -> None:
    item = _one((SAMPLES / "cioms_i_champs.pdf").read_bytes(), "cioms_i_champs.pdf")
    assert item.details["read_from"] == "fields"
    _check_augmentin(item)


@pytest.mark.parametrize(("fields", "names", "french"), [(True, "opaque", False), (False, "labels", False),
                                                         (False, "labels", True), (True, "labels", True)])
def test_cioms_variants_give_the_same_dossier(fields: bool, names: str, french: bool) -> None:
    """Fields with meaningless names (placed by position), flattened, French labels: one mapping."""
    item = _one(cioms_pdf(SAMPLE_FORM, fields=fields, field_names=names, french=french), "cioms.pdf")
    _check_augmentin(item)


def test_sample_flattened_cioms() -> None:
    item = _one((SAMPLES / "cioms_i_aplati.pdf").read_bytes(), "cioms_i_aplati.pdf")
    d, f = item.dossier, item.dossier.fields
    assert item.details["read_from"] == "flattened" and d.language == "en"
    assert d.text.startswith("44-year-old man who developed Stevens-Johnson syndrome")
    assert item.declared_seriousness == [seriousness.LIFE_THREATENING, seriousness.HOSPITALISATION]
    assert f.products and f.products[0].name == "LAMICTAL 25 mg tablets" and f.substances == ["lamotrigine"]
    assert f.patient_age == 44 and f.patient_sex == "M" and f.other_medications == "Sodium valproate 1 g daily"
    boxes = item.details["boxes"]
    assert boxes["dechallenge"] == "YES" and boxes["rechallenge"] == "NA" and boxes["source"] == "HEALTH PROFESSIONAL"
    # Label residue ("(exclude those used to treat reaction)", "Years", "STOPPING DRUG?") never becomes a value.
    assert not any("exclude" in v or "STOPPING" in v or v == "Years" for v in boxes.values())


def test_cioms_continuation_page_and_missing_boxes() -> None:
    case = CiomsCase(describe="Fièvre à 40 °C et convulsions (suite en page 2).", ticks=("death", "other"),
                     suspect="", age="", birth="", sex="", country="")
    data = cioms_pdf(case, fields=False, extra_pages=["Le patient est décédé le 14 mars malgré la réanimation."])
    item = _one(data, "suite.pdf")
    d = item.dossier
    assert item.declared_seriousness == [seriousness.DEATH, seriousness.OTHER]
    assert "décédé le 14 mars" in d.text
    spans = [(p["page"], d.text[p["start"]:p["end"]]) for p in item.pages]
    assert spans[0][0] == 1 and spans[0][1].startswith("Fièvre à 40 °C")
    assert spans[1][0] == 2 and "décédé le 14 mars" in spans[1][1]
    # The declared-seriousness sentence stands for the ticks of boxes 8-12: it points to the form's page.
    assert spans[2] == (1, seriousness.declared_sentence([seriousness.DEATH, seriousness.OTHER]))
    assert d.fields.patient_age is None and d.fields.patient_sex is None and d.fields.products is None
    assert any("case 14" in w for w in item.warnings)


def test_cioms_form_is_pv_only() -> None:
    with pytest.raises(InputError, match="type « pv » attendu"):
        parse_upload((SAMPLES / "cioms_i_champs.pdf").read_bytes(), filename="c.pdf", declared_type="amm")


def test_label_recognition_and_values() -> None:
    assert cioms.match_label("14. SUSPECT DRUG(S) (include generic name)").key == "suspect"  # type: ignore[union-attr]
    assert cioms.match_label("þ INVOLVED OR PROLONGED INPATIENT HOSPITALISATION").tick is True  # type: ignore[union-attr]
    assert cioms.match_label("7+13 DÉCRIRE LA (LES) RÉACTION(S)").key == "describe"  # type: ignore[union-attr]
    assert cioms.match_label("24b. MAH CONTROL NO.").key == "control_no"  # type: ignore[union-attr]
    # A narrative line starting like a label is not one.
    assert cioms.match_label("Hospitalisation en réanimation pendant trois jours puis retour à domicile") is None
    assert cioms.parse_date("12-MAR-2026") == date(2026, 3, 12) == cioms.parse_date("12 mars 2026")
    assert cioms.parse_date("12/03/2026") == date(2026, 3, 12) and cioms.parse_date("UNK") is None
    assert cioms.parse_age("4 mois") == pytest.approx(0.33) and cioms.parse_age("67 Years") == 67
    assert cioms.parse_sex("Féminin") == "F" and cioms.parse_sex("MALE") == "M"
    assert cioms.split_items("1) Doliprane\n2) Advil\ncomprimés") == ["Doliprane", "Advil comprimés"]


def test_docx_cioms_table() -> None:
    rows = [["1. PATIENT INITIALS", "1a. COUNTRY", "2a. AGE", "3. SEX"], ["X.Y.", "FRANCE", "5 ans", "M"],
            ["7+13 DESCRIBE REACTION(S)", "Urticaire géante après amoxicilline, résolutive en 48 heures.", "", ""],
            ["14. SUSPECT DRUG(S)", "Clamoxyl 250 mg/5 mL (amoxicilline)", "", ""],
            ["[X] OTHER MEDICALLY IMPORTANT CONDITION", "[ ] PATIENT DIED", "", ""]]
    data = narrative_docx([["CIOMS FORM — SUSPECT ADVERSE REACTION REPORT"]], table=rows)
    item = _one(data, "cioms.docx")
    assert item.details["form"] == "CIOMS I" and item.details["format"] == "docx"
    assert item.dossier.text.startswith("Urticaire géante après amoxicilline")
    assert item.declared_seriousness == [seriousness.OTHER]
    assert item.dossier.fields.products[0].substances == ["amoxicilline"]  # type: ignore[index]


# --------------------------------------------------------------------------- narratives

def test_docx_narrative_pages_map_offsets() -> None:
    item = _one((SAMPLES / "recit_pv.docx").read_bytes(), "recit_pv.docx")
    text = item.dossier.text
    assert item.details == {"format": "docx"} and "Infanrix Hexa" in text
    assert [p["page"] for p in item.pages] == [1, 2]
    second = item.pages[1]
    assert text[second["start"]:second["end"]].startswith("Évolution : guérison sans séquelle")


def test_pdf_narrative_pages() -> None:
    data = text_pdf(["Patiente de 50 ans, éruption bulleuse sous allopurinol.", "Page 2 : guérison complète."])
    item = _one(data, "recit.pdf", declared_type="pv")
    text = item.dossier.text
    assert [text[p["start"]:p["end"]] for p in item.pages] == [
        "Patiente de 50 ans, éruption bulleuse sous allopurinol.", "Page 2 : guérison complète."]


# --------------------------------------------------------------------------- bad documents

def _zip_bomb_docx() -> bytes:
    good = io.BytesIO(narrative_docx([["Texte."]]))
    out = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("word/media/bombe.bin", b"\0" * (60 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "name", "error", "message"),
    [
        (lambda: text_pdf(["Texte."], encrypt_user_password="secret"), "p.pdf", CorruptFile,
         "protégé par un mot de passe"),
        (image_only_pdf, "scan.pdf", CorruptFile, "PDF sans texte : une reconnaissance de caractères est nécessaire"),
        (lambda: text_pdf(["Texte complet."])[:-200], "tronque.pdf", CorruptFile, "PDF tronqué"),
        (lambda: b"%PDF-1.7\n" + b"\x07garbage" * 500 + b"\n%%EOF\n", "corrompu.pdf", CorruptFile, "PDF illisible"),
        (lambda: b"%PDF-1.7\n" + b"0" * (50 * 1024 * 1024) + b"\n%%EOF\n", "gros.pdf", InputTooLarge,
         "PDF trop volumineux"),
        (lambda: narrative_docx([["Texte."]])[:-300], "tronque.docx", CorruptFile, "illisible"),
        (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "chiffre.docx", CorruptFile, "chiffré"),
        (_zip_bomb_docx, "bombe.docx", InputTooLarge, "bombe de décompression"),
        (lambda: b"PK\x03\x04 pas vraiment un zip", "faux.docx", CorruptFile, "illisible"),
    ],
)
def test_bad_documents_one_french_message(make, name: str, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message) as info:
        parse_upload(make(), filename=name)
    assert info.value.http_status in (413, 422)


def test_encrypted_pdf_with_empty_user_password_opens() -> None:
    # Permissions-only encryption (empty user password) is common on real forms: it must open.
    item = _one(text_pdf(["Patient de 70 ans, hyponatrémie sous indapamide."], encrypt_user_password=""), "p.pdf")
    assert "hyponatrémie" in item.dossier.text


def test_page_limit() -> None:
    with pytest.raises(InputTooLarge, match="PDF trop long, 3 pages"):
        parse_upload(text_pdf(["a", "b", "c"]), filename="long.pdf", limits=IntakeLimits(max_pages=2))


def test_sample_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    """The committed samples are reproducible: their intake equals that of freshly generated ones."""
    for path in write_samples(tmp_path):
        fresh = parse_upload(path.read_bytes(), filename=path.name)
        kept = parse_upload((SAMPLES / path.name).read_bytes(), filename=path.name)
        assert [i.dossier for i in fresh] == [i.dossier for i in kept]
