"""Loader of the bundled fictitious sample (``corpora/sample/dossiers.jsonl``).

Every line is a dossier in the exact format of ``gdr corpora convert`` with its recorded
``outcome`` (see ``corpora/sample/README.md``). Malformed or invalid lines are counted in
the :class:`LoadReport` with a French reason, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpora.loaders.base import LoadReport
from corpora.loaders.cases import PV_OUTCOME_FLAGS, case_document, flag_metadata, is_serious, patient_metadata
from corpora.loaders.jsonl import iter_record_file
from corpora.model import Document, Record
from corpora.normalise import bar_join, fold

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "sample" / "dossiers.jsonl"

_OUTCOME_FLAGS = (*PV_OUTCOME_FLAGS, "additional_monitoring", "conditional_approval", "exceptional_circumstances")
_FIELD_FLAGS = ("generic", "biosimilar", "orphan", "atmp", "accelerated_assessment", "prime",
                "new_active_substance", "first_in_human", "dose_escalation", "placebo", "low_intervention",
                "randomised", "blinded", "pregnant")
_FIELD_TEXTS = ("procedure", "application_type", "phase", "therapeutic_area", "sponsor")


def iter_sample_records(path: Path | None = None, report: LoadReport | None = None) -> Iterator[Record]:
    """Stream the sample's records (default: the bundled file); bad lines are counted and skipped."""
    source = Path(path) if path is not None else SAMPLE_PATH
    report = report if report is not None else LoadReport(source="sample")
    yield from iter_record_file(source, report)
    report.finish()


def _substances(record: Record) -> list[str]:
    fields = record.dossier.fields
    names: list[str] = list(fields.substances or [])
    for product in fields.products or []:
        names.extend(product.substances or [])
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name, None)
    return list(seen)


def sample_record_to_document(record: Record) -> Document:
    """A sample dossier as a retrieval ``Document`` (kind ``case``).

    Metadata are Chroma-compatible scalars (``None`` left out): ``type``, ``substances``
    (``"|a|b|"`` lowercase, accent-stripped), ``atc_codes``, ``vaccine_types``, ``population``,
    the main boolean flags of the fields, ``risk_level`` and ``processing_mode`` (recorded outcome),
    the outcome flags and ``serious`` for PV. ``outcome`` is the record's outcome dict.
    """
    d = record.dossier
    f = d.fields
    outcome: dict[str, Any] = dict(record.outcome or {})
    meta: dict[str, Any] = {
        "type": d.type,
        "language": d.language,
        "substances": bar_join(fold(s) for s in _substances(record)),
        "atc_codes": bar_join(f.atc_codes),
        "vaccine_types": bar_join(f.vaccine_types),
        "population": bar_join(f.population),
    }
    meta.update(patient_metadata(record))
    for key in _FIELD_FLAGS:
        value = getattr(f, key)
        if isinstance(value, bool):
            meta[key] = value
    for key in _FIELD_TEXTS:
        value = getattr(f, key)
        if value:
            meta[key] = value
    meta.update(flag_metadata(outcome, _OUTCOME_FLAGS))
    for key in ("risk_level", "processing_mode", "authorisation_status", "status"):
        value = outcome.get(key)
        if isinstance(value, str) and value:
            meta[key] = value
    if d.type == "pv":
        meta["serious"] = is_serious(outcome)
    return case_document(record, meta)
