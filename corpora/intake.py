"""Intake parsing (pure, framework-free): uploaded bytes → Dossiers, with French errors.

Accepted formats (chosen from the declared format, else the file name, else the content):

- **JSON** (one Dossier object, or a list of them) and **JSON Lines** (one per line), in the
  format written by ``gdr corpora convert``. Any ``outcome`` key is dropped unread. Missing
  ``id`` / ``source`` / ``title`` / ``language`` are filled in (``intake:<content hash>``).
- **Plain text** (``.txt``, ``.md``): the narrative of one dossier of the declared type; the
  title is the first line; the language (fr/en) comes from marker-word counts.
- **ICH E2B(R3) ICSR** (HL7 v3 XML, ``PORR_IN049016UV``, alone or in a batch): one Dossier per
  ``investigationEvent``; see :func:`parse_e2b` for what is mapped.

Encodings: UTF-8 (with or without BOM). Bytes that are not UTF-8 are decoded as Windows-1252
only when the result is clearly French/English text (no control characters, every non-ASCII
character a Latin letter or common typographic sign), with a warning; anything else (UTF-16,
binary, other code pages) is refused with :class:`~corpora.errors.EncodingProblem`.

XML is parsed only with ``defusedxml`` with DTDs forbidden: billion-laughs, external entities
(XXE) and any ``<!DOCTYPE>`` are refused before expansion.

Every refusal is a :class:`~corpora.errors.GdrError` subclass with a precise French message.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from corpora import seriousness
from corpora.errors import CorruptFile, EncodingProblem, InputError, InputTooLarge
from corpora.limits import IntakeLimits
from corpora.model import DOSSIER_TYPES, Dossier, Product
from corpora.normalise import detect_language, fold_in_place, plain_apostrophes

Format = Literal["json", "jsonl", "text", "xml"]
FORMATS: tuple[str, ...] = ("json", "jsonl", "text", "xml")
# Read before decoding, by corpora.documents (pdf, docx) and corpora.batch (csv, zip).
BINARY_FORMATS: tuple[str, ...] = ("pdf", "docx", "csv", "zip")

MAX_DOSSIERS = 1000
"""At most this many dossiers per uploaded file (larger batches: ``gdr triage``)."""

INTAKE_SOURCE = "intake"

INJECTION_WARNING = "Le texte contient des instructions adressées à un assistant : elles ont été ignorées."
CP1252_WARNING = "Fichier décodé en Windows-1252 (il n'était pas en UTF-8) : vérifiez les accents."

_EXTENSIONS: dict[str, Format] = {
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "text", ".md": "text",
    ".markdown": "text", ".text": "text", ".xml": "xml",
}
_MEDIA_TYPES: dict[str, Format] = {
    "application/json": "json", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl", "text/plain": "text", "text/markdown": "text",
    "application/xml": "xml", "text/xml": "xml", "application/hl7-v3+xml": "xml",
}

# Non-ASCII characters accepted in a Windows-1252 fallback: Latin letters and typographic signs.
_CP1252_OK = set("àâäáãåçéèêëíìîïñóòôöõúùûüýÿœæÀÂÄÁÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕÚÙÛÜÝŸŒÆ"
                 "«»‘’‚“”„–—…°€£§©®™•·×÷µ¹²³¼½¾ªº¿¡\u00a0")


@dataclass
class IntakeItem:
    """One dossier read from an upload, with the French warnings that concern it."""

    dossier: Dossier
    warnings: list[str] = field(default_factory=list)
    declared_seriousness: list[str] = field(default_factory=list)
    pages: list[dict[str, int]] = field(default_factory=list)
    """Where the text comes from in a paged document: ``{"page", "start", "end"}`` spans of ``dossier.text``."""
    details: dict[str, Any] = field(default_factory=dict)
    """What intake read besides the dossier (file format, CIOMS boxes…), shown with the triage."""


# --------------------------------------------------------------------------- format and encoding

def detect_format(data: bytes | str, filename: str | None = None, declared: str | None = None,
                  media_type: str | None = None) -> Format:
    """The upload's format: declared, else from the file name, else from the media type, else sniffed."""
    if declared:
        value = declared.strip().lower()
        if value in ("ndjson", "json-lines"):
            value = "jsonl"
        if value in ("txt", "md", "markdown"):
            value = "text"
        if value not in FORMATS and value not in BINARY_FORMATS:
            raise InputError(
                f"Format inconnu : « {declared} » (attendu : json, jsonl, text, xml, pdf, docx, csv ou zip)."
            )
        if value in BINARY_FORMATS:  # never reaches here for real PDF/DOCX/CSV/zip bytes: read as text
            return "text"
        return value  # type: ignore[return-value]
    if filename:
        name = filename.strip().lower()
        for ext, fmt in _EXTENSIONS.items():
            if name.endswith(ext):
                return fmt
    if media_type:
        base = media_type.split(";")[0].strip().lower()
        if base in _MEDIA_TYPES:
            return _MEDIA_TYPES[base]
    head = data[:512].lstrip() if isinstance(data, str) else data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    first = head[:1].decode("latin-1") if isinstance(head, bytes) else head[:1]
    if first == "<":
        return "xml"
    if first in ("{", "["):
        return "jsonl" if first == "{" and _looks_like_jsonl(data) else "json"
    return "text"


def _looks_like_jsonl(data: bytes | str) -> bool:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
    except ValueError:
        return False
    return True


def decode_bytes(data: bytes, name: str = "fichier") -> tuple[str, list[str]]:
    """Decode an upload: UTF-8 (BOM allowed), else clearly-French Windows-1252, else refuse.

    Returns the NFC text and the warnings (a Windows-1252 fallback is reported).
    """
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise InputError(f"Fichier vide : {name} ne contient aucun texte.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        raise EncodingProblem(
            f"Encodage non pris en charge : {name} semble encodé en UTF-16 ou UTF-32. "
            "Réenregistrez-le en UTF-8."
        )
    if b"\x00" in data:
        raise EncodingProblem(f"Fichier binaire refusé : {name} contient des octets nuls (ce n'est pas du texte).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fallback = _clear_cp1252(data)
        if fallback is None:
            raise EncodingProblem(
                f"Encodage non reconnu : {name} n'est pas en UTF-8 (octet 0x{data[exc.start]:02x} à la "
                f"position {exc.start}). Réenregistrez-le en UTF-8."
            ) from None
        return unicodedata.normalize("NFC", fallback), [CP1252_WARNING]
    bad = _control_chars(text)
    if bad > max(3, len(text) // 100):
        raise EncodingProblem(f"Fichier binaire refusé : {name} contient {bad} caractères de contrôle.")
    return unicodedata.normalize("NFC", text), []


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without BOM: NUL bytes on one parity only (ASCII text in 16-bit units)."""
    head = data[:4096]
    even, odd = head[0::2], head[1::2]
    if len(head) < 4:
        return False
    ze, zo = even.count(0) / len(even), odd.count(0) / max(1, len(odd))
    return (ze > 0.4 and zo < 0.05) or (zo > 0.4 and ze < 0.05)


def _control_chars(text: str) -> int:
    return sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f")


def _clear_cp1252(data: bytes) -> str | None:
    """The Windows-1252 reading of ``data`` when it is clearly text in that code page, else None."""
    try:
        text = data.decode("cp1252")  # strict: the five undefined bytes fail
    except UnicodeDecodeError:
        return None
    if _control_chars(text):
        return None
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii or any(c not in _CP1252_OK for c in non_ascii):
        return None
    return text


# --------------------------------------------------------------------------- language and ids

def language_of(text: str, default: str = "fr") -> str:
    """``"fr"`` or ``"en"`` (:func:`corpora.normalise.detect_language`); ``default`` when it cannot tell."""
    language = detect_language(text)
    return language if language in ("fr", "en") else default


def content_id(text: str) -> str:
    """Stable id of an uploaded dossier: ``intake:<12 hex of the content's SHA-1>``."""
    return f"{INTAKE_SOURCE}:{hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]}"


def _title_from(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= 120 else line[:119].rstrip() + "…"
    return fallback


# --------------------------------------------------------------------------- prompt injection

def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile injection patterns, written without accents: matched case-insensitively on the folded text."""
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def find_injections(text: str, patterns: Sequence[re.Pattern[str]]) -> list[str]:
    """The phrases of ``text`` that address an assistant ("ignore previous instructions"…)."""
    folded = fold_in_place(plain_apostrophes(text))
    found: list[str] = []
    for pattern in patterns:
        m = pattern.search(folded)
        if m:
            found.append(m.group(0))
    return found


# --------------------------------------------------------------------------- JSON

def _json_error(exc: json.JSONDecodeError, line_offset: int = 0) -> str:
    reasons = {
        "Expecting value": "valeur attendue",
        "Expecting property name enclosed in double quotes": "nom de clé entre guillemets attendu",
        "Expecting ',' delimiter": "virgule attendue",
        "Expecting ':' delimiter": "deux-points attendu",
        "Unterminated string starting at": "chaîne non terminée",
        "Extra data": "données en trop après la fin du JSON",
        "Invalid control character at": "caractère de contrôle dans une chaîne",
    }
    reason = reasons.get(exc.msg, exc.msg)
    return f"JSON invalide à la ligne {exc.lineno + line_offset}, colonne {exc.colno} : {reason}."


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(x) for x in err.get("loc", ()))
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            what = "clé inconnue"
        elif kind == "missing":
            what = "obligatoire"
        elif kind == "literal_error" and where == "type":
            what = "type inconnu (attendu : pv, amm ou aec)"
        else:
            what = "valeur invalide"
        parts.append(f"« {where} » ({what})")
    return ", ".join(parts)


def dossier_from_object(obj: Any, *, declared_type: str | None = None, where: str = "",
                        fallback_title: str = "Dossier déposé") -> Dossier:
    """A Dossier from a decoded JSON object; ``outcome`` dropped unread, missing keys filled."""
    prefix = f"{where} : " if where else ""
    if not isinstance(obj, Mapping):
        raise CorruptFile(f"{prefix}un dossier doit être un objet JSON {{…}}.")
    data = {k: v for k, v in obj.items() if k != "outcome"}
    raw_text = data.get("text")
    text = raw_text if isinstance(raw_text, str) else ""
    if data.get("type") is None:
        if declared_type is None:
            raise InputError(f"{prefix}type de dossier absent : précisez-le (pv, amm ou aec).")
        data["type"] = declared_type
    if not data.get("id"):
        data["id"] = content_id(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str))
        data.setdefault("source", INTAKE_SOURCE)
    if not data.get("source"):
        data["source"] = str(data["id"]).split(":", 1)[0]
    if not data.get("title"):
        data["title"] = _title_from(text, fallback_title)
    if not data.get("language"):
        data["language"] = language_of(text)
    try:
        return Dossier.model_validate(data)
    except ValidationError as exc:
        raise CorruptFile(f"{prefix}dossier invalide : {_validation_message(exc)}.") from None


def parse_json(text: str, *, declared_type: str | None = None, jsonl: bool | None = None) -> list[Dossier]:
    """Dossiers from a JSON document (object or list) or JSON Lines; line numbers in errors."""
    if jsonl is not True:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            if jsonl is False or not _looks_like_jsonl(text):
                raise CorruptFile(_json_error(exc)) from None
        else:
            items = obj if isinstance(obj, list) else [obj]
            _check_count(len(items))
            if not items:
                raise InputError("Fichier vide : la liste JSON ne contient aucun dossier.")
            return [dossier_from_object(o, declared_type=declared_type,
                                        where=f"dossier {i}" if len(items) > 1 else "")
                    for i, o in enumerate(items, 1)]
    dossiers: list[Dossier] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorruptFile(_json_error(exc, line_offset=n - 1)) from None
        dossiers.append(dossier_from_object(obj, declared_type=declared_type, where=f"ligne {n}"))
        _check_count(len(dossiers))
    if not dossiers:
        raise InputError("Fichier vide : aucune ligne JSON.")
    return dossiers


def _check_count(n: int) -> None:
    if n > MAX_DOSSIERS:
        raise InputTooLarge(
            f"Trop de dossiers dans un même fichier (plus de {MAX_DOSSIERS}) : découpez-le ou utilisez « gdr triage »."
        )


# --------------------------------------------------------------------------- plain text

def parse_text(text: str, *, declared_type: str | None, filename: str | None = None) -> tuple[Dossier, list[str]]:
    """One dossier from a narrative; without a declared type, ``pv`` is assumed (with a warning)."""
    warnings: list[str] = []
    dtype = declared_type
    if dtype is None:
        dtype = "pv"
        warnings.append("Type de dossier non précisé : pharmacovigilance (pv) supposée.")
    body = text.strip()
    stem = (filename or "").rsplit("/", 1)[-1].rsplit(".", 1)[0].strip()
    dossier = Dossier(
        id=content_id(f"{dtype}\n{body}"), type=dtype,  # type: ignore[arg-type]
        title=_title_from(body, stem or "Dossier déposé"), text=body,
        language=language_of(body), source=INTAKE_SOURCE,
    )
    return dossier, warnings


# --------------------------------------------------------------------------- ICH E2B(R3)

# E2B(R3) observation codes (OID 2.16.840.1.113883.3.989.2.1.1.19) used here.
_OBS_AGE = "3"
_OBS_REACTION = "29"
_SERIOUSNESS: dict[str, str] = {  # E.i.3.2a-f
    "34": seriousness.DEATH,
    "21": seriousness.LIFE_THREATENING,
    "33": seriousness.HOSPITALISATION,
    "35": seriousness.DISABILITY,
    "12": seriousness.CONGENITAL_ANOMALY,
    "26": seriousness.OTHER,
}
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


def _date(value: str | None) -> str | None:
    if not value or len(value) < 8 or not value[:8].isdigit():
        return None
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}"


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
              seriousness_in_text: bool = True, bounded: bool = True) -> list[IntakeItem]:
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
    if bounded:  # an upload; corpus reading (corpora.e2b_export.read_records) is not bounded
        _check_count(len(events))
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
    language = declared_language if re.fullmatch(r"[a-z]{2}", declared_language) else language_of(
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


# --------------------------------------------------------------------------- entry point

def parse_upload(data: bytes, *, filename: str | None = None, declared_type: str | None = None,
                 declared_format: str | None = None, media_type: str | None = None,
                 max_bytes: int | None = None,
                 injection_patterns: Sequence[re.Pattern[str]] = (), limits: IntakeLimits | None = None,
                 batches: bool = True) -> list[IntakeItem]:
    """Turn an uploaded file into dossiers (see the module docstring); French errors only.

    PDF and DOCX go to :mod:`corpora.documents`; CSV and zip batches to :mod:`corpora.batch`
    (``batches=False`` when reading a member of a batch), where the first bad row refuses the
    whole upload (``POST /triage/batch`` reports rows one by one instead).
    """
    name = f"« {filename} »" if filename else "le fichier"
    if declared_type is not None and declared_type not in DOSSIER_TYPES:
        raise InputError(f"Type de dossier inconnu : « {declared_type} » (attendu : pv, amm ou aec).")
    if max_bytes is not None and len(data) > max_bytes:
        raise InputTooLarge(
            f"Fichier trop volumineux : {len(data):,} octets (maximum {max_bytes:,}).".replace(",", " ")
        )
    limits = limits or IntakeLimits()
    from corpora.documents import document_format, parse_document

    document = document_format(data, filename, declared_format, media_type)
    if document is not None:
        docs = parse_document(document, data, name=name, filename=filename, declared_type=declared_type,
                              limits=limits)
        return [_finish_item(item, [], injection_patterns) for item in docs]
    if batches:
        from corpora.batch import batch_format, iter_batch

        if batch_format(data, filename, declared_format, media_type) is not None:
            batch: list[IntakeItem] = []
            for entry in iter_batch(data, filename=filename, declared_type=declared_type,
                                    declared_format=declared_format, media_type=media_type, limits=limits,
                                    injection_patterns=injection_patterns):
                if entry.item is None:
                    raise CorruptFile(f"{entry.where} : {entry.error}")
                batch.append(entry.item)
                _check_count(len(batch))
            return batch
    text, file_warnings = decode_bytes(data, name)
    fmt = detect_format(text, filename, declared_format, media_type)
    if fmt == "xml":
        items = parse_e2b(text, declared_type=declared_type)
    elif fmt in ("json", "jsonl"):
        items = [IntakeItem(d) for d in parse_json(text, declared_type=declared_type,
                                                   jsonl=True if fmt == "jsonl" else None)]
    else:
        if text.lstrip().startswith("<!DOCTYPE") or text.lstrip().startswith("<?xml"):
            items = parse_e2b(text, declared_type=declared_type)
        else:
            dossier, warnings = parse_text(text, declared_type=declared_type, filename=filename)
            items = [IntakeItem(dossier, warnings)]
    return [_finish_item(item, file_warnings, injection_patterns) for item in items]


def _finish_item(item: IntakeItem, file_warnings: list[str],
                 injection_patterns: Sequence[re.Pattern[str]]) -> IntakeItem:
    item.warnings[:0] = file_warnings
    if not item.dossier.text.strip():
        item.warnings.append("Texte vide : triage sur les seules données structurées.")
    if injection_patterns and find_injections(f"{item.dossier.title}\n{item.dossier.text}", injection_patterns):
        item.warnings.append(INJECTION_WARNING)
    return item
