"""Intake parsing (pure, framework-free): uploaded bytes → Dossiers, with French errors.

Accepted formats (chosen from the declared format, else the file name, else the content):

- **JSON** (one Dossier object, or a list of them) and **JSON Lines** (one per line), in the
  format written by ``gdr corpora convert``. Any ``outcome`` key is dropped unread. Missing
  ``id`` / ``source`` / ``title`` / ``language`` are filled in (``intake:<content hash>``).
- **Plain text** (``.txt``, ``.md``): the narrative of one dossier of the declared type; the
  title is the first line; the language (fr/en) comes from marker-word counts.
- **ICH E2B(R3) ICSR** (HL7 v3 XML, ``PORR_IN049016UV``, alone or in a batch): one Dossier per
  ``investigationEvent``; the mapping is in :mod:`corpora.e2b`.

PDF and DOCX documents (:mod:`corpora.documents`) and CSV/zip batches (:mod:`corpora.batch`) are
recognised from their bytes first. Each text format has one parser in :data:`PARSERS` (text in, items
out); :func:`parse_upload` decodes the bytes, picks the format, runs its parser, then applies what every
format shares: the dossier-count limit, the file's warnings and the prompt-injection check. A new text
format is a parser in :data:`PARSERS`, its name in :data:`FORMATS`, and its file extensions and media
types.

Encodings: UTF-8 (with or without BOM). Bytes that are not UTF-8 are decoded as Windows-1252
only when the result is clearly French/English text (no control characters, every non-ASCII
character a Latin letter or common typographic sign), with a warning; anything else (UTF-16,
binary, other code pages) is refused with :class:`~corpora.errors.EncodingProblem`.

Every refusal is a :class:`~corpora.errors.GdrError` subclass with a precise French message.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import ValidationError

from corpora.e2b import parse_e2b
from corpora.errors import CorruptFile, EncodingProblem, InputError, InputTooLarge
from corpora.io import json_reason, loads_json
from corpora.limits import IntakeLimits, check_text_length
from corpora.model import DOSSIER_TYPES, INTAKE_SOURCE, Dossier, IntakeItem
from corpora.normalise import dossier_language, fold_in_place, fr_int, plain_apostrophes

Format = Literal["json", "jsonl", "text", "xml"]
FORMATS: tuple[str, ...] = ("json", "jsonl", "text", "xml")
# Read before decoding, by corpora.documents (pdf, docx) and corpora.batch (csv, zip).
BINARY_FORMATS: tuple[str, ...] = ("pdf", "docx", "csv", "zip")

MAX_DOSSIERS = 1000
"""At most this many dossiers per uploaded file (larger batches: ``gdr triage``)."""

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
        loads_json(lines[0])
    except ValueError:
        return False
    return True


def decode_bytes(data: bytes, name: str = "fichier") -> tuple[str, list[str]]:
    """Decode an upload: UTF-8 (BOM allowed), else clearly-French Windows-1252, else refuse.

    Returns the NFC text and the warnings (a Windows-1252 fallback is reported).
    """
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise InputError(f"Fichier vide : {name} ne contient aucun texte.")
    refuse_binary(data, name)
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


def refuse_binary(data: bytes, name: str) -> None:
    """Refuse UTF-16/UTF-32 and any NUL byte: the same message for every text format (text, JSON, CSV)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        raise EncodingProblem(
            f"Encodage non pris en charge : {name} semble encodé en UTF-16 ou UTF-32. "
            "Réenregistrez-le en UTF-8."
        )
    if b"\x00" in data:
        raise EncodingProblem(f"Fichier binaire refusé : {name} contient des octets nuls (ce n'est pas du texte).")


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


# --------------------------------------------------------------------------- ids and titles

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
    return f"JSON invalide à la ligne {exc.lineno + line_offset}, colonne {exc.colno} : {json_reason(exc)}."


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
        data["language"] = dossier_language(text)
    try:
        return Dossier.model_validate(data)
    except ValidationError as exc:
        raise CorruptFile(f"{prefix}dossier invalide : {_validation_message(exc)}.") from None


def parse_json(text: str, *, declared_type: str | None = None, jsonl: bool | None = None) -> list[Dossier]:
    """Dossiers from a JSON document (object or list) or JSON Lines; line numbers in errors."""
    if jsonl is not True:
        try:
            obj = loads_json(text)
        except json.JSONDecodeError as exc:
            if jsonl is False or not _looks_like_jsonl(text):
                raise CorruptFile(_json_error(exc)) from None
        else:
            items = obj if isinstance(obj, list) else [obj]
            check_count(len(items))
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
            obj = loads_json(line)
        except json.JSONDecodeError as exc:
            raise CorruptFile(_json_error(exc, line_offset=n - 1)) from None
        dossiers.append(dossier_from_object(obj, declared_type=declared_type, where=f"ligne {n}"))
        check_count(len(dossiers))
    if not dossiers:
        raise InputError("Fichier vide : aucune ligne JSON.")
    return dossiers


def check_count(n: int) -> None:
    """Refuse an upload holding more than :data:`MAX_DOSSIERS` dossiers."""
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
        language=dossier_language(body), source=INTAKE_SOURCE,
    )
    return dossier, warnings


# --------------------------------------------------------------------------- entry point

Parser = Callable[[str, str | None, str | None], list[IntakeItem]]
"""A text format's parser: ``(text, declared_type, filename)`` → the dossiers read, with their warnings."""


def _json_items(text: str, declared_type: str | None, filename: str | None) -> list[IntakeItem]:
    return [IntakeItem(d) for d in parse_json(text, declared_type=declared_type)]


def _jsonl_items(text: str, declared_type: str | None, filename: str | None) -> list[IntakeItem]:
    return [IntakeItem(d) for d in parse_json(text, declared_type=declared_type, jsonl=True)]


def _text_items(text: str, declared_type: str | None, filename: str | None) -> list[IntakeItem]:
    if text.lstrip().startswith(("<!DOCTYPE", "<?xml")):  # XML sent as text still goes to the defended parser
        return _xml_items(text, declared_type, filename)
    dossier, warnings = parse_text(text, declared_type=declared_type, filename=filename)
    return [IntakeItem(dossier, warnings)]


def _xml_items(text: str, declared_type: str | None, filename: str | None) -> list[IntakeItem]:
    return parse_e2b(text, declared_type=declared_type)


PARSERS: dict[str, Parser] = {"json": _json_items, "jsonl": _jsonl_items, "text": _text_items, "xml": _xml_items}


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
            f"Fichier trop volumineux : {fr_int(len(data))} octets (maximum {fr_int(max_bytes)})."
        )
    limits = limits or IntakeLimits()
    from corpora.documents import document_format, parse_document

    document = document_format(data, filename, declared_format, media_type)
    if document is not None:
        docs = parse_document(document, data, name=name, filename=filename, declared_type=declared_type,
                              limits=limits)
        return [_finish_item(item, [], injection_patterns, limits) for item in docs]
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
                check_count(len(batch))
            return batch
    text, file_warnings = decode_bytes(data, name)
    fmt = detect_format(text, filename, declared_format, media_type)
    if fmt == "text":  # the whole file is the narrative: refuse it before reading it
        check_text_length(text, limits, name)
    items = PARSERS[fmt](text, declared_type, filename)
    check_count(len(items))
    return [_finish_item(item, file_warnings, injection_patterns, limits) for item in items]


def _finish_item(item: IntakeItem, file_warnings: list[str],
                 injection_patterns: Sequence[re.Pattern[str]], limits: IntakeLimits | None = None) -> IntakeItem:
    if limits is not None:
        check_text_length(item.dossier.text, limits, f"« {item.dossier.title} »" if item.dossier.title
                          else "le dossier")
    item.warnings[:0] = file_warnings  # an empty text is reported once, by the assessment itself
    if injection_patterns and find_injections(f"{item.dossier.title}\n{item.dossier.text}", injection_patterns):
        item.warnings.append(INJECTION_WARNING)
    return item
