"""Filterable facets of a document (pure): what every chunk carries as metadata.

Facets are derived from the document's source, kind, metadata and recorded outcome, whatever
the loader's exact metadata key spelling (``vaccine_types`` or ``vaccine_type``, ``atc_codes``
or ``atc``…). Values are normalised (accent-folded, lowercase for words, uppercase for codes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from corpora.model import PV_OUTCOME_FLAGS, SERIOUS_KEYS
from corpora.normalise import bar_split, fold, normalise_substance
from retrieval.analysis import words

# Dossier type of each source's documents when the metadata does not say it.
SOURCE_DOSSIER_TYPE: dict[str, str] = {
    "vaers": "pv", "ema-psusa": "pv", "ema-dhpc": "pv", "ema-referral": "pv",
    "ema-epar": "amm", "has-smr": "amm", "has-asmr": "amm", "bdpm": "amm", "ema-postauth": "amm",
    "ema-orphan": "amm", "ctgov": "aec",
}

# Facet name → kind ("str" single value, "list" multi-valued, "bool", "int", "code" = prefix-matched code list)
FACETS: dict[str, str] = {
    "source": "str", "kind": "str", "type": "str", "language": "str", "year": "int",
    "vaccine_type": "list", "substance": "list", "atc": "code", "symptom": "list",
    "sex": "str", "age_band": "str", "serious": "bool", "died": "bool", "life_threatening": "bool",
    "hospitalised": "bool", "prolonged_hospitalisation": "bool", "disability": "bool",
    "congenital_anomaly": "bool", "er_visit": "bool", "recovered": "bool", "status": "str",
}
# French aliases accepted in --where
FACET_ALIASES: dict[str, str] = {
    "dossier_type": "type", "langue": "language", "annee": "year", "année": "year", "vaccin": "vaccine_type",
    "vaccine": "vaccine_type", "vaccine_types": "vaccine_type", "substances": "substance", "atc_code": "atc",
    "symptome": "symptom", "symptôme": "symptom", "symptoms": "symptom", "sexe": "sex", "age": "age_band",
    "âge": "age_band", "grave": "serious", "deces": "died", "décès": "died", "statut": "status",
    "hospitalise": "hospitalised", "hospitalisé": "hospitalised",
}


def _first(meta: Mapping[str, Any], *keys: str) -> Any:
    for k in keys:
        v = meta.get(k)
        if v not in (None, "", []):
            return v
    return None


def norm_word(value: str) -> str:
    return " ".join(words(fold(value)))


def norm_code(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def age_band(age: Any) -> str | None:
    try:
        a = float(age)
    except (TypeError, ValueError):
        return None
    if a < 0 or a > 130:
        return None
    for upper, label in ((1, "0-1"), (3, "1-2"), (12, "3-11"), (18, "12-17"), (40, "18-39"), (65, "40-64")):
        if a < upper:
            return label
    return "65+"


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = fold(value.strip())
        if v in {"y", "yes", "oui", "true", "1", "vrai"}:
            return True
        if v in {"n", "no", "non", "false", "0", "faux"}:
            return False
    if isinstance(value, int | float):
        return bool(value)
    return None


def dossier_type_of(source: str, metadata: Mapping[str, Any]) -> str | None:
    declared = _first(metadata, "dossier_type", "type")
    if isinstance(declared, str) and declared in ("pv", "amm", "aec"):
        return declared
    return SOURCE_DOSSIER_TYPE.get(source)


def year_of(received_at: date | str | None, metadata: Mapping[str, Any]) -> int | None:
    if isinstance(received_at, date):
        return received_at.year
    if isinstance(received_at, str) and len(received_at) >= 4 and received_at[:4].isdigit():
        return int(received_at[:4])
    y = metadata.get("year")
    try:
        return int(y) if y is not None else None
    except (TypeError, ValueError):
        return None


def document_facets(
    source: str, kind: str, language: str, received_at: date | str | None,
    metadata: Mapping[str, Any], outcome: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Every filterable facet of a document (lists for multi-valued ones)."""
    products = metadata.get("products") or []
    vaccine_types = bar_split(_first(metadata, "vaccine_types", "vaccine_type", "vax_type"))
    substances = bar_split(_first(metadata, "substances", "active_substances", "active_substance", "inn", "substance"))
    if isinstance(products, list):
        for p in products:
            if isinstance(p, Mapping):
                vaccine_types += bar_split(p.get("vaccine_type"))
                substances += bar_split(p.get("substances"))
    atc = bar_split(_first(metadata, "atc_codes", "atc", "atc_code"))
    flags: dict[str, bool | None] = {}
    sources = [outcome or {}, metadata]
    for flag in PV_OUTCOME_FLAGS:
        value = None
        for src in sources:
            if src.get(flag) is not None:
                value = _bool(src.get(flag))
                break
        flags[flag] = value
    serious_declared = _bool(metadata.get("serious")) if metadata.get("serious") is not None else None
    serious = serious_declared
    if serious is None and any(flags.get(f) is not None for f in SERIOUS_KEYS):
        serious = any(bool(flags.get(f)) for f in SERIOUS_KEYS)
    sex = _first(metadata, "patient_sex", "sex")
    status = _first(metadata, "status", "authorisation_status", "level")
    if status is None and outcome:
        status = outcome.get("status") or outcome.get("authorisation_status")
    return {
        "source": source,
        "kind": kind,
        "type": dossier_type_of(source, metadata),
        "language": (language or "").lower()[:2] or None,
        "year": year_of(received_at, metadata),
        "vaccine_type": sorted({norm_code(v) for v in vaccine_types if norm_code(v)}),
        "substance": sorted({normalise_substance(s) for s in substances if normalise_substance(s)}),
        "atc": sorted({norm_code(a) for a in atc if norm_code(a)}),
        "symptom": sorted({norm_word(s) for s in bar_split(_first(metadata, "symptoms", "symptom")) if norm_word(s)}),
        "sex": str(sex).upper()[:1] if sex else None,
        "age_band": age_band(_first(metadata, "patient_age", "age", "age_years")),
        "serious": serious,
        **flags,
        "status": norm_word(str(status)) if status else None,
    }


def fingerprint(title: str, text: str) -> str:
    """Near-duplicate key: the folded words of the text (or of the title when the text is empty)."""
    basis = " ".join(words(fold(text or title)))[:4000]
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()[:20]
