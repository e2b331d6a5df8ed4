"""PDF and DOCX uploads → intake items: a CIOMS I form mapped box by box, or a narrative with its pages.

Hooked into :func:`corpora.intake.parse_upload` for ``.pdf`` / ``.docx`` (or their magic bytes).

Narrative documents: the text of every page (PDF) or of every paragraph and table cell (DOCX),
pages separated by a blank line; ``IntakeItem.pages`` keeps ``{"page", "start", "end"}`` for each
page's span of ``dossier.text``, so an evidence offset can be shown on its page.

CIOMS I forms (:mod:`corpora.cioms`) map to the Dossier like an E2B(R3) ICSR:

=====================================  =============================================================
CIOMS I box                            Dossier
=====================================  =============================================================
7+13 describe reaction(s) (+ pages     ``text`` (continuation pages appended, each span on its page)
that continue it)
8-12 seriousness ticks                 reporter-declared seriousness: intake information, appended to
                                       ``text`` as one French sentence and kept on the item (as E2B)
1 initials                             not kept (identifying, not needed to assess the risk)
1a country                             ``fields.country`` (ISO code when recognised)
2 date of birth, 2a age                ``fields.patient_age`` (2a, else from 2 and the onset date)
3 sex                                  ``fields.patient_sex``
4-6 reaction onset                     ``fields.onset_date``; ``onset_days`` from 18's first date
14 suspect drug(s)                     ``fields.products`` (role suspect; substances in parentheses,
                                       lot numbers), ``fields.substances``
15 dose, 16 route                      ``products[i].dose`` / ``.route`` (line i, else all on the first)
17 indication(s)                       ``fields.indication``
18-21 dates, duration, de/rechallenge  kept in ``details`` (shown with the triage)
22 concomitant drug(s)                 ``fields.other_medications``
23 other relevant history              ``fields.medical_history``
24a manufacturer / MAH                 ``fields.manufacturers`` (first line)
24b-c control / original report no.    ``id`` = ``intake:<control no.>`` (else a content hash)
24c date received, 25a date of report  ``received_at`` (24c, else 25a)
24d report source, 25b report type     ``fields.reporter`` / ``fields.report_type`` (``CIOMS I …``)
=====================================  =============================================================
"""

from __future__ import annotations

import json
from typing import Any

from corpora import cioms, seriousness
from corpora.docx_intake import Block, read_docx
from corpora.errors import InputError
from corpora.intake import content_id, parse_text
from corpora.limits import IntakeLimits
from corpora.model import INTAKE_SOURCE, Dossier, DossierFields, IntakeItem, Product
from corpora.normalise import dossier_language
from corpora.pdf_intake import PdfContent, Widget, positioned_layout, read_pdf

_SERIOUS_LABELS = {
    "death": seriousness.DEATH, "life": seriousness.LIFE_THREATENING, "hosp": seriousness.HOSPITALISATION,
    "disability": seriousness.DISABILITY, "congenital": seriousness.CONGENITAL_ANOMALY, "other": seriousness.OTHER,
}


# --------------------------------------------------------------------------- PDF

def parse_pdf(data: bytes, *, name: str, filename: str | None, declared_type: str | None,
              limits: IntakeLimits) -> list[IntakeItem]:
    content = read_pdf(data, name, limits)
    full_text = "\n".join(content.pages)
    named, unused = cioms.read_named_fields((w.name, w.value, w.ticked) for w in content.widgets)
    if cioms.looks_like_cioms(full_text) or len(named.labels_found) >= 6:
        _require_pv(declared_type)
        return [_cioms_item(_read_cioms_pdf(content, named, unused), content.pages, filename, "pdf")]
    if not content.has_text:  # a form that is not a CIOMS I: its field values are the text
        lines = [f"{w.name} : {w.value}" for w in content.filled_widgets if w.kind != "check"]
        return [_narrative([("\n".join(lines), 1)], filename, declared_type, "pdf")]
    return [_narrative([(text, n) for n, text in enumerate(content.pages, 1)], filename, declared_type, "pdf")]


def _read_cioms_pdf(content: PdfContent, named: cioms.CiomsForm, unused: list[int]) -> cioms.CiomsForm:
    form_pages = [n for n, text in enumerate(content.pages, 1)
                  if len(cioms.labels_in_lines(text.splitlines())) >= 3] or [1]
    runs, edges = positioned_layout(content, form_pages)
    runs += _widget_runs([content.widgets[i] for i in unused])
    # Widgets read by name (not in ``unused``) stay out of the layout, so nothing is read twice.
    form = cioms.read_positioned(runs, edges) if runs else cioms.CiomsForm()
    if not form.boxes.get("describe") and not form.boxes.get("suspect"):
        text_form = cioms.read_lines([(content.pages[p - 1], p) for p in form_pages])
        form = cioms.merge(form, text_form) if form.boxes else text_form
    if named.labels_found:
        form = cioms.merge(named, form)
        form.mode = "fields"
    form.pages = sorted(set(form.pages) | set(form_pages))
    return form


def _widget_runs(widgets: list[Widget]) -> list[cioms.Run]:
    runs: list[cioms.Run] = []
    for w in widgets:
        if w.kind == "check":
            if w.ticked:
                runs.append(cioms.Run("X", w.x0, w.top, w.x1, w.bottom, w.page, is_value=True))
            continue
        if not w.value:
            continue
        line_height = 10.0
        for i, line in enumerate(w.value.splitlines()):
            if line.strip():
                top = w.top + 1 + i * line_height
                runs.append(cioms.Run(line.strip(), w.x0 + 1, top, w.x1, top + line_height - 2, w.page,
                                      is_value=True))
    return runs


def _require_pv(declared_type: str | None) -> None:
    if declared_type not in (None, "pv"):
        raise InputError("Un formulaire CIOMS I est un dossier de pharmacovigilance : type « pv » attendu.")


# --------------------------------------------------------------------------- DOCX

def parse_docx(data: bytes, *, name: str, filename: str | None, declared_type: str | None,
               limits: IntakeLimits) -> list[IntakeItem]:
    blocks = read_docx(data, name, limits)
    text = "\n".join(b.text for b in blocks)
    if cioms.looks_like_cioms(text):
        _require_pv(declared_type)
        form = cioms.read_lines([(b.text, b.page) for b in blocks])
        pages = _page_texts(blocks)
        return [_cioms_item(form, pages, filename, "docx")]
    grouped: dict[int, list[str]] = {}
    for b in blocks:
        grouped.setdefault(b.page, []).append(b.text)
    return [_narrative([("\n".join(v), p) for p, v in sorted(grouped.items())], filename, declared_type, "docx")]


def _page_texts(blocks: list[Block]) -> list[str]:
    last = max((b.page for b in blocks), default=1)
    pages = [""] * last
    for b in blocks:
        pages[b.page - 1] += b.text + "\n"
    return pages


# --------------------------------------------------------------------------- items

def _narrative(pages: list[tuple[str, int]], filename: str | None, declared_type: str | None,
               fmt: str) -> IntakeItem:
    body, spans = _join_pages(pages)
    dossier, warnings = parse_text(body, declared_type=declared_type, filename=filename)
    # parse_text strips the body; the spans were computed on the same stripped text.
    return IntakeItem(dossier, warnings, pages=spans, details={"format": fmt})


def _join_pages(pages: list[tuple[str, int]], sep: str = "\n\n") -> tuple[str, list[dict[str, int]]]:
    parts: list[str] = []
    spans: list[dict[str, int]] = []
    offset = 0
    for text, page in pages:
        text = text.strip()
        if not text:
            continue
        if parts:
            parts.append(sep)
            offset += len(sep)
        spans.append({"page": page, "start": offset, "end": offset + len(text)})
        parts.append(text)
        offset += len(text)
    return "".join(parts), spans


def _cioms_item(form: cioms.CiomsForm, page_texts: list[str], filename: str | None, fmt: str) -> IntakeItem:
    warnings: list[str] = []
    describe = form.get("describe")
    pieces: list[tuple[str, int]] = []
    if describe:
        pieces.append((describe, form.box_pages.get("describe", form.pages[0] if form.pages else 1)))
    last_form_page = max(form.pages, default=1)
    extra = [(t, n) for n, t in enumerate(page_texts, 1) if n > last_form_page and t.strip()]
    if extra and (not describe or cioms.continued(describe) or len(extra) <= 5):
        pieces.extend(extra)
    narrative, spans = _join_pages(pieces)
    if not describe:
        warnings.append("Formulaire CIOMS I sans description de la réaction (case 7+13) : triage sur les "
                        "autres cases.")
    declared = [_SERIOUS_LABELS[k] for k in cioms.SERIOUSNESS_KEYS if k in form.ticks]
    text = seriousness.with_declared(narrative, declared)
    if declared:  # the sentence stands for the ticks of boxes 8-12: it points to the form's page
        sentence = seriousness.declared_sentence(declared)
        spans.append({"page": form.pages[0] if form.pages else 1, "start": len(text) - len(sentence),
                      "end": len(text)})

    drugs = [cioms.parse_drug(item) for item in cioms.split_items(form.get("suspect"))]
    doses = cioms.aligned(form.get("dose"), len(drugs))
    routes = cioms.aligned(form.get("route"), len(drugs))
    products = [Product(name=d["name"], substances=d["substances"], lot=d["lot"], dose=doses[i],
                        route=routes[i], role="suspect") for i, d in enumerate(drugs) if d["name"]]
    substances: list[str] = []
    for p in products:
        substances += [s for s in p.substances or [] if s not in substances]
    onset = cioms.parse_date(form.get("onset"))
    birth = cioms.parse_date(form.get("birth"))
    age = cioms.parse_age(form.get("age")) if form.get("age") else None
    if age is None and birth is not None and onset is not None and onset >= birth:
        age = round((onset - birth).days / 365.25, 2)
    start = cioms.parse_date(form.get("therapy_dates"))
    onset_days = float((onset - start).days) if onset and start and onset >= start else None
    manufacturer = form.get("manufacturer").splitlines()[0].strip() if form.get("manufacturer") else None
    received = cioms.parse_date(form.get("received")) or cioms.parse_date(form.get("report_date"))
    report_type = "CIOMS I"
    folded_type = cioms.label_form(form.get("report_type"))
    if "FOLLOW" in folded_type or "SUIVI" in folded_type:
        report_type += " (suivi)"
    elif "INITIAL" in folded_type:
        report_type += " (initial)"
    fields = DossierFields(
        patient_age=age, patient_sex=cioms.parse_sex(form.get("sex")),  # type: ignore[arg-type]
        country=cioms.parse_country(form.get("country")), onset_date=onset, onset_days=onset_days,
        products=products or None, substances=substances or None,
        indication=form.get("indication") or None, other_medications=form.get("concomitant") or None,
        medical_history=form.get("history") or None, manufacturers=[manufacturer] if manufacturer else None,
        reporter=form.get("source") or None, report_type=report_type,
    )
    control = (form.get("control_no") or form.get("original_no")).split("\n")[0].strip()
    native = control.replace(" ", "") if control and len(control) <= 80 else None
    key = text + json.dumps(fields.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    ident = f"{INTAKE_SOURCE}:{native}" if native else content_id(key)
    title_parts = ["CIOMS I"]
    if products and products[0].name:
        title_parts.append(products[0].name)
    if describe:
        first = describe.split("\n")[0].strip()
        title_parts.append(first if len(first) <= 80 else first[:79].rstrip() + "…")
    dossier = Dossier(
        id=ident, type="pv", title=" — ".join(title_parts), text=text, received_at=received,
        language=dossier_language(narrative or text), source=INTAKE_SOURCE, fields=fields,
    )
    details: dict[str, Any] = {
        "format": fmt, "form": "CIOMS I", "read_from": form.mode,
        "boxes": {k: v for k, v in sorted(form.boxes.items()) if k != "describe"},
        "ticked": [k for k in cioms.SERIOUSNESS_KEYS if k in form.ticks],
    }
    missing = [k for k in ("suspect", "describe") if not form.get(k)]
    if "suspect" in missing:
        warnings.append("Formulaire CIOMS I sans médicament suspect lisible (case 14).")
    return IntakeItem(dossier, warnings, declared_seriousness=declared, pages=spans, details=details)


# --------------------------------------------------------------------------- dispatch

_PDF_MEDIA = ("application/pdf", "application/x-pdf")
_DOCX_MEDIA = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)


def document_format(data: bytes, filename: str | None = None, declared: str | None = None,
                    media_type: str | None = None) -> str | None:
    """``pdf`` or ``docx`` when the upload is one (declared, by name, media type or magic bytes), else None."""
    from corpora.docx_intake import OLE_MAGIC, looks_like_docx
    from corpora.pdf_intake import is_pdf

    value = (declared or "").strip().lower()
    if value in ("pdf", "docx"):
        return value
    name = (filename or "").strip().lower()
    if name.endswith(".pdf"):
        return "pdf"
    if name.endswith((".docx", ".doc")):
        return "docx"
    base = (media_type or "").split(";")[0].strip().lower()
    if base in _PDF_MEDIA:
        return "pdf"
    if base in _DOCX_MEDIA or base == "application/msword":
        return "docx"
    if data[:1024].lstrip().startswith(b"%PDF-") or is_pdf(data[:16]):
        return "pdf"
    if looks_like_docx(data) or data[:8] == OLE_MAGIC:
        return "docx"
    return None


def parse_document(kind: str, data: bytes, *, name: str, filename: str | None, declared_type: str | None,
                   limits: IntakeLimits) -> list[IntakeItem]:
    """Intake items of a PDF or DOCX upload (see module docstring)."""
    if kind == "pdf":
        return parse_pdf(data, name=name, filename=filename, declared_type=declared_type, limits=limits)
    return parse_docx(data, name=name, filename=filename, declared_type=declared_type, limits=limits)
