"""What every dossier-derived retrieval document (kind ``case``) shares, whatever its source."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from corpora.model import PV_OUTCOME_FLAGS, SERIOUS_KEYS, Document, Record


def case_title(products: Iterable[Any], symptoms: Iterable[str]) -> str | None:
    """"Vaccine A + Vaccine B — Reaction 1, Reaction 2, …" (None when neither is known).

    Products are named by ``name``, else ``vaccine_type``; VAERS reports and E2B(R3) ICSRs share it.
    """
    vaccines: list[str] = []
    for p in products:
        label = getattr(p, "name", None) or getattr(p, "vaccine_type", None)
        if label and label not in vaccines:
            vaccines.append(label)
    terms = list(symptoms)
    parts = []
    if vaccines:
        parts.append(" + ".join(vaccines[:3]) + (" + …" if len(vaccines) > 3 else ""))
    if terms:
        parts.append(", ".join(terms[:3]) + (", …" if len(terms) > 3 else ""))
    return " — ".join(parts) if parts else None


def is_serious(outcome: Mapping[str, Any]) -> bool:
    return any(outcome.get(k) is True for k in SERIOUS_KEYS)


def flag_metadata(outcome: Mapping[str, Any], keys: Iterable[str] = PV_OUTCOME_FLAGS) -> dict[str, bool]:
    """The recorded boolean outcome flags (unrecorded ones left out: Chroma metadata has no null)."""
    return {k: v for k in keys if isinstance(v := outcome.get(k), bool)}


def patient_metadata(record: Record) -> dict[str, Any]:
    """Reception date, age, sex and onset delay as scalar metadata, when known."""
    d, f = record.dossier, record.dossier.fields
    meta: dict[str, Any] = {}
    if d.received_at:
        meta["year"] = d.received_at.year
        meta["received_at"] = d.received_at.isoformat()
    if f.patient_age is not None:
        meta["age"] = float(f.patient_age)
    if f.patient_sex:
        meta["sex"] = f.patient_sex
    if f.onset_days is not None:
        meta["onset_days"] = float(f.onset_days)
    return meta


def case_document(record: Record, metadata: dict[str, Any]) -> Document:
    """The dossier as a ``case`` document: its text (else title), its metadata, its recorded outcome."""
    d = record.dossier
    return Document(
        id=d.id,
        source=d.source,
        kind="case",
        title=d.title,
        text=d.text or d.title,
        metadata=metadata,
        language=d.language,
        received_at=d.received_at,
        outcome=record.outcome,
    )
