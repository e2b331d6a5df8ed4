"""Project-written sample files of every intake format (fictitious cases), and the builders tests use.

``python -m corpora.sample_files [DIR]`` (default ``corpora/sample/files``) writes:

- ``cioms_i_champs.pdf`` — a CIOMS I form filled as AcroForm fields (form-field values, ticked boxes);
- ``cioms_i_aplati.pdf`` — a CIOMS I form flattened into the page (text and ticks drawn, no fields);
- ``recit_pv.docx`` — a French narrative over two pages, with a table;
- ``lot_pv.csv`` — a batch of French reports (semicolon-separated, UTF-8, documented columns);
- ``lot_pv.zip`` — a zip batch holding the files above and a JSON Lines file.

PDFs are written with pypdf only (text drawn with the standard Helvetica font in WinAnsi
encoding, boxes as rectangles, form fields as widget annotations), so no other PDF library is
needed. The layout follows the real CIOMS I form (boxes 1 to 25, see :mod:`corpora.cioms`).
All persons and cases are invented.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE_W, PAGE_H = 595.0, 842.0


# --------------------------------------------------------------------------- a tiny page canvas

def _pdf_string(text: str) -> str:
    out = []
    for byte in text.encode("cp1252", "replace"):
        ch = chr(byte)
        if ch in "\\()":
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return "(" + "".join(out) + ")"


@dataclass
class Canvas:
    """Drawing operations of one page; y is measured from the top of the page."""

    ops: list[str] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)

    def text(self, x: float, top: float, text: str, size: float = 7.0, bold: bool = False) -> None:
        font = "/F2" if bold else "/F1"
        for i, line in enumerate(text.split("\n")):
            y = PAGE_H - top - size - i * (size + 2)
            self.ops.append(f"BT {font} {size:g} Tf {x:.2f} {y:.2f} Td {_pdf_string(line)} Tj ET")

    def rect(self, x: float, top: float, w: float, h: float) -> None:
        self.ops.append(f"0.5 w {x:.2f} {PAGE_H - top - h:.2f} {w:.2f} {h:.2f} re S")

    def text_field(self, name: str, x: float, top: float, w: float, h: float, value: str) -> None:
        self.fields.append({"kind": "text", "name": name, "rect": (x, PAGE_H - top - h, x + w, PAGE_H - top),
                            "value": value})

    def check_field(self, name: str, x: float, top: float, size: float, on: bool) -> None:
        self.fields.append({"kind": "check", "name": name,
                            "rect": (x, PAGE_H - top - size, x + size, PAGE_H - top), "value": on})


def build_pdf(pages: Sequence[Canvas], *, encrypt_user_password: str | None = None) -> bytes:
    """A PDF of the given canvases (with their form fields as AcroForm widgets)."""
    from pypdf import PageObject, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        BooleanObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica"),
                             NameObject("/Encoding"): NameObject("/WinAnsiEncoding")})
    bold = DictionaryObject({**font, NameObject("/BaseFont"): NameObject("/Helvetica-Bold")})
    zapf = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/ZapfDingbats")})
    font_ref, bold_ref, zapf_ref = writer._add_object(font), writer._add_object(bold), writer._add_object(zapf)
    all_fields = ArrayObject()
    for canvas in pages:
        page = PageObject.create_blank_page(width=PAGE_W, height=PAGE_H)
        stream = DecodedStreamObject()
        stream.set_data("\n".join(canvas.ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): font_ref, NameObject("/F2"): bold_ref})})
        added = writer.add_page(page)
        annots = ArrayObject()
        for f in canvas.fields:
            rect = ArrayObject([FloatObject(v) for v in f["rect"]])
            widget = DictionaryObject({
                NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/T"): TextStringObject(f["name"]), NameObject("/Rect"): rect,
                NameObject("/F"): NumberObject(4), NameObject("/P"): added.indirect_reference,
            })
            if f["kind"] == "text":
                widget[NameObject("/FT")] = NameObject("/Tx")
                widget[NameObject("/V")] = TextStringObject(f["value"])
                widget[NameObject("/DA")] = TextStringObject("/Helv 7 Tf 0 g")
                widget[NameObject("/Ff")] = NumberObject(4096)  # multiline
            else:
                state = "/Oui" if f["value"] else "/Off"
                widget[NameObject("/FT")] = NameObject("/Btn")
                widget[NameObject("/V")] = NameObject(state)
                widget[NameObject("/AS")] = NameObject(state)
                size = f["rect"][2] - f["rect"][0]
                on = DecodedStreamObject()
                on.set_data(f"q BT /ZaDb {size * 0.8:.1f} Tf 1 1 Td (4) Tj ET Q".encode())
                on.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                           NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(size),
                                                             FloatObject(size)]),
                           NameObject("/Resources"): DictionaryObject({NameObject("/Font"): DictionaryObject(
                               {NameObject("/ZaDb"): zapf_ref})})})
                off = DecodedStreamObject()
                off.set_data(b"")
                off.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                            NameObject("/BBox"): on["/BBox"]})
                widget[NameObject("/AP")] = DictionaryObject({NameObject("/N"): DictionaryObject({
                    NameObject("/Oui"): writer._add_object(on), NameObject("/Off"): writer._add_object(off)})})
            ref = writer._add_object(widget)
            annots.append(ref)
            all_fields.append(ref)
        if annots:
            added[NameObject("/Annots")] = annots
    if all_fields:
        writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
            NameObject("/Fields"): all_fields, NameObject("/NeedAppearances"): BooleanObject(True),
            NameObject("/DA"): TextStringObject("/Helv 0 Tf 0 g"),
            NameObject("/DR"): DictionaryObject({NameObject("/Font"): DictionaryObject(
                {NameObject("/Helv"): font_ref, NameObject("/ZaDb"): zapf_ref})}),
        })
    if encrypt_user_password is not None:
        writer.encrypt(user_password=encrypt_user_password, owner_password="propriétaire-" + "x",
                       algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --------------------------------------------------------------------------- CIOMS I

@dataclass
class CiomsCase:
    """What a reporter writes on a CIOMS I form (fictitious)."""

    initials: str = "M.D."
    country: str = "FRANCE"
    birth: str = "14 05 1958"
    age: str = "67"
    sex: str = "F"
    onset: str = "12 03 2026"
    describe: str = ""
    ticks: tuple[str, ...] = ()  # death, hosp, disability, life, congenital, other
    suspect: str = ""
    dose: str = ""
    route: str = ""
    indication: str = ""
    therapy_dates: str = ""
    duration: str = ""
    dechallenge: str = "YES"
    rechallenge: str = "NA"
    concomitant: str = ""
    history: str = ""
    manufacturer: str = "Laboratoire Fictif SAS\n12 rue de l'Exemple, 75000 Paris"
    control_no: str = "FR-FICTIF-2026-0001"
    received: str = "15 03 2026"
    source: str = "HEALTH PROFESSIONAL"
    report_date: str = "20 03 2026"
    report_type: str = "INITIAL"


_EN = {
    "title": "CIOMS FORM", "subtitle": "SUSPECT ADVERSE REACTION REPORT", "s1": "I. REACTION INFORMATION",
    "initials": "1. PATIENT INITIALS\n(first, last)", "country": "1a. COUNTRY",
    "birth": "2. DATE OF BIRTH\nDay Month Year",
    "age": "2a. AGE\nYears", "sex": "3. SEX", "onset": "4-6 REACTION ONSET\nDay Month Year",
    "check": "8-12 CHECK ALL\nAPPROPRIATE TO\nADVERSE REACTION",
    "describe": "7+13 DESCRIBE REACTION(S) (including relevant tests/lab data)",
    "death": "PATIENT DIED", "hosp": "INVOLVED OR PROLONGED\nINPATIENT HOSPITALISATION",
    "disability": "INVOLVED PERSISTENCE OR\nSIGNIFICANT DISABILITY OR\nINCAPACITY", "life": "LIFE THREATENING",
    "congenital": "CONGENITAL ANOMALY", "other": "OTHER MEDICALLY\nIMPORTANT CONDITION",
    "s2": "II. SUSPECT DRUG(S) INFORMATION", "suspect": "14. SUSPECT DRUG(S) (include generic name)",
    "dechallenge": "20. DID REACTION ABATE AFTER\nSTOPPING DRUG?", "dose": "15. DAILY DOSE(S)",
    "route": "16. ROUTE(S) OF ADMINISTRATION", "rechallenge": "21. DID REACTION REAPPEAR\nAFTER REINTRODUCTION?",
    "indication": "17. INDICATION(S) FOR USE", "therapy_dates": "18. THERAPY DATES (from/to)",
    "duration": "19. THERAPY DURATION", "s3": "III. CONCOMITANT DRUG(S) AND HISTORY",
    "concomitant": "22. CONCOMITANT DRUG(S) AND DATES OF ADMINISTRATION (exclude those used to treat reaction)",
    "history": "23. OTHER RELEVANT HISTORY (e.g. diagnostics, allergics, pregnancy with last month of period, etc.)",
    "s4": "IV. MANUFACTURER INFORMATION", "manufacturer": "24a. NAME AND ADDRESS OF MANUFACTURER",
    "control_no": "24b. MFR CONTROL NO.", "received": "24c. DATE RECEIVED\nBY MANUFACTURER",
    "source": "24d. REPORT SOURCE", "report_date": "DATE OF THIS REPORT", "report_type": "25a. REPORT TYPE",
}
_FR = {
    "title": "FORMULAIRE CIOMS", "subtitle": "DÉCLARATION D'EFFET INDÉSIRABLE SUSPECTÉ",
    "s1": "I. RENSEIGNEMENTS SUR LA RÉACTION", "initials": "1. INITIALES DU PATIENT", "country": "1a. PAYS",
    "birth": "2. DATE DE NAISSANCE\nJour Mois Année", "age": "2a. ÂGE\nAns", "sex": "3. SEXE",
    "onset": "4-6 DÉBUT DE LA RÉACTION\nJour Mois Année", "check": "8-12 COCHER LES CASES\nAPPROPRIÉES",
    "describe": "7+13 DÉCRIRE LA (LES) RÉACTION(S) (y compris examens et résultats biologiques)",
    "death": "DÉCÈS", "hosp": "HOSPITALISATION OU\nPROLONGATION", "disability": "INVALIDITÉ OU\nINCAPACITÉ",
    "life": "MISE EN JEU DU\nPRONOSTIC VITAL", "congenital": "ANOMALIE CONGÉNITALE",
    "other": "AUTRE SITUATION\nMÉDICALEMENT IMPORTANTE", "s2": "II. RENSEIGNEMENTS SUR LE(S) MÉDICAMENT(S) SUSPECT(S)",
    "suspect": "14. MÉDICAMENT(S) SUSPECT(S) (y compris DCI)",
    "dechallenge": "20. LA RÉACTION A-T-ELLE DISPARU\nÀ L'ARRÊT DU MÉDICAMENT ?", "dose": "15. DOSE(S) QUOTIDIENNE(S)",
    "route": "16. VOIE(S) D'ADMINISTRATION", "rechallenge": "21. LA RÉACTION A-T-ELLE RÉAPPARU\nAPRÈS "
    "RÉINTRODUCTION ?", "indication": "17. INDICATION(S)", "therapy_dates": "18. DATES DU TRAITEMENT (du/au)",
    "duration": "19. DURÉE DU TRAITEMENT", "s3": "III. MÉDICAMENTS CONCOMITANTS ET ANTÉCÉDENTS",
    "concomitant": "22. MÉDICAMENT(S) CONCOMITANT(S) ET DATES D'ADMINISTRATION",
    "history": "23. AUTRES ANTÉCÉDENTS PERTINENTS", "s4": "IV. RENSEIGNEMENTS SUR LE FABRICANT",
    "manufacturer": "24a. NOM ET ADRESSE DU FABRICANT", "control_no": "24b. NUMÉRO DE CONTRÔLE",
    "received": "24c. DATE DE RÉCEPTION\nPAR LE FABRICANT", "source": "24d. SOURCE DU RAPPORT",
    "report_date": "DATE DU PRÉSENT RAPPORT", "report_type": "25a. TYPE DE RAPPORT",
}

# (key, x, top, width, height) of each box; seriousness check boxes sit in the 8-12 column.
_BOXES = [
    ("initials", 30, 85, 80, 45), ("country", 110, 85, 70, 45), ("birth", 180, 85, 100, 45),
    ("age", 280, 85, 50, 45), ("sex", 330, 85, 40, 45), ("onset", 370, 85, 100, 45),
    ("describe", 30, 130, 440, 200), ("suspect", 30, 350, 370, 50), ("dechallenge", 400, 350, 165, 50),
    ("dose", 30, 400, 185, 35), ("route", 215, 400, 185, 35), ("rechallenge", 400, 400, 165, 70),
    ("indication", 30, 435, 370, 35), ("therapy_dates", 30, 470, 185, 35), ("duration", 215, 470, 185, 35),
    ("concomitant", 30, 525, 535, 50), ("history", 30, 575, 535, 50), ("manufacturer", 30, 645, 270, 60),
    ("source", 300, 645, 265, 60), ("control_no", 30, 705, 135, 40), ("received", 165, 705, 135, 40),
    ("report_date", 30, 745, 135, 40), ("report_type", 165, 745, 135, 40),
]
_OPTIONS = {
    "dechallenge": (("YES", "NO", "NA"), ("OUI", "NON", "SO")),
    "rechallenge": (("YES", "NO", "NA"), ("OUI", "NON", "SO")),
    "source": (("STUDY", "LITERATURE", "HEALTH PROFESSIONAL", "COMPETENT AUTHORITIES"),
               ("ÉTUDE", "LITTÉRATURE", "PROFESSIONNEL DE SANTÉ", "AUTORITÉS COMPÉTENTES")),
    "report_type": (("INITIAL", "FOLLOWUP"), ("INITIAL", "SUIVI")),
}
_CHECKS = [("death", 140), ("hosp", 160), ("disability", 190), ("life", 225), ("congenital", 245), ("other", 265)]
_LABEL_LINES = {"initials": 2, "birth": 2, "age": 2, "onset": 2, "dechallenge": 2, "rechallenge": 2, "received": 2}


def cioms_pdf(case: CiomsCase, *, fields: bool, french: bool = False, field_names: str = "labels",
              extra_pages: Sequence[str] = (), encrypt_user_password: str | None = None) -> bytes:
    """A CIOMS I form for ``case``: filled as form fields (``fields=True``) or flattened.

    ``field_names``: ``"labels"`` names fields after their box ("14 SUSPECT DRUG(S)"),
    ``"opaque"`` gives meaningless names ("Texte12"), as some real forms do.
    """
    labels = _FR if french else _EN
    c = Canvas()
    c.text(30, 30, labels["title"], size=12, bold=True)
    c.text(30, 46, labels["subtitle"], size=10, bold=True)
    c.text(30, 72, labels["s1"], size=8, bold=True)
    c.text(30, 337, labels["s2"], size=8, bold=True)
    c.text(30, 512, labels["s3"], size=8, bold=True)
    c.text(30, 632, labels["s4"], size=8, bold=True)
    c.rect(470, 85, 95, 245)
    c.text(472, 88, labels["check"], size=6)
    n = 0
    for key, x, top, w, h in _BOXES:
        c.rect(x, top, w, h)
        c.text(x + 2, top + 3, labels[key], size=6)
        value = getattr(case, key)
        if key in _OPTIONS and not (fields and key in ("source", "report_type")):
            options = _OPTIONS[key][1 if french else 0]
            for i, opt in enumerate(options):
                ox, oy = x + 6 + (i % 2) * 110, top + 24 + (i // 2) * 12
                c.rect(ox, oy, 7, 7)
                c.text(ox + 10, oy, opt, size=6)
                if value.upper() == _OPTIONS[key][0][i] and not fields:
                    c.text(ox + 1.2, oy + 0.5, "X", size=6.5, bold=True)
            continue
        if not value:
            continue
        value_top = top + 3 + 8 * _LABEL_LINES.get(key, 1) + 2
        n += 1
        if fields:
            name = {"labels": _field_name(labels[key]), "opaque": f"Texte{n}"}[field_names]
            c.text_field(name, x + 2, value_top, w - 4, top + h - value_top - 2, value)
        else:
            c.text(x + 4, value_top, value, size=8)
    for i, (key, top) in enumerate(_CHECKS, 1):
        c.rect(475, top, 8, 8)
        c.text(487, top, labels[key], size=6)
        if fields:
            name = {"labels": _field_name(labels[key]), "opaque": f"Case{i}"}[field_names]
            c.check_field(name, 475, top, 8, key in case.ticks)
        elif key in case.ticks:
            c.text(476.3, top + 0.5, "X", size=7, bold=True)
    c.text(470, 815, "Page 1 of " + str(1 + len(extra_pages)), size=6)
    pages = [c]
    for k, text in enumerate(extra_pages, 2):
        extra = Canvas()
        extra.text(30, 30, "ADDITIONAL INFORMATION" if not french else "RENSEIGNEMENTS COMPLÉMENTAIRES", size=10,
                   bold=True)
        extra.text(30, 60, text, size=8)
        extra.text(470, 815, f"Page {k} of {1 + len(extra_pages)}", size=6)
        pages.append(extra)
    return build_pdf(pages, encrypt_user_password=encrypt_user_password)


def _field_name(label: str) -> str:
    return label.split("\n")[0].replace(".", "").strip()


def text_pdf(pages: Sequence[str], *, encrypt_user_password: str | None = None) -> bytes:
    """A plain PDF, one text per page (narratives, letters)."""
    canvases = []
    for text in pages:
        c = Canvas()
        c.text(50, 60, text, size=10)
        canvases.append(c)
    return build_pdf(canvases, encrypt_user_password=encrypt_user_password)


def image_only_pdf() -> bytes:
    """A PDF whose only page content is drawn shapes (as a scanned page would be: no text layer)."""
    c = Canvas()
    for i in range(40):
        c.ops.append(f"0.2 g {40 + i * 12} 400 8 {100 + (i * 37) % 200} re f")
    return build_pdf([c])


# --------------------------------------------------------------------------- DOCX

def narrative_docx(paragraphs_by_page: Sequence[Sequence[str]], table: Sequence[Sequence[str]] = ()) -> bytes:
    """A Word document: paragraphs, a hard page break between pages, an optional table at the end."""
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    for i, paragraphs in enumerate(paragraphs_by_page):
        if i:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        for text in paragraphs:
            document.add_paragraph(text)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for col, value in enumerate(row):
                t.cell(r, col).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- the sample set

SAMPLE_FORM = CiomsCase(
    describe=("Patiente de 67 ans ayant présenté une hépatite aiguë cytolytique (ALAT 18 N, ASAT 12 N) "
                 "quinze jours après\nl'introduction d'amoxicilline et acide clavulanique pour une "
                 "sinusite. Hospitalisée en hépato-gastroentérologie,\névolution favorable à l'arrêt du "
                 "traitement. Sérologies virales négatives."),
    ticks=("hosp",),
    suspect="1) Augmentin 1 g/125 mg (amoxicilline, acide clavulanique) lot AB1234",
    dose="1) 3 g par jour", route="1) orale", indication="Sinusite aiguë", therapy_dates="25 02 2026 / 08 03 2026",
    duration="12 jours", concomitant="Ramipril 5 mg depuis 2019", history="Hypertension artérielle. Pas "
    "d'antécédent hépatique connu.",
)
SAMPLE_FLAT = CiomsCase(
    initials="J.R.", country="FRANCE", birth="02 11 1981", age="44", sex="M", onset="03 02 2026",
    describe=("44-year-old man who developed Stevens-Johnson syndrome 18 days after starting lamotrigine\n"
                 "for epilepsy: fever, mucositis and epidermal detachment over 8% of body surface. Admitted to\n"
                 "the burns unit, lamotrigine withdrawn. Condition was life threatening on admission."),
    ticks=("hosp", "life"), suspect="LAMICTAL 25 mg tablets (lamotrigine)", dose="50 mg", route="oral",
    indication="Epilepsy", therapy_dates="16 01 2026 / 03 02 2026", duration="18 days",
    concomitant="Sodium valproate 1 g daily", history="Epilepsy since 2010.", control_no="FR-FICTIF-2026-0002",
    received="05 02 2026", report_date="10 02 2026",
)
SAMPLE_DOCX = (
    ["Signalement de pharmacovigilance — centre régional",
     "Nourrisson de 4 mois ayant présenté des convulsions fébriles 6 heures après l'administration du "
     "vaccin hexavalent (Infanrix Hexa, lot FIC123).",
     "Hospitalisé 2 jours en pédiatrie pour surveillance."],
    ["Évolution : guérison sans séquelle. Électroencéphalogramme normal.",
     "Antécédents : aucun. Pas de traitement concomitant."],
)
SAMPLE_CSV = (
    "id;type;titre;texte;date_reception;age;sexe;produits;gravite\n"
    "lot-001;pv;Urticaire après amoxicilline;Urticaire généralisée 2 heures après la première prise "
    "d'amoxicilline, régressive sous antihistaminique.;2026-03-02;34;F;Clamoxyl 1 g;\n"
    "lot-002;pv;Choc anaphylactique;Choc anaphylactique au cours d'une perfusion de ceftriaxone, prise en "
    "charge en réanimation.;2026-03-04;71;M;Rocéphine 1 g;pronostic vital|hospitalisation\n"
    "lot-003;pv;Décès après surdosage;Patient de 82 ans décédé d'une hémorragie digestive sous warfarine, "
    "INR à 9.;2026-03-05;82;M;Coumadine 5 mg;décès\n"
    "lot-004;pv;Céphalées;Céphalées modérées après vaccination antigrippale, résolutives en 24 heures.;"
    "05/03/2026;45;F;Vaxigrip Tetra;\n"
    "lot-005;pv;Agranulocytose;Agranulocytose sous métamizole, neutrophiles à 0,2 G/L, hospitalisation "
    "en hématologie.;2026-03-06;58;F;Novalgin 500 mg;hospitalisation\n"
)


def write_samples(folder: Path) -> list[Path]:
    """Write the sample set into ``folder``; returns the written paths."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "cioms_i_champs.pdf": cioms_pdf(SAMPLE_FORM, fields=True),
        "cioms_i_aplati.pdf": cioms_pdf(SAMPLE_FLAT, fields=False),
        "recit_pv.docx": narrative_docx(SAMPLE_DOCX, table=[["Produit", "Lot"], ["Infanrix Hexa", "FIC123"]]),
        "lot_pv.csv": SAMPLE_CSV.encode("utf-8"),
    }
    jsonl = "\n".join(json.dumps(d, ensure_ascii=False) for d in (
        {"type": "pv", "title": "Myalgies sous statine", "text": "Myalgies diffuses sous atorvastatine, CPK normales."},
        {"type": "pv", "title": "Hyponatrémie", "text": "Hyponatrémie à 118 mmol/L sous indapamide, hospitalisation."},
    )) + "\n"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("cioms_i_aplati.pdf", "recit_pv.docx"):
            zf.writestr(f"lot/{name}", files[name])
        zf.writestr("lot/dossiers.jsonl", jsonl)
        zf.writestr("lot/note.txt", "Patient de 30 ans, éruption cutanée bénigne après ibuprofène, guérison.")
    files["lot_pv.zip"] = archive.getvalue()
    written = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path(args[0]) if args else Path(__file__).resolve().parent / "sample" / "files"
    for path in write_samples(folder):
        print(path)


if __name__ == "__main__":
    main()
