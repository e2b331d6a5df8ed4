"""EMA EPAR loader: the table of European public assessment reports ("Medicines output").

File: ``Medicines_output_european_public_assessment_reports.xlsx`` (or a CSV export of it).
    The sheet starts with title rows (8 in the published file); the header row is found by looking
    for the ``Category`` and product-number headers, not by its position. A CSV with the same column
    headers (UTF-8, ``,`` ``;`` or tab separated) is read the same way. Columns are mapped **by header
    name**, with aliases for the newer EMA layout (``Name of medicine``, ``EMA product number``,
    ``Therapeutic indication``, ``Generic or hybrid``, ``Advanced therapy``, ``PRIME``…).
    The file is read by the hardened reader of :mod:`corpora.loaders.spreadsheet` (xlsx through
    openpyxl and defusedxml, or CSV); cells are parsed by :mod:`corpora.loaders.cells`.

    Human rows become ``Record`` (``type`` ``amm``, ``id`` ``ema-epar:<product number>``, ``language`` ``en``).
    Veterinary rows are skipped and counted (``EPAR vétérinaire``); so are rows without a product number
    and repeated product numbers (the first one is kept).

    Inputs known at submission → ``fields``:
        Medicine name (title), Condition / indication (``text`` and ``indication``), INN / common name
        (``inn``), Active substance (``substances``, split on top-level commas/semicolons), ATC code
        (``atc_codes``), Therapeutic area (``therapeutic_area``), Human pharmacotherapeutic group,
        Generic / Generic or hybrid (``generic``), Biosimilar, Orphan medicine (``orphan``), Advanced
        therapy (``atmp``), Accelerated assessment, PRIME, Marketing authorisation holder, Product
        number; ``procedure`` is ``centralised``.
    Outcomes (decided by EMA/EC after assessment) → ``outcome`` only, never in ``fields``:
        Authorisation status (``authorisation_status``: Authorised / Withdrawn / Refused…), Additional
        monitoring, Conditional approval, Exceptional circumstances.
    Dates: the table has no submission date, and the authorisation date is only known after the
        assessment. ``received_at`` is a stated proxy of the submission (see :func:`submission_proxy`):
        Date of opinion minus the usual length of the centralised assessment (``ASSESSMENT_DAYS``),
        else Marketing authorisation date or Date of refusal minus that length and the usual delay of
        the Commission decision (``DECISION_DAYS``).
    Dropped, because they are after-the-fact or not about the application: Patient safety, Decision
        date, Revision number, First published, Revision date, URL, and the veterinary-only columns
        (Vet pharmacotherapeutic group, Species, ATCvet code).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from corpora.errors import CorruptFile, InputError
from corpora.loaders.base import SKIP_INVALID, LoadReport
from corpora.loaders.cells import clean_text, column_getter, parse_atc, parse_yes_no, split_top_level, substances_key
from corpora.loaders.spreadsheet import table_rows
from corpora.model import Document, Dossier, DossierFields, EparOutcome, Record
from corpora.normalise import bar_join, fold, parse_date

SOURCE = "ema-epar"

# The centralised procedure takes 210 active days plus clock stops: about a year from validation to the
# CHMP opinion; the Commission decision follows the opinion by 67 days (Regulation (EC) No 726/2004, art. 6
# and 10). Submission proxy = opinion − ASSESSMENT_DAYS, or decision − (ASSESSMENT_DAYS + DECISION_DAYS).
ASSESSMENT_DAYS = 365
DECISION_DAYS = 67
EPAR_FILENAME = "Medicines_output_european_public_assessment_reports.xlsx"

SKIP_VETERINARY = "EPAR vétérinaire"
SKIP_CATEGORY = "catégorie inconnue (ni humaine ni vétérinaire)"
SKIP_NO_NUMBER = "numéro de produit manquant"
SKIP_DUPLICATE = "numéro de produit en double"

_HEADER_SCAN_ROWS = 50

# canonical key → accepted headers (compared after _norm_header)
_EPAR_COLUMNS: dict[str, tuple[str, ...]] = {
    "category": ("Category",),
    "name": ("Medicine name", "Name of medicine"),
    "therapeutic_area": ("Therapeutic area", "Therapeutic area (MeSH)"),
    "inn": ("International non-proprietary name (INN) / common name",),
    "active_substance": ("Active substance",),
    "product_number": ("Product number", "EMA product number"),
    "status": ("Authorisation status", "Medicine status"),
    "atc": ("ATC code", "ATC code (human)"),
    "additional_monitoring": ("Additional monitoring",),
    "generic": ("Generic", "Generic or hybrid"),
    "biosimilar": ("Biosimilar",),
    "conditional_approval": ("Conditional approval",),
    "exceptional_circumstances": ("Exceptional circumstances",),
    "accelerated_assessment": ("Accelerated assessment",),
    "orphan": ("Orphan medicine",),
    "atmp": ("Advanced therapy",),
    "prime": ("PRIME: priority medicine", "PRIME priority medicine", "PRIME"),
    "ma_date": ("Marketing authorisation date",),
    "refusal_date": ("Date of refusal of marketing authorisation", "Refusal of marketing authorisation date"),
    "holder": (
        "Marketing authorisation holder/company name",
        "Marketing authorisation developer / applicant / holder",
    ),
    "pharmacotherapeutic_group": ("Human pharmacotherapeutic group", "Pharmacotherapeutic group (human)"),
    "opinion_date": ("Date of opinion", "Opinion adopted date"),
    "indication": ("Condition / indication", "Therapeutic indication"),
}
_REQUIRED = ("category", "name", "product_number")


def _norm_header(value: Any) -> str:
    text = "" if value is None else str(value)
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_ALIASES: dict[str, str] = {_norm_header(a): key for key, names in _EPAR_COLUMNS.items() for a in names}


def _collapse_area(value: Any) -> str | None:
    text = clean_text(value)
    if not text:
        return None
    text = re.sub(r"\s*;\s*", "; ", text).strip().strip(";").strip()
    return text or None


# --------------------------------------------------------------------------- reading the table


def _table_rows(path: Path) -> Iterator[Sequence[Any]]:
    if not path.exists():
        raise InputError(f"Fichier introuvable : {path}")
    if path.is_dir():
        candidate = path / EPAR_FILENAME
        if candidate.exists():
            path = candidate
        else:
            raise InputError(f"{path} est un dossier ; indiquez le fichier EPAR (.xlsx ou .csv).")
    return table_rows(path, "la table EPAR")


def _find_header(rows: Iterator[Sequence[Any]], path: Path) -> dict[str, int]:
    for n, row in enumerate(rows):
        cols: dict[str, int] = {}
        for i, header in enumerate(row):
            key = _ALIASES.get(_norm_header(header))
            if key and key not in cols:
                cols[key] = i
        if all(k in cols for k in _REQUIRED):
            return cols
        if n >= _HEADER_SCAN_ROWS:
            break
    raise CorruptFile(
        f"{path} : en-tête EPAR introuvable (colonnes « Category », « Medicine name » et "
        "« Product number » attendues) ; ce n'est pas la table EMA des EPAR."
    )


def iter_epar_records(path: Path, report: LoadReport | None = None, limit: int | None = None) -> Iterator[Record]:
    """Stream human EPARs as ``Record(dossier, outcome)``; veterinary rows are skipped and counted."""
    if report is None:
        report = LoadReport(source=SOURCE)
    path = Path(path)
    rows = _table_rows(path)
    cols = _find_header(iter(rows), path)
    report.add_file(path)
    seen: set[str] = set()
    for row in rows:
        if not any(clean_text(c) for c in row):
            continue  # blank spreadsheet row, not a record

        get = column_getter(cols, row)

        category = (clean_text(get("category")) or "").lower()
        if category.startswith("vet"):
            report.skip(SKIP_VETERINARY)
            continue
        if not category.startswith("human"):
            report.skip(SKIP_CATEGORY)
            continue
        number = clean_text(get("product_number"))
        if not number:
            report.skip(SKIP_NO_NUMBER)
            continue
        if number in seen:
            report.skip(SKIP_DUPLICATE)
            continue
        seen.add(number)
        try:
            record = _epar_record(get, number)
        except ValidationError:
            report.skip(SKIP_INVALID)
            continue
        yield record
        report.ok()
        if limit is not None and report.written >= limit:
            return


def submission_proxy(opinion: date | None, decision: date | None) -> date | None:
    """Proxy of the submission date: the opinion minus the usual assessment, else the decision minus
    the assessment and the decision delay (the EPAR table gives no submission date)."""
    if opinion is not None:
        return opinion - timedelta(days=ASSESSMENT_DAYS)
    if decision is not None:
        return decision - timedelta(days=ASSESSMENT_DAYS + DECISION_DAYS)
    return None


def _epar_record(get: Callable[[str], Any], number: str) -> Record:
    name = clean_text(get("name")) or number
    indication = clean_text(get("indication"))
    inn = clean_text(get("inn"))
    substances = split_top_level(clean_text(get("active_substance"))) or split_top_level(inn)
    area = _collapse_area(get("therapeutic_area"))
    group = clean_text(get("pharmacotherapeutic_group"))
    received = submission_proxy(parse_date(get("opinion_date")),
                                parse_date(get("ma_date")) or parse_date(get("refusal_date")))
    fields = DossierFields.model_validate({
        "inn": inn,
        "substances": substances or None,
        "atc_codes": parse_atc(get("atc")) or None,
        "therapeutic_area": area,
        "pharmacotherapeutic_group": group,
        "indication": indication,
        "generic": parse_yes_no(get("generic")),
        "biosimilar": parse_yes_no(get("biosimilar")),
        "orphan": parse_yes_no(get("orphan")),
        "atmp": parse_yes_no(get("atmp")),
        "accelerated_assessment": parse_yes_no(get("accelerated_assessment")),
        "prime": parse_yes_no(get("prime")),
        "marketing_authorisation_holder": clean_text(get("holder")),
        "product_number": number,
        "procedure": "centralised",
    })
    if indication:
        text = indication
    else:
        bits = [f"{name} ({inn or ', '.join(substances) or 'substance non renseignée'})"]
        if area:
            bits.append(f"Therapeutic area: {area}.")
        if group:
            bits.append(f"Pharmacotherapeutic group: {group}.")
        text = " ".join(bits)
    dossier = Dossier(
        id=f"{SOURCE}:{number}",
        type="amm",
        title=name,
        text=text,
        received_at=received,
        language="en",
        source=SOURCE,
        fields=fields,
    )
    outcome = EparOutcome(
        authorisation_status=clean_text(get("status")),
        additional_monitoring=parse_yes_no(get("additional_monitoring")),
        conditional_approval=parse_yes_no(get("conditional_approval")),
        exceptional_circumstances=parse_yes_no(get("exceptional_circumstances")),
    )
    return Record(dossier, outcome.model_dump(mode="json"))


def epar_record_to_document(record: Record) -> Document:
    """A human EPAR as a retrieval ``Document`` (kind ``case``; outcome flags in metadata and ``outcome``)."""
    d = record.dossier
    f = d.fields
    outcome = dict(record.outcome or {})
    lines = [f"{d.title} — {f.inn or ', '.join(f.substances or [])}".rstrip(" —")]
    if f.therapeutic_area:
        lines.append(f"Therapeutic area: {f.therapeutic_area}.")
    if f.pharmacotherapeutic_group:
        lines.append(f"Pharmacotherapeutic group: {f.pharmacotherapeutic_group}.")
    flags = [label for label, value in (("generic", f.generic), ("biosimilar", f.biosimilar),
                                        ("orphan", f.orphan), ("advanced therapy", f.atmp),
                                        ("accelerated assessment", f.accelerated_assessment),
                                        ("PRIME", f.prime)) if value]
    if flags:
        lines.append("Application: " + ", ".join(flags) + ".")
    if f.indication:
        lines.append(f"Indication: {f.indication}")
    if outcome.get("authorisation_status"):
        lines.append(f"EMA outcome: {outcome['authorisation_status']}.")
    meta: dict[str, Any] = {
        "type": d.type,
        "language": d.language,
        "product_number": f.product_number or "",
        "substances": substances_key(f.substances),
        "atc_codes": bar_join(f.atc_codes),
        "therapeutic_area": f.therapeutic_area or "",
        "procedure": "centralised",
    }
    if f.inn:
        meta["inn"] = fold(f.inn)
    for key in ("generic", "biosimilar", "orphan", "atmp", "accelerated_assessment", "prime"):
        value = getattr(f, key)
        if isinstance(value, bool):
            meta[key] = value
    if f.marketing_authorisation_holder:
        meta["holder"] = f.marketing_authorisation_holder
    if d.received_at:
        meta["year"] = d.received_at.year
        meta["received_at"] = d.received_at.isoformat()
    for key, value in outcome.items():
        if isinstance(value, (str, bool)):
            meta[key] = value
    return Document(
        id=d.id,
        source=d.source,
        kind="case",
        title=d.title,
        text="\n".join(lines),
        metadata=meta,
        language="en",
        received_at=d.received_at,
        outcome=record.outcome,
    )
