"""Features of an AMM dossier known at submission, built by one function for training and serving.

``amm_feature_row(dossier, findings, fired, spec)`` is what ``gdr train --type amm``, its evaluation
and ``gdr triage`` (through :func:`classifier.assess.features_for`) all call; the trained model carries
its :class:`AmmFeatureSpec` (``model.amm_spec_``) so that serving rebuilds exactly the training features.

What an assessor has when the application arrives: the application flags (generic, biosimilar, orphan,
ATMP, accelerated assessment, PRIME), the therapeutic area, the pharmacotherapeutic group, the ATC code,
whether the substance was already in an earlier EPAR, and the reception date. The EMA table has no
submission date: ``received_at`` is a stated proxy (opinion − 365 days, see
:func:`corpora.loaders.ema_epar.submission_proxy`), never the authorisation date. The indication text of
the table is the *authorised* indication, written after the assessment: ``spec.indication`` says whether
the model reads it (measured with and without; the caveat is in the model card).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from classifier.features import FeatureRow, feature_row, normalise_text, substance_key
from corpora.model import Dossier
from corpora.normalise import fold

FIRST_YEAR = 1995


@dataclass(frozen=True)
class AmmFeatureSpec:
    """How the AMM features are built: kept in the model so that serving builds the training features.

    ``first_seen``: substance key → first (proxy) reception year of an EPAR holding it, from the
    training table; ``indication``: whether the (authorised) indication text is read; ``year``:
    whether the reception year is a feature.
    """

    first_seen: Mapping[str, int] = field(default_factory=dict)
    indication: bool = True
    year: bool = True


def first_seen_years(dossiers: Iterable[Dossier]) -> dict[str, int]:
    """Substance key → first reception year among ``dossiers`` (EPARs)."""
    out: dict[str, int] = {}
    for d in dossiers:
        y = d.received_at.year if d.received_at else 9999
        for s in d.fields.substances or ([d.fields.inn] if d.fields.inn else []):
            k = substance_key(s)
            out[k] = min(out.get(k, 9999), y)
    return out


def _fold(value: str) -> str:
    return fold(value).replace(" ", "_")


def submission_tokens(dossier: Dossier, spec: AmmFeatureSpec) -> list[str]:
    """Structured tokens of an AMM application: flags, area, group, ATC levels, novelty, year ladder."""
    f = dossier.fields
    toks: list[str] = []
    for name in ("generic", "biosimilar", "orphan", "atmp", "accelerated_assessment", "prime"):
        value = getattr(f, name)
        toks.append(f"{name}={'na' if value is None else int(bool(value))}")
    for area in re.split(r"[;|,]", f.therapeutic_area or ""):
        if area.strip():
            toks.append("area=" + _fold(area.strip()))
    if f.pharmacotherapeutic_group:
        toks.append("group=" + _fold(f.pharmacotherapeutic_group))
    if f.marketing_authorisation_holder:  # the applicant, known at submission
        words = re.findall(r"[a-z0-9]+", fold(f.marketing_authorisation_holder))
        if words:
            toks.append("applicant=" + "_".join(words[:2]))
    for atc in f.atc_codes or []:
        atc = atc.strip().upper()
        for n in (1, 3, 4, 5):
            if len(atc) >= n:
                toks.append(f"atc{n}={atc[:n]}")
    year = dossier.received_at.year if dossier.received_at else None
    subs = f.substances or ([f.inn] if f.inn else [])
    if year is not None and subs:
        firsts = [spec.first_seen.get(substance_key(s), 9999) for s in subs]
        toks.append("new_substance=" + str(int(not all(y < year for y in firsts))))
        known_for = year - max(firsts) if max(firsts) < year else 0
        toks.append("substance_known=" + next(label for bound, label in _KNOWN_BANDS if known_for <= bound))
    else:
        toks.append("new_substance=na")
    if f.new_active_substance is not None:
        toks.append(f"declared_new_substance={int(bool(f.new_active_substance))}")
    if spec.year and year is not None:
        toks += [f"year>={y}" for y in range(FIRST_YEAR, min(year, 2035) + 1)]
        month = dossier.received_at.month if dossier.received_at else 1
        toks.append(f"yearnum={year + (month - 1) / 12:.2f}")
        # the additional-monitoring rules depend on the kind of application and its period (new
        # substances and biologicals since 2011, five years on the list): kind × period crosses
        period = f"{min(max(year, 2003), 2025) // 3 * 3}"
        kinds = [t for t in toks if t.split("=")[0] in _CROSSED and not t.endswith("=na")]
        toks += [f"{k}@{period}" for k in kinds]
        for atc in {t for t in toks if t.startswith("atc3=")}:
            toks.append(f"{atc}@{period}")
    return toks


_KNOWN_BANDS = ((0, "0"), (2, "1-2"), (5, "3-5"), (10, "6-10"), (10**4, "10+"))
_CROSSED = frozenset({"generic", "biosimilar", "orphan", "atmp", "new_substance", "accelerated_assessment",
                      "substance_known"})


def amm_text(dossier: Dossier, spec: AmmFeatureSpec) -> str:
    """The text the model reads: the product and indication, or without the indication only the
    substance, area and group (the table's indication is the authorised one)."""
    f = dossier.fields
    if spec.indication:
        return feature_row(dossier).text
    parts = [f.inn or " ".join(f.substances or []), f.therapeutic_area or "", f.pharmacotherapeutic_group or ""]
    return normalise_text("\n".join(p for p in parts if p), dossier.language)


def amm_feature_row(dossier: Dossier, findings: Sequence[Any] = (), fired: Sequence[Any] = (),
                    spec: AmmFeatureSpec | None = None) -> FeatureRow:
    """The features of one AMM dossier (pure): the common row (structured, findings, criteria fired
    without context) whose text follows ``spec.indication``, plus :func:`submission_tokens`."""
    spec = spec or AmmFeatureSpec()
    if spec.indication:
        base = feature_row(dossier, findings, fired)
    else:
        # the findings and criteria read in the indication text are left out with it
        base = FeatureRow(amm_text(dossier, spec), tuple(feature_row(dossier).tokens))
    return FeatureRow(base.text, base.tokens + tuple(submission_tokens(dossier, spec)))
