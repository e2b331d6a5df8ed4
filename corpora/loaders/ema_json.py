"""EMA JSON loader: referrals, PSUSAs, DHPCs, post-authorisation opinions, orphan designations, shortages.

The ``medicines_output_*_en.json`` files (:func:`iter_ema_documents`) become retrieval ``Document``
objects; every row is kept, whatever its category (human or veterinary, recorded in
``metadata.category``). A native id already seen in the same source gets a counter suffix ``~2``,
``~3``… (rows are never merged or dropped for that); a row with no usable id at all is skipped and
counted. Substance names in metadata are the published ones folded (lowercase, accents stripped,
spaces collapsed, salts kept) and bar-joined: ``"|a|b|"``.

EPARs are in :mod:`corpora.loaders.ema_epar`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from corpora.errors import InputError
from corpora.io import read_json_list
from corpora.loaders.base import SKIP_INVALID, LoadReport
from corpora.loaders.cells import clean_text, parse_atc, parse_yes_no, split_top_level, substances_key
from corpora.model import Document
from corpora.normalise import bar_join, bar_split, parse_date

SKIP_NO_ID = "identifiant manquant"
SKIP_NOT_OBJECT = "élément qui n'est pas un objet JSON"


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


def iter_ema_json_documents(path: Path, source: str, report: LoadReport | None = None) -> Iterator[Document]:
    """Documents of one EMA JSON output file for ``source`` (one of :data:`EMA_JSON_SOURCES`)."""
    if source not in EMA_JSON_SOURCES:
        raise InputError(f"Source EMA inconnue : {source}")
    _, kind, builder = EMA_JSON_SOURCES[source]
    report = report if report is not None else LoadReport(source=source)
    report.add_file(path)
    counts: dict[str, int] = {}
    for row in read_json_list(Path(path)):
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
    use :mod:`corpora.loaders.ema_epar`.
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
        for name in bar_split(doc.metadata.get("substances")):
            facts.setdefault(name, []).append(doc)
    return facts
