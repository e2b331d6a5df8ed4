"""ICH E2B(R3) individual case safety reports (HL7 v3 XML, ``PORR_IN049016UV``) → dossiers to triage.

One :class:`~corpora.model.IntakeItem` per ``investigationEvent`` (a message alone or a batch); see
:func:`parse_e2b` for what is mapped. XML is parsed only with ``defusedxml`` with DTDs forbidden:
billion-laughs, external entities (XXE) and any ``<!DOCTYPE>`` are refused before expansion. Every
refusal is a :class:`~corpora.errors.GdrError` with a precise French message. Pure, framework-free;
:mod:`corpora.intake` chooses this parser for XML uploads, :mod:`corpora.e2b_export` writes what it reads.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from corpora import seriousness
from corpora.errors import CorruptFile, InputError
from corpora.model import INTAKE_SOURCE, Dossier, IntakeItem, Product
from corpora.normalise import dossier_language, parse_date

# E2B(R3) observation codes (OID 2.16.840.1.113883.3.989.2.1.1.19) used here.
_OBS_AGE = "3"
_OBS_REACTION = "29"
# E.i.3.2a-f seriousness criteria: E2B code → (VAERS outcome key, French label declared at intake).
SERIOUSNESS_CODES: dict[str, tuple[str | None, str]] = {
    "34": ("died", seriousness.DEATH),
    "21": ("life_threatening", seriousness.LIFE_THREATENING),
    "33": ("hospitalised", seriousness.HOSPITALISATION),
    "35": ("disability", seriousness.DISABILITY),
    "12": ("congenital_anomaly", seriousness.CONGENITAL_ANOMALY),
    "26": (None, seriousness.OTHER),  # no VAERS tick box
}
_SERIOUSNESS = {code: label for code, (_, label) in SERIOUSNESS_CODES.items()}
_AGE_UNITS = {"a": 1.0, "mo": 1 / 12, "wk": 1 / 52.18, "d": 1 / 365.25, "h": 1 / 8766, "min": 1 / 525960}
_DRUG_ROLE = {"1": "suspect", "2": "concomitant", "3": "suspect"}  # 3 = interacting
_E2B_DENIED = "XML refusé : entités/DTD interdites."


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if _local(c.tag) == name]


def _first(el: Any, *path: str) -> Any:
    cur = el
    for name in path:
        found = _children(cur, name) if cur is not None else []
        cur = found[0] if found else None
    return cur


def _descendants(el: Any, name: str) -> list[Any]:
    return [c for c in el.iter() if _local(c.tag) == name]


def _text(el: Any) -> str | None:
    if el is None:
        return None
    value = "".join(el.itertext()).strip()
    return unicodedata.normalize("NFC", value) if value else None


def _date(value: str | None) -> date | None:
    """An HL7 timestamp (``YYYYMMDD[hhmmss][±zzzz]``) as its date; an impossible date is ``None``."""
    return parse_date(value[:8]) if value else None


def parse_xml_root(text: str) -> Any:
    """Parse XML with ``defusedxml`` (DTD, entities and external references forbidden)."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(text.encode("utf-8"), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise CorruptFile(_E2B_DENIED) from None
    except ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        if "undefined entity" in str(exc):
            raise CorruptFile(_E2B_DENIED) from None
        raise CorruptFile(f"XML mal formé à la ligne {line}, colonne {col + 1}.") from None


def parse_e2b(text: str, *, declared_type: str | None = None,
              seriousness_in_text: bool = True) -> list[IntakeItem]:
    """Dossiers from an ICH E2B(R3) ICSR message (HL7 v3), one per ``investigationEvent``.

    Mapping (E2B(R3) data element → Dossier):

    - C.1.1 safety report id (``investigationEvent/id@extension``) → ``id`` = ``intake:<id>``;
      C.1.4 first receipt (``effectiveTime/low``) or C.1.5 (``availabilityTime``) → ``received_at``.
    - H.1 case narrative (``investigationEvent/text``) → ``text``; E.i.1.1a reactions as reported
      (``observation[code=29]/value/originalText``, else the MedDRA code) → ``fields.symptoms``.
    - D.2.2 age (``observation[code=3]``, unit a/mo/wk/d/h) → ``patient_age`` in years;
      D.5 sex (``administrativeGenderCode`` 1 = M, 2 = F) → ``patient_sex``; D.1 initials ignored.
    - G.k.2.2 medicinal product (``kindOfProduct/name``) and G.k.2.3.r.1 substances
      (``ingredientSubstance/name``) → ``fields.products`` (role from G.k.1: suspect, concomitant,
      interacting → suspect) and ``fields.substances``.
    - E.i.3.2 seriousness criteria (death, life-threatening, hospitalisation, disability,
      congenital anomaly, other medically important) are **declared by the reporter at intake**:
      for a new ICSR they are inputs known on arrival (unlike VAERS, where the team uses the
      recorded flags as training labels). They are appended to ``text`` as one clearly delimited
      French sentence ("Critères de gravité déclarés par le notifiant : …") so the criteria engine
      can cite them as evidence, and they are reported on the :class:`IntakeItem`.

    - The other elements :mod:`corpora.e2b_export` writes (onset, country, region, history, current
      illness, prior vaccinations, lab results, lot, dose text, route, holder, report id, onset
      delay) are read by :func:`corpora.e2b_export.extra_fields`; concomitant drugs (G.k.1 = 2) go to
      ``fields.other_medications``. ``seriousness_in_text=False`` (corpus reading) keeps the
      seriousness on the item only.

    Not mapped: reporter, sender, drug indication, causality assessments, literature references.
    Type is ``pv`` (``declared_type`` must be pv or absent).
    """
    if declared_type not in (None, "pv"):
        raise InputError("Un ICSR E2B(R3) est un dossier de pharmacovigilance : type « pv » attendu.")
    root = parse_xml_root(text)
    events = [root] if _local(root.tag) == "investigationEvent" else _descendants(root, "investigationEvent")
    if not events:
        raise CorruptFile(
            "XML non reconnu : seul le format ICH E2B(R3) (ICSR HL7 v3, élément investigationEvent) est accepté."
        )
    # An upload is bounded by corpora.intake (MAX_DOSSIERS); corpus reading (corpora.e2b_export) is not.
    items = [_e2b_event(event, n, seriousness_in_text) for n, event in enumerate(events, 1)]
    return items


def _e2b_event(event: Any, n: int, seriousness_in_text: bool = True) -> IntakeItem:
    from corpora.e2b_export import drug_history_elements, extra_fields
    from corpora.loaders.cases import case_title

    ident = None
    for id_el in _children(event, "id"):
        ident = id_el.get("extension") or ident
    narrative = _text(_first(event, "text")) or ""
    low = _first(event, "effectiveTime", "low")
    received = _date(low.get("value")) if low is not None else None
    if received is None:
        avail = _first(event, "availabilityTime")
        received = _date(avail.get("value")) if avail is not None else None
    title = _text(_first(event, "title"))

    sex = age = None
    reactions: list[str] = []
    declared: list[str] = []
    for obs in _descendants(event, "observation"):
        code_el = _first(obs, "code")
        code = code_el.get("code") if code_el is not None else None
        value = _first(obs, "value")
        if code == _OBS_AGE and value is not None and age is None:
            try:
                unit = value.get("unit", "a")
                years = float(value.get("value", ""))
                age = years if unit == "a" else round(years * _AGE_UNITS.get(unit, 1.0), 2)
            except ValueError:
                age = None
        elif code == _OBS_REACTION and value is not None:
            term = _text(_first(value, "originalText")) or _text(_first(obs, "value", "originalText"))
            term = term or value.get("displayName") or (f"MedDRA {value.get('code')}" if value.get("code") else None)
            if term and term not in reactions:
                reactions.append(term)
        elif code in _SERIOUSNESS and value is not None and value.get("value", "").lower() == "true":
            label = _SERIOUSNESS[code]
            if label not in declared:
                declared.append(label)
    for gender in _descendants(event, "administrativeGenderCode"):
        sex = {"1": "M", "2": "F"}.get(gender.get("code", ""))
        if sex:
            break

    products: list[dict[str, Any]] = []
    substances: list[str] = []
    history = drug_history_elements(event)  # D.8.r past drugs are not products of this case
    for admin in _descendants(event, "substanceAdministration"):
        kind = _first(admin, "consumable", "instanceOfKind", "kindOfProduct")
        if kind is None or any(admin is h for h in history):
            continue
        name = _text(_first(kind, "name"))
        subs = [s for s in (_text(_first(ing, "ingredientSubstance", "name"))
                            for ing in _descendants(kind, "ingredient")) if s]
        if not name and not subs:
            continue
        products.append({"name": name, "substances": subs or None})
        substances += [s for s in subs if s not in substances]
    # G.k.1 characterisation of drug role: causalityAssessment[code=20] → subject2/productUseReference.
    roles = _drug_roles(event, history)
    extra, per_product = extra_fields(event, history)
    for i, product in enumerate(products):
        if i in roles:
            product["role"] = roles[i]
        if i < len(per_product):
            product.update(per_product[i])
    concomitant = [p for p in products if p.get("role") == "concomitant"]
    products = [p for p in products if p.get("role") != "concomitant"]
    substances = [s for p in products for s in p.get("substances") or []]
    substances = list(dict.fromkeys(substances))

    body = seriousness.with_declared(narrative, declared) if seriousness_in_text else narrative
    if not body and reactions:
        body = "Réactions déclarées : " + ", ".join(reactions) + "."
    vaccine_types = list(dict.fromkeys(p["vaccine_type"] for p in products if p.get("vaccine_type")))
    manufacturers = list(dict.fromkeys(p["manufacturer"] for p in products if p.get("manufacturer")))
    fields: dict[str, Any] = {
        "patient_age": age, "patient_sex": sex, "symptoms": reactions or None,
        "products": products or None, "substances": substances or None,
        "vaccine_types": vaccine_types or None, "manufacturers": manufacturers or None,
        "other_medications": "; ".join(p["name"] for p in concomitant if p.get("name")) or None,
        **extra,
    }
    native = ident or hashlib.sha1(text_key(body, fields).encode("utf-8")).hexdigest()[:12]
    text_el = _first(event, "text")
    declared_language = (text_el.get("language") or "")[:2].lower() if text_el is not None else ""
    language = declared_language if re.fullmatch(r"[a-z]{2}", declared_language) else dossier_language(
        narrative or body)
    dossier = Dossier(
        id=f"{INTAKE_SOURCE}:{native}", type="pv",
        title=title or case_title([Product(**p) for p in products], reactions)
        or (f"ICSR {ident}" if ident else f"ICSR {n}"),
        text=body, received_at=received, language=language,  # type: ignore[arg-type]
        source=INTAKE_SOURCE, fields=fields,  # type: ignore[arg-type]
    )
    warnings = [] if narrative else ["ICSR sans récit (H.1) : triage sur les données structurées."]
    return IntakeItem(dossier=dossier, warnings=warnings, declared_seriousness=declared,
                      details={"format": "e2b-r3"})


def text_key(body: str, fields: Mapping[str, Any]) -> str:
    """What identifies an ICSR without a safety report id: its text and structured fields."""
    return body + json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)


def _drug_roles(event: Any, history: Sequence[Any] = ()) -> dict[int, str]:
    """G.k.1 roles by product position (best effort: E2B links them by product id references)."""
    ids: list[str | None] = []
    for admin in _descendants(event, "substanceAdministration"):
        if _first(admin, "consumable", "instanceOfKind", "kindOfProduct") is None or any(admin is h for h in history):
            continue
        id_el = _first(admin, "id")
        ids.append(id_el.get("root") if id_el is not None else None)
    roles: dict[int, str] = {}
    for assessment in _descendants(event, "causalityAssessment"):
        code_el = _first(assessment, "code")
        value = _first(assessment, "value")
        if code_el is None or code_el.get("code") != "20" or value is None:
            continue
        role = _DRUG_ROLE.get(value.get("code", ""))
        refs = [r.get("root") for r in _descendants(assessment, "id")]
        for ref in refs:
            if ref in ids and role:
                roles[ids.index(ref)] = role
    return roles
