"""EMA loaders: the EPAR table ("Medicines output") and the JSON outputs.

EPAR table (``Medicines_output_european_public_assessment_reports.xlsx``)
    The sheet starts with title rows (8 in the published file); the header row is found by looking
    for the ``Category`` and product-number headers, not by its position. A CSV with the same column
    headers (UTF-8, ``,`` ``;`` or tab separated) is read the same way. Columns are mapped **by header
    name**, with aliases for the newer EMA layout (``Name of medicine``, ``EMA product number``,
    ``Therapeutic indication``, ``Generic or hybrid``, ``Advanced therapy``, ``PRIME``…).
    The xlsx is read with openpyxl in read-only (streaming) mode; openpyxl parses the sheet XML through
    defusedxml, which this loader checks before opening a file (hostile XML: entities, DTDs, refused).

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
    Dates: ``received_at`` = Marketing authorisation date, else Date of opinion, else Date of refusal
        (the table has no submission date; these are the nearest dates it gives).
    Dropped, because they are after-the-fact or not about the application: Patient safety, Decision
        date, Revision number, First published, Revision date, URL, and the veterinary-only columns
        (Vet pharmacotherapeutic group, Species, ATCvet code).

JSON outputs (``iter_ema_documents``): referrals, PSUSA single assessments, DHPC, post-authorisation
    opinions, orphan designations and shortages become retrieval ``Document`` objects; every row is kept,
    whatever its category (human or veterinary, recorded in ``metadata.category``). A native id already
    seen in the same source gets a counter suffix ``~2``, ``~3``… (rows are never merged or dropped for
    that); a row with no usable id at all is skipped and counted. Substance names in metadata are
    normalised (lowercase, accents stripped, spaces collapsed) and bar-joined: ``"|a|b|"``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from corpora.errors import CorruptFile, EncodingProblem, InputError, InputTooLarge
from corpora.loaders.base import LoadReport
from corpora.model import Document, Dossier, DossierFields, EparOutcome, Record
from corpora.normalise import bar_join, fold, parse_date

SOURCE = "ema-epar"
EPAR_FILENAME = "Medicines_output_european_public_assessment_reports.xlsx"

SKIP_VETERINARY = "EPAR vétérinaire"
SKIP_CATEGORY = "catégorie inconnue (ni humaine ni vétérinaire)"
SKIP_NO_NUMBER = "numéro de produit manquant"
SKIP_DUPLICATE = "numéro de produit en double"
SKIP_INVALID = "valeurs invalides (ligne non convertible)"
SKIP_NO_ID = "identifiant manquant"
SKIP_NOT_OBJECT = "élément qui n'est pas un objet JSON"

_MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
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


# --------------------------------------------------------------------------- small pure helpers


def _norm_header(value: Any) -> str:
    text = "" if value is None else str(value)
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_ALIASES: dict[str, str] = {_norm_header(a): key for key, names in _EPAR_COLUMNS.items() for a in names}


def clean_text(value: Any) -> str | None:
    """A cell as text: stripped, non-breaking spaces made plain, blank → None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = str(value).replace("\xa0", " ").strip()
    return text or None


def split_top_level(value: str | None, separators: str = ",;") -> list[str]:
    """Split on separators outside parentheses/brackets: ``"a (x, y), b"`` → ``["a (x, y)", "b"]``."""
    if not value:
        return []
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in value:
        if ch in "([{":
            depth += 1
        elif ch in ")]}" and depth:
            depth -= 1
        if ch in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in (re.sub(r"\s+", " ", x) for x in parts) if p.strip()]


def substances_key(values: Iterable[str] | None) -> str:
    """Folded (salts kept, as published), de-duplicated, bar-joined substance names for metadata."""
    seen: dict[str, None] = {}
    for v in values or []:
        n = fold(v)
        if n:
            seen.setdefault(n, None)
    return bar_join(list(seen))


_ATC_RE = re.compile(r"^[A-Z]\d{2}(?:[A-Z](?:[A-Z](?:\d{2})?)?)?$")


def parse_atc(value: Any) -> list[str]:
    text = clean_text(value)
    if not text:
        return []
    out: list[str] = []
    for tok in re.split(r"[\s,;/]+", text.upper()):
        if _ATC_RE.match(tok) and tok not in out:
            out.append(tok)
    return out


def parse_yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = clean_text(value)
    if text is None:
        return None
    low = text.lower()
    if low in {"yes", "y", "true", "oui", "1"}:
        return True
    if low in {"no", "n", "false", "non", "0"}:
        return False
    return None


def _collapse_area(value: Any) -> str | None:
    text = clean_text(value)
    if not text:
        return None
    text = re.sub(r"\s*;\s*", "; ", text).strip().strip(";").strip()
    return text or None


# --------------------------------------------------------------------------- reading the table


def _check_xlsx(path: Path) -> None:
    """Refuse what is not a sane xlsx before openpyxl parses it."""
    try:
        from openpyxl import xml as openpyxl_xml
    except ImportError as exc:  # pragma: no cover - pinned dependency
        raise InputError("Lecture xlsx impossible : le paquet openpyxl n'est pas installé.") from exc
    if not openpyxl_xml.DEFUSEDXML:
        raise InputError(
            "Lecture xlsx refusée : defusedxml n'est pas actif pour openpyxl (protection contre le XML hostile)."
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise CorruptFile(
            f"{path} n'est pas un classeur xlsx lisible (archive zip tronquée, corrompue ou autre format)."
        ) from exc
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise CorruptFile(f"{path} est une archive zip mais pas un classeur xlsx.")
    if total > _MAX_XLSX_UNCOMPRESSED:
        raise InputTooLarge(f"{path} est trop volumineux une fois décompressé ({total // 2**20} Mio).")


def _xlsx_rows(path: Path) -> Iterator[Sequence[Any]]:
    _check_xlsx(path)
    import openpyxl  # heavy-ish; only when an xlsx is read

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on hostile or broken files
        raise CorruptFile(f"{path} n'est pas un classeur xlsx lisible ({type(exc).__name__}).") from exc
    try:
        ws = wb.active if wb.active is not None else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise CorruptFile(f"{path} : feuille illisible ({type(exc).__name__}).") from exc
            yield row
    finally:
        wb.close()


def _csv_rows(path: Path) -> Iterator[Sequence[Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Impossible de lire {path} : {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EncodingProblem(
            f"{path} n'est pas encodé en UTF-8 (octet invalide en position {exc.start}) ; "
            "réenregistrez le CSV en UTF-8."
        ) from exc
    if "\x00" in text[:4096]:
        raise CorruptFile(f"{path} est un fichier binaire, pas un CSV.")
    first = text[:65536]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d])
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise CorruptFile(f"{path} n'est pas un CSV lisible ({exc}).") from exc


def _table_rows(path: Path) -> Iterator[Sequence[Any]]:
    if not path.exists():
        raise InputError(f"Fichier introuvable : {path}")
    if path.is_dir():
        candidate = path / EPAR_FILENAME
        if candidate.exists():
            path = candidate
        else:
            raise InputError(f"{path} est un dossier ; indiquez le fichier EPAR (.xlsx ou .csv).")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"} or (suffix != ".csv" and zipfile.is_zipfile(path)):
        return _xlsx_rows(path)
    if suffix in {".csv", ".txt", ".tsv"}:
        return _csv_rows(path)
    raise InputError(f"{path} : format non reconnu pour la table EPAR (attendu : .xlsx ou .csv).")


def _find_header(rows: Iterator[Sequence[Any]], path: Path) -> dict[str, int]:
    for n, row in enumerate(rows):
        cols: dict[str, int] = {}
        for i, cell in enumerate(row):
            key = _ALIASES.get(_norm_header(cell))
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

        def get(key: str, _row: Sequence[Any] = row) -> Any:
            i = cols.get(key)
            return _row[i] if i is not None and i < len(_row) else None

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


def _epar_record(get: Callable[[str], Any], number: str) -> Record:
    name = clean_text(get("name")) or number
    indication = clean_text(get("indication"))
    inn = clean_text(get("inn"))
    substances = split_top_level(clean_text(get("active_substance"))) or split_top_level(inn)
    area = _collapse_area(get("therapeutic_area"))
    group = clean_text(get("pharmacotherapeutic_group"))
    received = parse_date(get("ma_date")) or parse_date(get("opinion_date")) or parse_date(get("refusal_date"))
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


# --------------------------------------------------------------------------- JSON outputs


def _s(row: dict[str, Any], key: str) -> str | None:
    return clean_text(row.get(key))


def _slug(url: str | None) -> str | None:
    if not url:
        return None
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    return slug or None


def _sentence(parts: Iterable[tuple[str, str | None]]) -> str:
    return " ".join(
        f"{label}: {value.rstrip('.')}." if label else f"{value.rstrip('.')}." for label, value in parts if value
    )


def _iso(value: Any) -> str | None:
    d = parse_date(value)
    return d.isoformat() if d else None


def _subst_list(*values: str | None) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(split_top_level(v, ";"))
    return out


def _base_meta(row: dict[str, Any], source: str, substances: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"substances": substances_key(substances), "language": "en", "source_name": source}
    category = _s(row, "category")
    if category:
        meta["category"] = category
    return meta


def _referral(row: dict[str, Any]) -> tuple[str | None, str, str, dict[str, Any], date | None, dict[str, Any]]:
    name = _s(row, "referral_name") or _s(row, "international_non_proprietary_name_inn_common_name") or "Referral"
    inn = _s(row, "international_non_proprietary_name_inn_common_name")
    subs = _subst_list(inn)
    safety = parse_yes_no(row.get("safety_referral"))
    meta = _base_meta(row, "ema-referral", subs)
    meta.update(referral_type=_s(row, "referral_type") or "", status=_s(row, "current_status") or "")
    if safety is not None:
        meta["safety_referral"] = safety
    received = (parse_date(row.get("procedure_start_date")) or parse_date(row.get("chmp_cvmp_opinion_date"))
                or parse_date(row.get("european_commission_decision_date"))
                or parse_date(row.get("first_published_date")))
    text = _sentence([
        ("EMA referral", name), ("Substances", inn), ("Type", _s(row, "referral_type")),
        ("Safety referral", "yes" if safety else ("no" if safety is False else None)),
        ("Class", _s(row, "class")), ("Authorisation model", _s(row, "authorisation_model")),
        ("Centrally authorised medicines", _s(row, "associated_names_centrally_authorised_medicines")),
        ("Other medicines", _s(row, "associated_names_non_centrally_authorised_medicines")),
        ("PRAC recommendation", _s(row, "prac_recommendation")), ("Status", _s(row, "current_status")),
        ("Procedure start", _iso(row.get("procedure_start_date"))),
        ("CHMP/CVMP opinion", _iso(row.get("chmp_cvmp_opinion_date"))),
        ("European Commission decision", _iso(row.get("european_commission_decision_date"))),
    ])
    outcome = {"status": _s(row, "current_status"), "prac_recommendation": _s(row, "prac_recommendation")}
    return _s(row, "reference_number"), f"Referral: {name}", text, meta, received, outcome


def _psusa(row: dict[str, Any]) -> tuple[str | None, str, str, dict[str, Any], date | None, dict[str, Any]]:
    scope = _s(row, "active_substances_in_scope_of_procedure") or _s(row, "active_substance")
    subs = _subst_list(scope)
    result = _s(row, "regulatory_outcome")
    meta = _base_meta(row, "ema-psusa", subs)
    meta["regulatory_outcome"] = result or ""
    number = _s(row, "procedure_number")
    text = _sentence([
        ("PSUSA single assessment", number), ("Active substances", scope),
        ("Related medicines", _s(row, "related_medicines")), ("Regulatory outcome", result),
        ("First published", _iso(row.get("first_published_date"))),
    ])
    return number, f"PSUSA {scope or number or ''}".strip(), text, meta, parse_date(
        row.get("first_published_date")), {"regulatory_outcome": result}


def _dhpc(row: dict[str, Any]) -> tuple[str | None, str, str, dict[str, Any], date | None, dict[str, Any]]:
    name = _s(row, "name_of_medicine") or _s(row, "active_substances") or "DHPC"
    subs = _subst_list(_s(row, "active_substances"))
    when = parse_date(row.get("dissemination_date")) or parse_date(row.get("first_published_date"))
    base = _s(row, "procedure_number") or _slug(_s(row, "dhpc_url"))
    native = f"{base}/{when.isoformat()}" if base and when else base
    meta = _base_meta(row, "ema-dhpc", subs)
    meta.update(dhpc_type=bar_join(split_top_level(_s(row, "dhpc_type"), ";")),
                regulatory_outcome=_s(row, "regulatory_outcome") or "")
    text = _sentence([
        ("Direct healthcare professional communication", name), ("Active substances", _s(row, "active_substances")),
        ("Type", _s(row, "dhpc_type")), ("Regulatory outcome", _s(row, "regulatory_outcome")),
        ("Referral", _s(row, "referral_name")), ("Therapeutic area", _s(row, "therapeutic_area_mesh")),
        ("ATC", _s(row, "atc_code_human")),
        ("Other medicines", _s(row, "other_related_medicines_nationally_authorised")),
        ("Disseminated", when.isoformat() if when else None),
    ])
    return native, f"DHPC: {name}", text, meta, when, {"regulatory_outcome": _s(row, "regulatory_outcome")}


def _postauth(row: dict[str, Any]) -> tuple[str | None, str, str, dict[str, Any], date | None, dict[str, Any]]:
    name = _s(row, "name_of_medicine") or _s(row, "ema_product_number") or "Post-authorisation"
    subs = _subst_list(_s(row, "active_substance"))
    meta = _base_meta(row, "ema-postauth", subs)
    status = _s(row, "post_authorisation_procedure_status")
    opinion = _s(row, "post_authorisation_opinion_status")
    meta.update(procedure_status=status or "", opinion_status=opinion or "",
                therapeutic_area=_s(row, "therapeutic_area_mesh") or "",
                atc_codes=bar_join(parse_atc(row.get("atc_code_human"))))
    when = (parse_date(row.get("post_authorisation_opinion_date"))
            or parse_date(row.get("withdrawal_of_application_date")) or parse_date(row.get("first_published_date")))
    flags = [k.replace("_", " ") for k in ("generic_or_hybrid", "biosimilar", "orphan_medicine",
                                           "advanced_therapy", "accelerated_assessment",
                                           "prime_priority_medicine", "conditional_approval",
                                           "exceptional_circumstances", "additional_monitoring")
             if parse_yes_no(row.get(k))]
    text = _sentence([
        ("Post-authorisation procedure", name), ("Active substance", _s(row, "active_substance")),
        ("Therapeutic area", _s(row, "therapeutic_area_mesh")), ("ATC", _s(row, "atc_code_human")),
        ("Holder", _s(row, "marketing_authorisation_developer_applicant_holder")),
        ("Flags", ", ".join(flags) or None), ("Procedure status", status), ("Opinion", opinion),
        ("Opinion date", _iso(row.get("post_authorisation_opinion_date"))),
        ("Application withdrawn", _iso(row.get("withdrawal_of_application_date"))),
        ("Marketing authorisation", _iso(row.get("marketing_authorisation_date"))),
    ])
    return _s(row, "ema_product_number"), f"Post-authorisation: {name}", text, meta, when, {
        "procedure_status": status, "opinion_status": opinion}


def _orphan(row: dict[str, Any]) -> tuple[str | None, str, str, dict[str, Any], date | None, dict[str, Any]]:
    subs = _subst_list(_s(row, "active_substance"))
    status = _s(row, "status")
    use = _s(row, "intended_use")
    meta = _base_meta(row, "ema-orphan", subs)
    meta.update(status=status or "", product_number=_s(row, "related_ema_product_number") or "")
    when = parse_date(row.get("date_of_designation_or_refusal"))
    title = f"Orphan designation: {_s(row, 'active_substance') or _s(row, 'eu_designation_number')}"
    text = _sentence([
        ("Orphan designation", _s(row, "eu_designation_number")), ("Active substance", _s(row, "active_substance")),
        ("Intended use", use), ("Medicine", _s(row, "medicine_name")), ("Status", status),
        ("Designation or refusal date", when.isoformat() if when else None),
    ])
    return _s(row, "eu_designation_number"), title, text, meta, when, {"status": status}


def _shortage(row: dict[str, Any]) -> tuple[str | None, str, str, dict[str, Any], date | None, dict[str, Any]]:
    name = _s(row, "medicine_affected") or "Shortage"
    inn = _s(row, "international_non_proprietary_name_inn_or_common_name")
    meta = _base_meta(row, "ema-shortage", _subst_list(inn))
    status = _s(row, "supply_shortage_status")
    meta.update(status=status or "", alternatives=_s(row, "availability_of_alternatives") or "")
    when = parse_date(row.get("start_of_shortage_date")) or parse_date(row.get("first_published_date"))
    text = _sentence([
        ("Medicine shortage", name), ("Substance", inn), ("Therapeutic area", _s(row, "therapeutic_area_mesh")),
        ("Forms affected", _s(row, "pharmaceutical_forms_affected")),
        ("Strengths affected", _s(row, "strengths_affected")),
        ("Alternatives available", _s(row, "availability_of_alternatives")), ("Status", status),
        ("Start", when.isoformat() if when else None),
        ("Expected resolution", _s(row, "expected_resolution") or _iso(row.get("expected_resolution_date"))),
    ])
    return _slug(_s(row, "shortage_url")) or name, f"Shortage: {name}", text, meta, when, {"status": status}


_Builder = Callable[[dict[str, Any]], tuple[str | None, str, str, dict[str, Any], date | None, dict[str, Any]]]

# source → (file name, document kind, builder)
EMA_JSON_SOURCES: dict[str, tuple[str, str, _Builder]] = {
    "ema-referral": ("medicines_output_referrals_en.json", "referral", _referral),
    "ema-psusa": ("medicines_output_periodic_safety_update_report_single_assessments_en.json", "psusa", _psusa),
    "ema-dhpc": ("medicines_output_dhpc_en.json", "dhpc", _dhpc),
    "ema-postauth": ("medicines_output_post_authorisation_en.json", "opinion", _postauth),
    "ema-orphan": ("medicines_output_orphan_designations_en.json", "product", _orphan),
    "ema-shortage": ("medicines_output_shortages_en.json", "product", _shortage),
}


def _load_json_rows(path: Path) -> list[Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Impossible de lire {path} : {exc.strerror or exc}") from exc
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise EncodingProblem(f"{path} n'est pas encodé en UTF-8 (octet invalide en position {exc.start}).") from exc
    except json.JSONDecodeError as exc:
        raise CorruptFile(f"{path} n'est pas un JSON valide (ligne {exc.lineno}, colonne {exc.colno}).") from exc
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            data = lists[0]
    if not isinstance(data, list):
        raise CorruptFile(f"{path} : liste d'éléments attendue dans ce fichier JSON EMA.")
    return data


def iter_ema_json_documents(path: Path, source: str, report: LoadReport | None = None) -> Iterator[Document]:
    """Documents of one EMA JSON output file for ``source`` (one of :data:`EMA_JSON_SOURCES`)."""
    if source not in EMA_JSON_SOURCES:
        raise InputError(f"Source EMA inconnue : {source}")
    _, kind, builder = EMA_JSON_SOURCES[source]
    report = report if report is not None else LoadReport(source=source)
    report.add_file(path)
    counts: dict[str, int] = {}
    for row in _load_json_rows(Path(path)):
        if not isinstance(row, dict):
            report.skip(SKIP_NOT_OBJECT)
            continue
        native, title, text, meta, when, outcome = builder(row)
        if not native:
            report.skip(SKIP_NO_ID)
            continue
        n = counts.get(native, 0) + 1
        counts[native] = n
        doc_id = f"{source}:{native}" if n == 1 else f"{source}:{native}~{n}"
        meta = {k: v for k, v in meta.items() if v is not None}
        meta.pop("source_name", None)
        if when:
            meta["year"] = when.year
            meta["received_at"] = when.isoformat()
        try:
            doc = Document(
                id=doc_id, source=source, kind=kind, title=title, text=text or title, metadata=meta,  # type: ignore[arg-type]
                language="en", received_at=when,
                outcome={k: v for k, v in outcome.items() if v is not None} or None,
            )
        except ValidationError:
            report.skip(SKIP_INVALID)
            continue
        yield doc
        report.ok()


def iter_ema_documents(
    ema_dir: Path, report_by_source: dict[str, LoadReport] | None = None
) -> Iterator[Document]:
    """Documents of every EMA JSON output present in ``ema_dir`` (a missing file is simply absent).

    ``report_by_source`` receives one :class:`LoadReport` per source read. EPARs are not included:
    use :func:`iter_epar_records` + :func:`epar_record_to_document`.
    """
    ema_dir = Path(ema_dir)
    if not ema_dir.is_dir():
        raise InputError(f"Dossier EMA introuvable : {ema_dir}")
    for source, (filename, _, _) in EMA_JSON_SOURCES.items():
        path = ema_dir / filename
        if not path.exists():
            continue
        report = LoadReport(source=source)
        if report_by_source is not None:
            report_by_source[source] = report
        yield from iter_ema_json_documents(path, source, report)
        report.finish()


def ema_facts_by_substance(ema_dir: Path) -> dict[str, list[Document]]:
    """EMA documents (referrals, PSUSAs, DHPCs…) indexed by normalised substance name.

    For the classifier's database crossing: ``facts["valproic acid"]`` lists every referral,
    PSUSA, DHPC, post-authorisation opinion, orphan designation and shortage naming it.
    """
    facts: dict[str, list[Document]] = {}
    for doc in iter_ema_documents(ema_dir):
        for name in str(doc.metadata.get("substances", "")).strip("|").split("|"):
            if name:
                facts.setdefault(name, []).append(doc)
    return facts
