"""Batches of dossiers: CSV, JSON Lines, a zip of files — one entry per dossier or per error.

:func:`iter_batch` yields :class:`BatchEntry` objects in order, each with its 1-based ``row``
and a French ``where`` ("ligne 4", "lot.zip › cas-2.pdf"): either an intake item or a French
error for that row only, so the rest of the batch goes on. Errors about the batch as a whole
(not a CSV, undecodable, zip bomb, empty batch) raise a :class:`~corpora.errors.GdrError`
before any entry is yielded, so nothing is half-done.

CSV (``.csv``, ``text/csv``)
    Delimiter detected (``csv.Sniffer`` over comma, semicolon, tab, vertical bar), header row
    required. Encoding detected line by line: UTF-8 (BOM allowed) or Windows-1252; a file mixing
    both is read, each line in the minority encoding gets a warning on its row; a line in neither
    is an error on its row. Columns (French or English names, case and accents ignored; see
    :data:`COLUMNS`): ``text`` or ``title`` is required; ``id``, ``type``, ``received_at``,
    ``language``, ``patient_age``, ``patient_sex``, ``products``, ``substances``, ``symptoms``,
    ``country``, ``onset_date``, ``medical_history``, ``other_medications`` and ``seriousness``
    (reporter-declared criteria, handled like E2B's) are optional; ``outcome`` is dropped unread;
    other columns are ignored with a warning. Lists are separated by ``|`` (or ``;`` when the
    delimiter is not ``;``). Dates ISO or day first (``12/03/2026``). Quotes are read strictly: a
    quote never closed is an error on its row, never the rest of the file read as one cell. NUL
    bytes or UTF-16 refuse the file, as for any text file.
JSON Lines
    One dossier per line, as ``gdr corpora convert`` writes them.
Zip
    Each member is a dossier file of any accepted format (PDF, DOCX, E2B XML, JSON, text) or
    a CSV/JSON Lines batch; members are read in memory in name order (never extracted).
    Refused: too many entries, too large once inflated, a zip bomb ratio, encryption (whole
    archive); a name that escapes its folder (``../``), a nested archive beyond
    ``max_zip_depth``, an extension that is no dossier format (``.exe``, ``.jpg``: see
    :data:`MEMBER_SUFFIXES`) (that member only).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from corpora import seriousness
from corpora.errors import CorruptFile, GdrError, InputError
from corpora.intake import CP1252_WARNING, decode_bytes, dossier_from_object, refuse_binary
from corpora.io import loads_json
from corpora.limits import IntakeLimits, check_zip, is_zip, read_member, unsafe_name
from corpora.model import IntakeItem
from corpora.normalise import fold_in_place

BATCH_FORMATS = ("csv", "jsonl", "zip")

# Canonical column → accepted header names (folded: lower case, no accents, "_" for spaces and dashes).
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "identifiant", "reference", "ref", "numero"),
    "type": ("type", "type_dossier", "type_de_dossier"),
    "title": ("title", "titre"),
    "text": ("text", "texte", "narrative", "recit", "narratif", "description"),
    "received_at": ("received_at", "date_reception", "date_de_reception", "received", "date"),
    "language": ("language", "langue", "lang"),
    "patient_age": ("patient_age", "age", "age_ans", "age_patient"),
    "patient_sex": ("patient_sex", "sex", "sexe"),
    "products": ("products", "produits", "produit", "medicaments", "medicament", "suspect_drugs", "vaccins"),
    "substances": ("substances", "substance", "dci"),
    "symptoms": ("symptoms", "symptomes", "reactions", "effets"),
    "country": ("country", "pays"),
    "onset_date": ("onset_date", "date_debut", "date_de_debut", "date_survenue"),
    "medical_history": ("medical_history", "antecedents", "history"),
    "other_medications": ("other_medications", "traitements_concomitants", "medicaments_concomitants",
                          "concomitants"),
    "seriousness": ("seriousness", "declared_seriousness", "gravite", "criteres_gravite", "criteres_de_gravite"),
    "outcome": ("outcome", "issue"),
}
_ALIASES = {alias: canonical for canonical, aliases in COLUMNS.items() for alias in aliases}
_SERIOUSNESS_WORDS = [
    (re.compile(r"DECES|DEATH|DIED|DECEDE|FATAL"), seriousness.DEATH),
    (re.compile(r"PRONOSTIC|LIFE|VITAL"), seriousness.LIFE_THREATENING),
    (re.compile(r"HOSPITALI"), seriousness.HOSPITALISATION),
    (re.compile(r"INVALIDIT|INCAPACIT|DISABIL"), seriousness.DISABILITY),
    (re.compile(r"CONGENITAL|MALFORMATION"), seriousness.CONGENITAL_ANOMALY),
    (re.compile(r"AUTRE|OTHER|MEDICAL"), seriousness.OTHER),
]
_SKIP_MEMBER = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$|\._)")


@dataclass
class BatchEntry:
    """One row of a batch: an intake item, or a French error about this row only."""

    row: int
    where: str
    item: IntakeItem | None = None
    error: str | None = None


def batch_format(data: bytes, filename: str | None = None, declared: str | None = None,
                 media_type: str | None = None) -> str | None:
    """``csv``, ``jsonl`` or ``zip`` when the upload is a batch container, else None."""
    value = (declared or "").strip().lower()
    if value in ("csv", "zip"):
        return value
    name = (filename or "").strip().lower()
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith(".zip"):  # whatever the bytes: a .zip that does not open is « archive zip illisible »
        return "zip"
    base = (media_type or "").split(";")[0].strip().lower()
    if base in ("text/csv", "application/csv", "text/tab-separated-values"):
        return "csv"
    if is_zip(data) and not name.endswith(".docx") and b"word/document.xml" not in data[:65536]:
        return "zip"
    return None


def fold_header(name: str) -> str:
    plain = fold_in_place(name.strip().lstrip("\ufeff"))
    return re.sub(r"[\s\-./]+", "_", plain).strip("_")


# --------------------------------------------------------------------------- entry point

def iter_batch(data: bytes, *, filename: str | None = None, declared_type: str | None = None,
               declared_format: str | None = None, media_type: str | None = None,
               limits: IntakeLimits | None = None, injection_patterns: Any = ()) -> Iterator[BatchEntry]:
    """Entries of a batch upload (see module docstring); a single dossier file is a batch of one."""
    limits = limits or IntakeLimits()
    name = f"« {filename} »" if filename else "le lot"
    entries = _entries(data, filename=filename, name=name, declared_type=declared_type,
                       declared_format=declared_format, media_type=media_type, limits=limits,
                       patterns=injection_patterns, depth=1, prefix="")
    first = next(entries, None)
    if first is None:
        raise InputError(f"Lot vide : {name} ne contient aucun dossier.")
    for count, entry in enumerate(_chain(first, entries), 1):
        if count > limits.max_batch_rows:
            yield BatchEntry(row=count, where=entry.where,
                             error=f"Lot trop grand : au-delà de {limits.max_batch_rows} dossiers, le reste "
                                   "est ignoré (découpez le lot).")
            return
        entry.row = count
        yield entry


def _chain(first: BatchEntry, rest: Iterator[BatchEntry]) -> Iterator[BatchEntry]:
    yield first
    yield from rest


def _entries(data: bytes, *, filename: str | None, name: str, declared_type: str | None,
             declared_format: str | None, media_type: str | None, limits: IntakeLimits, patterns: Any,
             depth: int, prefix: str) -> Iterator[BatchEntry]:
    from corpora.intake import detect_format

    kind = batch_format(data, filename, declared_format, media_type)
    if kind is None and (declared_format or "").lower() in ("jsonl", "ndjson"):
        kind = "jsonl"
    if kind is None and not data[:5].startswith(b"%PDF") and not is_zip(data):
        try:
            text_probe = data[:4096].decode("utf-8", "ignore")
            if detect_format(text_probe, filename, declared_format, media_type) == "jsonl":
                kind = "jsonl"
        except GdrError:
            kind = None
    if kind == "csv":
        yield from _csv_entries(data, name=name, declared_type=declared_type, patterns=patterns, prefix=prefix,
                                limits=limits)
    elif kind == "jsonl":
        yield from _jsonl_entries(data, name=name, declared_type=declared_type, patterns=patterns, prefix=prefix,
                                  limits=limits)
    elif kind == "zip":
        yield from _zip_entries(data, name=name, declared_type=declared_type, limits=limits, patterns=patterns,
                                depth=depth, prefix=prefix or (filename or "archive"))
    else:
        from corpora.intake import parse_upload

        items = parse_upload(data, filename=filename, declared_type=declared_type,
                             declared_format=declared_format, media_type=media_type, limits=limits,
                             injection_patterns=patterns, batches=False)
        where = prefix or (filename or "fichier")
        for i, item in enumerate(items, 1):
            yield BatchEntry(row=0, where=where if len(items) == 1 else f"{where}, dossier {i}", item=item)


def _entry(where: str, item: IntakeItem, patterns: Any, limits: IntakeLimits) -> BatchEntry:
    """The row's entry, or its error when the narrative is too long (checked before any scan)."""
    from corpora.intake import _finish_item

    try:
        return BatchEntry(0, where, item=_finish_item(item, [], patterns, limits))
    except GdrError as exc:
        return BatchEntry(0, where, error=exc.message)


# --------------------------------------------------------------------------- JSON Lines

def _jsonl_entries(data: bytes, *, name: str, declared_type: str | None, patterns: Any,
                   prefix: str, limits: IntakeLimits) -> Iterator[BatchEntry]:
    from corpora.intake import _json_error

    text, file_warnings = decode_bytes(data, name)
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{prefix} › ligne {n}" if prefix else f"ligne {n}"
        try:
            obj = loads_json(line)
        except json.JSONDecodeError as exc:
            yield BatchEntry(0, where, error=_json_error(exc, line_offset=n - 1))
            continue
        try:
            dossier = dossier_from_object(obj, declared_type=declared_type)
        except GdrError as exc:
            yield BatchEntry(0, where, error=exc.message)
            continue
        yield _entry(where, IntakeItem(dossier, list(file_warnings)), patterns, limits)


# --------------------------------------------------------------------------- CSV

def _decode_lines(data: bytes, name: str) -> tuple[str, dict[int, str]]:
    """The CSV text and, per physical line (1-based), "cp1252" or "bad" when not plain UTF-8."""
    refuse_binary(data, name)  # UTF-16/32 or NUL bytes: the same refusal as any text file
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    marks: dict[int, str] = {}
    lines: list[str] = []
    utf8_non_ascii = 0
    for n, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
            if any(b > 127 for b in raw):
                utf8_non_ascii += 1
        except UnicodeDecodeError:
            try:
                line = raw.decode("cp1252")
                marks[n] = "cp1252"
            except UnicodeDecodeError:
                line = raw.decode("latin-1")
                marks[n] = "bad"
        if marks.get(n) != "bad" and any(unicodedata.category(c) == "Cc" and c not in "\t\r" for c in line):
            marks[n] = "control"
        lines.append(line)
    if marks and utf8_non_ascii == 0 and all(v == "cp1252" for v in marks.values()):
        # The whole file is Windows-1252: one file-level note instead of a warning per row.
        marks = {0: "cp1252-file"}
    return unicodedata.normalize("NFC", "\n".join(lines)), marks


def _sniff(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])[:16_384]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        counts = {d: header.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _csv_entries(data: bytes, *, name: str, declared_type: str | None, patterns: Any,
                 prefix: str, limits: IntakeLimits) -> Iterator[BatchEntry]:
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError(f"Lot vide : {name} ne contient aucune ligne.")
    text, marks = _decode_lines(data, name)
    delimiter = _sniff(text)
    if csv.field_size_limit() < 16 * 1024 * 1024:
        csv.field_size_limit(16 * 1024 * 1024)
    # strict: a quote opened and never closed is an error, not the rest of the file read as one cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise CorruptFile(f"{name} : CSV illisible (en-tête absent).") from None
    columns = [_ALIASES.get(fold_header(h)) for h in header]
    if "text" not in columns and "title" not in columns:
        shown = {",": "virgule", ";": "point-virgule", "\t": "tabulation", "|": "barre verticale"}[delimiter]
        raise CorruptFile(
            f"{name} : CSV non reconnu, aucune colonne « text » (ou « texte », « récit ») ni « title » dans "
            f"l'en-tête « {(text.splitlines() or [''])[0][:120]} » (séparateur détecté : {shown}). "
            "Vérifiez le séparateur (virgule, point-virgule, tabulation ou barre verticale) et l'en-tête."
        )
    ignored = [h for h, c in zip(header, columns, strict=True) if c is None and h.strip()]
    file_warnings: list[str] = []
    if marks.get(0) == "cp1252-file":
        file_warnings.append(CP1252_WARNING)
    if ignored:
        file_warnings.append("Colonnes ignorées (inconnues) : " + ", ".join(ignored[:10]) + ".")
    list_sep = re.compile(r"\s*\|\s*" if delimiter == ";" else r"\s*[|;]\s*")
    start = reader.line_num + 1
    first = True
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = f"{prefix} › ligne {start}" if prefix else f"ligne {start}"
            yield BatchEntry(0, where, error=_csv_error(exc, start, reader.line_num))
            start = reader.line_num + 1
            continue
        line_no, end = start, reader.line_num
        start = end + 1
        if not any(cell.strip() for cell in row):
            continue
        where = f"{prefix} › ligne {line_no}" if prefix else f"ligne {line_no}"
        physical = range(line_no, end + 1)
        if any(marks.get(n) == "bad" for n in physical):
            yield BatchEntry(0, where, error="encodage illisible (ni UTF-8 ni Windows-1252).")
            continue
        if any(marks.get(n) == "control" for n in physical):
            yield BatchEntry(0, where, error="caractères de contrôle dans la ligne (ce n'est pas du texte).")
            continue
        if len(row) != len(header):
            yield BatchEntry(0, where, error=f"{len(row)} colonne(s) au lieu de {len(header)} : séparateur ou "
                                             "guillemets incohérents sur cette ligne.")
            continue
        try:
            item = _csv_item(dict(zip(columns, row, strict=True)), declared_type, list_sep)
        except GdrError as exc:
            yield BatchEntry(0, where, error=exc.message)
            continue
        warnings = list(file_warnings) if first else [w for w in file_warnings if w == CP1252_WARNING]
        first = False
        if any(marks.get(n) == "cp1252" for n in physical):
            warnings.append("Ligne encodée en Windows-1252 alors que le reste du fichier est en UTF-8 : "
                            "vérifiez les accents.")
        item.warnings[:0] = warnings
        yield _entry(where, item, patterns, limits)


def _csv_error(exc: csv.Error, first: int, last: int) -> str:
    """The French reason of a malformed CSV row spanning physical lines ``first`` to ``last``."""
    if "unexpected end of data" in str(exc):
        span = (f"les lignes {first} à {last} n'ont pas pu être lues" if last > first
                else f"la ligne {first} n'a pas pu être lue")
        return f"guillemet ouvert et jamais refermé : {span} (corrigez les guillemets)."
    if "expected after" in str(exc):
        return "texte après un guillemet fermant : guillemets incohérents sur cette ligne."
    return "CSV mal formé : guillemets ou séparateurs incohérents sur cette ligne."


def _csv_item(row: dict[str | None, str], declared_type: str | None, list_sep: re.Pattern[str]) -> IntakeItem:
    from corpora import cioms

    def cell(key: str) -> str:
        return (row.get(key) or "").strip()

    def listed(key: str) -> list[str] | None:
        values = [v for v in list_sep.split(cell(key)) if v]
        return values or None

    fields: dict[str, Any] = {}
    if cell("patient_age"):
        try:
            fields["patient_age"] = float(cell("patient_age").replace(",", "."))
        except ValueError:
            raise InputError(f"âge illisible : « {cell('patient_age')} » (attendu : un nombre d'années).") from None
    if cell("patient_sex"):
        sex = cioms.parse_sex(cell("patient_sex"))
        if sex is None:
            raise InputError(f"sexe illisible : « {cell('patient_sex')} » (attendu : F ou M).")
        fields["patient_sex"] = sex
    names = listed("products")
    if names:
        fields["products"] = [{"name": n, "role": "suspect"} for n in names]
    for key in ("substances", "symptoms"):
        if listed(key):
            fields[key] = listed(key)
    for key in ("country", "medical_history", "other_medications"):
        if cell(key):
            fields[key] = cell(key)
    dates: dict[str, str] = {}
    for key in ("received_at", "onset_date"):
        if cell(key):
            parsed = cioms.parse_date(cell(key))
            if parsed is None:
                raise InputError(f"date illisible : « {cell(key)} » (attendu : AAAA-MM-JJ ou JJ/MM/AAAA).")
            dates[key] = parsed.isoformat()
    if "onset_date" in dates:
        fields["onset_date"] = dates["onset_date"]
    declared: list[str] = []
    for token in listed("seriousness") or []:
        folded = cioms.label_form(token)
        label = next((lab for pattern, lab in _SERIOUSNESS_WORDS if pattern.search(folded)), None)
        if label is None:
            raise InputError(f"critère de gravité inconnu : « {token} » (attendu : décès, pronostic vital, "
                             "hospitalisation, invalidité, anomalie congénitale, autre).")
        if label not in declared:
            declared.append(label)
    # A row with a title and no text is analysed on its title (the README: « text » or « title »).
    text = seriousness.with_declared(cell("text") or cell("title"), declared)
    obj: dict[str, Any] = {"text": text, "fields": fields}
    for key in ("id", "type", "title", "language"):
        if cell(key):
            obj[key] = cell(key).lower() if key in ("type", "language") else cell(key)
    if "received_at" in dates:
        obj["received_at"] = dates["received_at"]
    if "id" in obj and ":" not in obj["id"]:
        obj["id"] = f"intake:{obj['id']}"
    default_type = None if cell("type") else (declared_type or "pv")
    dossier = dossier_from_object(obj, declared_type=default_type)
    return IntakeItem(dossier, declared_seriousness=seriousness.ordered(declared), details={"format": "csv"})


# --------------------------------------------------------------------------- zip

MEMBER_SUFFIXES = (".txt", ".md", ".markdown", ".text", ".json", ".jsonl", ".ndjson", ".xml", ".pdf", ".docx",
                   ".csv", ".tsv", ".zip")
"""Extensions a zip member may have (a member without one is recognised from its content)."""
_MEMBER_SUFFIXES_FR = ".txt, .md, .json, .jsonl, .xml, .pdf, .docx, .csv ou .zip"


def _suffix(member: str) -> str:
    base = member.replace("\\", "/").rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


def _zip_entries(data: bytes, *, name: str, declared_type: str | None, limits: IntakeLimits, patterns: Any,
                 depth: int, prefix: str) -> Iterator[BatchEntry]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise CorruptFile(f"{name} : archive zip illisible (fichier tronqué ou corrompu).") from None
    check_zip(zf, name, limits)
    members = sorted((i for i in zf.infolist() if not i.is_dir() and not _SKIP_MEMBER.search(i.filename)),
                     key=lambda i: i.filename)
    for info in members:
        where = f"{prefix} › {info.filename}"
        if unsafe_name(info.filename):
            yield BatchEntry(0, where, error="nom de fichier dangereux dans l'archive (chemin hors du dossier).")
            continue
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            yield BatchEntry(0, where, error="lien symbolique dans l'archive.")
            continue
        suffix = _suffix(info.filename)
        if suffix and suffix not in MEMBER_SUFFIXES:
            yield BatchEntry(0, where, error=f"format non reconnu (« {suffix} » ; attendu : {_MEMBER_SUFFIXES_FR}).")
            continue
        try:
            member = read_member(zf, info, name, limits)
            if is_zip(member) and not info.filename.lower().endswith(".docx"):
                if depth >= limits.max_zip_depth:
                    yield BatchEntry(0, where, error=f"archive imbriquée trop profonde (au plus {limits.max_zip_depth} "
                                                     "niveaux).")
                    continue
                yield from _zip_entries(member, name=f"« {info.filename} »", declared_type=declared_type,
                                        limits=limits, patterns=patterns, depth=depth + 1, prefix=where)
                continue
            yield from list(_entries(member, filename=info.filename.rsplit("/", 1)[-1],
                                     name=f"« {info.filename} »", declared_type=declared_type,
                                     declared_format=None, media_type=None, limits=limits, patterns=patterns,
                                     depth=depth + 1, prefix=where))
        except GdrError as exc:
            yield BatchEntry(0, where, error=exc.message)
