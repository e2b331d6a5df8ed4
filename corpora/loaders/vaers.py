"""VAERS loader: the yearly ``YYYYVAERSData.zip`` files as CDC/FDA publish them.

Input
    One or more ``YYYYVAERSData.zip`` (each holding ``YYYYVAERSDATA.csv``, ``YYYYVAERSVAX.csv`` and
    ``YYYYVAERSSYMPTOMS.csv``; the case of the names may vary), a folder holding such zips or CSVs,
    or the three CSV files given directly. The files are single-byte "ANSI" text: they are read as
    Windows-1252 (latin-1 plus the curly quotes and dashes the narratives use, bytes 0x80-0x9F), and a
    byte that Windows-1252 leaves undefined is read as latin-1, so decoding never fails and accents stay
    intact. ``DATA`` is streamed row by row; the ``VAX`` and
    ``SYMPTOMS`` files of the same year (several rows per ``VAERS_ID``) are held in dicts, which is a
    few megabytes per year.

Columns are mapped **by header name**, so later yearly layouts (``BIRTH_DEFECT``, ``OFC_VISIT``,
``ER_ED_VISIT``, ``VAX_DOSE_SERIES``, ``ALLERGIES``…) load too; a column a layout lacks gives ``null``.

Dossier (what is known when the report arrives)
    ``id`` ``vaers:<VAERS_ID>`` (leading zeros dropped: ``025001`` → ``vaers:25001``), ``type`` ``pv``,
    ``text`` = ``SYMPTOM_TEXT``, ``received_at`` = ``RECVDATE`` (MM/DD/YYYY), ``language`` ``en``.
    ``fields``: ``patient_age`` (AGE_YRS), ``patient_sex`` (SEX; ``U`` → null),
    ``products`` (one per VAX row, role ``suspect``), ``vaccine_types``, ``manufacturers``,
    ``symptoms`` (SYMPTOM1..5 of every SYMPTOMS row, in order, de-duplicated), ``vaccination_date``
    (VAX_DATE), ``onset_date`` (ONSET_DATE), ``onset_days`` (NUMDAYS), ``medical_history`` (HISTORY),
    ``current_illness`` (CUR_ILL), ``other_medications`` (OTHER_MEDS), ``prior_vaccinations``
    (PRIOR_VAX), ``lab_data`` (LAB_DATA), ``administered_by`` (V_ADMINBY), ``funded_by`` (V_FUNDBY),
    ``report_type`` (SPLTTYPE), ``region`` (STATE), ``country`` ``US`` (VAERS is the US system).

Empty values
    ``""`` (or blanks) is always ``null``. For the free-text fields (history, illness, medications,
    prior vaccinations, lab data) a value that only says *unknown* (``UNK``, ``Unknown``, ``N/A``, ``NA``,
    ``not known``…) is also ``null``: it carries nothing. A value that says *none* (``NONE``, ``no``,
    ``denies``…) is kept verbatim, because "the reporter stated there was none" is information. Coded
    fields ``V_ADMINBY``/``V_FUNDBY`` ``UNK`` and manufacturer ``UNKNOWN MANUFACTURER`` are ``null``.

Outcome (recorded later, kept apart in ``Record.outcome``; keys of ``VaersOutcome``)
    ``died`` (DIED), ``life_threatening`` (L_THREAT), ``hospitalised`` (HOSPITAL),
    ``prolonged_hospitalisation`` (X_STAY), ``disability`` (DISABLE), ``er_visit`` (ER_VISIT, or
    ER_ED_VISIT in later layouts), ``congenital_anomaly`` (BIRTH_DEFECT where the layout has it, else
    null): these are tick boxes of the form, so when the year's layout has the column ``Y`` → true and
    ``N`` or a blank (box left unticked) → false; when the layout lacks the column the flag was not
    recorded → null. ``recovered`` (RECOVD) is a three-way answer: ``Y``/``N``/``U`` → true/false/null
    (blank → null). ``date_died`` (DATEDIED), ``hospital_days`` (HOSPDAYS): null when blank.

LAB_DATA
    Kept in ``fields.lab_data`` because it is part of the report as received, but it may hold autopsy
    results (an outcome in disguise): risk models and features must not read it.

Accounting
    Every DATA row is counted in the :class:`LoadReport`: written, or skipped with a French reason
    (``identifiant VAERS invalide``, ``identifiant VAERS en double``, ``ligne mal formée``). VAX and
    SYMPTOMS rows whose id has no DATA row are not dossiers and are simply unused.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from corpora.errors import CorruptFile, InputError, InputTooLarge
from corpora.io import os_reason
from corpora.loaders.base import SKIP_INVALID, LoadReport
from corpora.loaders.cases import case_document, case_title, flag_metadata, is_serious, patient_metadata
from corpora.loaders.cells import column_getter
from corpora.model import Document, Dossier, DossierFields, Product, Record, VaersOutcome
from corpora.normalise import bar_join, parse_date

SOURCE = "vaers"
ENCODING = "cp1252"
_ERRORS = "gdr-latin1-fallback"

SKIP_BAD_ID = "identifiant VAERS invalide"
SKIP_DUPLICATE = "identifiant VAERS en double"
SKIP_MALFORMED = "ligne mal formée (nombre de colonnes inattendu)"

_KINDS = ("DATA", "VAX", "SYMPTOMS")
_NAME_RE = re.compile(r"^(?P<prefix>.*?)VAERS(?P<kind>DATA|VAX|SYMPTOMS)\.CSV$", re.IGNORECASE)
_UNKNOWN_TEXT = frozenset(
    {"unk", "unknown", "unkown", "n/a", "na", "n.a.", "not known", "not available", "unk.", "?", "-"}
)
_FIELD_LIMIT = 16 * 1024 * 1024
_MAX_MEMBER = 8 * 2**30


# --------------------------------------------------------------------------- small pure parsers


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _free_text(value: str | None) -> str | None:
    """Free text: blank or a bare "unknown" marker → None; "NONE"-like statements are kept."""
    value = _clean(value)
    if value is None:
        return None
    if value.lower().rstrip(".").strip() in _UNKNOWN_TEXT or value.lower() in _UNKNOWN_TEXT:
        return None
    return value


def _code(value: str | None) -> str | None:
    value = _clean(value)
    return None if value is None or value.upper() in {"UNK", "UNKNOWN"} else value


def _number(value: str | None) -> float | None:
    value = _clean(value)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def yes_no(value: str | None) -> bool | None:
    """``Y`` → True, ``N`` → False, blank or ``U`` → None (not recorded)."""
    value = _clean(value)
    if value is None:
        return None
    value = value.upper()
    if value in {"Y", "YES"}:
        return True
    if value in {"N", "NO"}:
        return False
    return None


def tick_box(value: str | None) -> bool | None:
    """A seriousness tick box: ``Y`` → True; ``N`` or blank (unticked) → False; column absent → None."""
    if value is None:  # the year's layout (or a short row) has no such column: not recorded
        return None
    value = value.strip().upper()
    if value in {"Y", "YES"}:
        return True
    if value in {"", "N", "NO"}:
        return False
    return None


def norm_id(value: str | None) -> str | None:
    """``VAERS_ID`` without its leading zeros (the 1990s files write ``025001``); None if not a number."""
    value = (value or "").strip()
    return str(int(value)) if value.isdigit() else None


def _unique(values: list[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v and v not in seen:
            seen[v] = None
    return list(seen)


# --------------------------------------------------------------------------- input resolution


@dataclass
class _YearFiles:
    """The three CSV members of one year, each an opener returning a binary stream."""

    label: str
    openers: dict[str, Callable[[], IO[bytes]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def _classify(name: str) -> tuple[str, str] | None:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    m = _NAME_RE.match(base)
    if not m:
        return None
    return m.group("prefix").upper(), m.group("kind").upper()


def _check_member_size(path: Path, info: zipfile.ZipInfo) -> None:
    """Refuse a zip bomb: a member far larger, or far more compressed, than any real VAERS file.

    zipfile never reads past a member's declared size, so checking the declared size is enough.
    """
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _MAX_MEMBER or (info.file_size > 256 * 2**20 and ratio > 200):
        raise InputTooLarge(
            f"{path} : {info.filename} est anormalement volumineux une fois décompressé "
            f"({info.file_size // 2**20} Mio, taux de compression {ratio:.0f}) ; archive refusée."
        )


def _zip_years(path: Path) -> list[_YearFiles]:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise CorruptFile(f"{path} n'est pas une archive zip VAERS lisible (fichier tronqué ou corrompu).") from exc
    except OSError as exc:
        raise InputError(f"Impossible d'ouvrir {path} : {os_reason(exc)}") from exc
    years: dict[str, _YearFiles] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        cls = _classify(info.filename)
        if cls is None:
            continue
        prefix, kind = cls
        _check_member_size(path, info)
        yf = years.setdefault(prefix, _YearFiles(label=f"{path.name}:{prefix or '?'}"))
        yf.openers[kind] = functools.partial(zf.open, info)
        yf.names[kind] = f"{path}!{info.filename}"
    if not years:
        raise CorruptFile(
            f"{path} ne contient aucun fichier VAERS (…VAERSDATA.csv, …VAERSVAX.csv, …VAERSSYMPTOMS.csv)."
        )
    return [years[k] for k in sorted(years)]


def _open_binary(path: Path) -> IO[bytes]:
    return path.open("rb")


def _csv_years(files: list[Path]) -> list[_YearFiles]:
    years: dict[str, _YearFiles] = {}
    for p in files:
        cls = _classify(p.name)
        if cls is None:
            raise InputError(
                f"{p} n'est pas un fichier VAERS reconnu (attendu : YYYYVAERSDATA.csv, YYYYVAERSVAX.csv "
                "ou YYYYVAERSSYMPTOMS.csv, ou une archive YYYYVAERSData.zip)."
            )
        prefix, kind = cls
        yf = years.setdefault(prefix, _YearFiles(label=prefix or p.parent.name))
        yf.openers[kind] = functools.partial(_open_binary, p)
        yf.names[kind] = str(p)
    return [years[k] for k in sorted(years)]


def _resolve(paths: Sequence[Path]) -> list[_YearFiles]:
    if not paths:
        raise InputError("Aucun fichier VAERS indiqué.")
    years: list[_YearFiles] = []
    loose_csvs: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError(f"Fichier ou dossier introuvable : {p}")
        if p.is_dir():
            zips = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() == ".zip")
            csvs = sorted(q for q in p.iterdir() if q.is_file() and _classify(q.name) is not None)
            if not zips and not csvs:
                raise InputError(f"Le dossier {p} ne contient aucune archive ni aucun fichier CSV VAERS.")
            for z in zips:
                years.extend(_zip_years(z))
            years.extend(_csv_years(csvs))
        elif p.suffix.lower() == ".zip" or zipfile.is_zipfile(p):
            years.extend(_zip_years(p))
        else:
            loose_csvs.append(p)
    if loose_csvs:
        years.extend(_csv_years(loose_csvs))
    for yf in years:
        missing = [k for k in _KINDS if k not in yf.openers]
        if missing:
            wanted = ", ".join(f"{yf.label}VAERS{k}.csv" for k in missing)
            raise InputError(f"Fichier(s) VAERS manquant(s) pour {yf.label} : {wanted}.")
    return years


def _latin1_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte Windows-1252 leaves undefined is read as latin-1 (never fails)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("latin-1"), exc.end


def _register_codec_fallback() -> None:
    try:
        codecs.lookup_error(_ERRORS)
    except LookupError:
        codecs.register_error(_ERRORS, _latin1_fallback)


@contextmanager
def _reading(name: str) -> Iterator[None]:
    """Turn low-level read failures into one French domain error."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise CorruptFile(f"{name} est tronqué ou corrompu ({exc}).") from exc
    except csv.Error as exc:
        raise CorruptFile(f"{name} n'est pas un CSV lisible ({exc}).") from exc
    except OSError as exc:
        raise InputError(f"Impossible de lire {name} : {os_reason(exc)}") from exc


def _rows(
    opener: Callable[[], IO[bytes]], name: str, required: str = "VAERS_ID"
) -> Iterator[tuple[list[str], list[str]]]:
    """Yield ``(header, row)`` for each row of one CSV member (Windows-1252, latin-1 fallback)."""
    with _reading(name):
        raw = opener()
        with io.TextIOWrapper(raw, encoding=ENCODING, errors=_ERRORS, newline="") as text:
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                raise CorruptFile(f"{name} est vide (en-tête absent).")
            header = [h.strip().removeprefix("\u00ef\u00bb\u00bf").lstrip("\ufeff").upper() for h in header]
            if required not in header:
                raise CorruptFile(f"{name} n'a pas de colonne {required} : ce n'est pas un fichier VAERS.")
            for row in reader:
                yield header, row


def _load_vax(yf: _YearFiles) -> dict[str, list[Product]]:
    products: dict[str, list[Product]] = {}
    name = yf.names["VAX"]
    idx: dict[str, int] | None = None
    for header, row in _rows(yf.openers["VAX"], name):
        if idx is None:
            idx = {h: i for i, h in enumerate(header)}
        get = column_getter(idx, row, _clean)
        vid = norm_id(get("VAERS_ID"))
        if not vid:
            continue
        manu = get("VAX_MANU")
        if manu and manu.upper().startswith("UNKNOWN"):
            manu = None
        products.setdefault(vid, []).append(
            Product(
                name=get("VAX_NAME"),
                vaccine_type=get("VAX_TYPE"),
                manufacturer=manu,
                lot=get("VAX_LOT"),
                dose=get("VAX_DOSE") or get("VAX_DOSE_SERIES"),
                route=get("VAX_ROUTE"),
                site=get("VAX_SITE"),
                role="suspect",
            )
        )
    return products


def _load_symptoms(yf: _YearFiles) -> dict[str, list[str]]:
    symptoms: dict[str, list[str]] = {}
    name = yf.names["SYMPTOMS"]
    cols: list[int] | None = None
    id_col = 0
    for header, row in _rows(yf.openers["SYMPTOMS"], name):
        if cols is None:
            id_col = header.index("VAERS_ID")
            cols = [i for i, h in enumerate(header) if re.fullmatch(r"SYMPTOM\d+", h)]
        if len(row) <= id_col:
            continue
        vid = norm_id(row[id_col])
        if not vid:
            continue
        bucket = symptoms.setdefault(vid, [])
        for i in cols:
            if i < len(row):
                term = row[i].strip()
                if term and term not in bucket:
                    bucket.append(term)
    return symptoms


def _title(vid: str, products: list[Product], symptoms: list[str]) -> str:
    return case_title(products, symptoms) or f"Signalement VAERS {vid}"


def _record(
    get: Callable[[str], str | None], vid: str, products: list[Product], symptoms: list[str]
) -> Record:
    sex = _clean(get("SEX"))
    sex = sex.upper() if sex else None
    region = _clean(get("STATE"))
    fields = DossierFields.model_validate({
        "patient_age": _number(get("AGE_YRS")),
        "patient_sex": sex if sex in {"F", "M"} else None,
        "medical_history": _free_text(get("HISTORY")),
        "current_illness": _free_text(get("CUR_ILL")),
        "other_medications": _free_text(get("OTHER_MEDS")),
        "prior_vaccinations": _free_text(get("PRIOR_VAX")),
        "lab_data": _free_text(get("LAB_DATA")),
        "products": products or None,
        "vaccine_types": _unique([p.vaccine_type for p in products]) or None,
        "manufacturers": _unique([p.manufacturer for p in products]) or None,
        "symptoms": symptoms or None,
        "vaccination_date": parse_date(get("VAX_DATE"), month_first=True),
        "onset_date": parse_date(get("ONSET_DATE"), month_first=True),
        "onset_days": _number(get("NUMDAYS")),
        "administered_by": _code(get("V_ADMINBY")),
        "funded_by": _code(get("V_FUNDBY")),
        "report_type": _clean(get("SPLTTYPE")),
        "region": region,
        "country": "US",
    })
    dossier = Dossier(
        id=f"{SOURCE}:{vid}",
        type="pv",
        title=_title(vid, products, symptoms),
        text=(get("SYMPTOM_TEXT") or "").strip(),
        received_at=parse_date(get("RECVDATE"), month_first=True),
        language="en",
        source=SOURCE,
        fields=fields,
    )
    # Later layouts split the emergency visit in ER_VISIT and ER_ED_VISIT: ticked in either counts.
    er_boxes = [tick_box(get("ER_VISIT")), tick_box(get("ER_ED_VISIT"))]
    er = True if True in er_boxes else (False if False in er_boxes else None)
    outcome = VaersOutcome(
        died=tick_box(get("DIED")),
        date_died=parse_date(get("DATEDIED"), month_first=True),
        life_threatening=tick_box(get("L_THREAT")),
        hospitalised=tick_box(get("HOSPITAL")),
        hospital_days=_number(get("HOSPDAYS")),
        prolonged_hospitalisation=tick_box(get("X_STAY")),
        disability=tick_box(get("DISABLE")),
        er_visit=er,
        recovered=yes_no(get("RECOVD")),
        congenital_anomaly=tick_box(get("BIRTH_DEFECT")),
    )
    return Record(dossier, outcome.model_dump(mode="json"))


def iter_vaers_records(
    paths: Sequence[Path], report: LoadReport | None = None, limit: int | None = None
) -> Iterator[Record]:
    """Stream VAERS reports as ``Record(dossier, outcome)`` from zips, a folder, or the three CSVs.

    ``limit`` stops after that many written records. Ids are unique across every year given:
    a repeated ``VAERS_ID`` is skipped and counted.
    """
    if report is None:
        report = LoadReport(source=SOURCE)
    years = _resolve(paths)
    _register_codec_fallback()
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)  # later narratives exceed the 128 KiB default
    seen: set[str] = set()
    for yf in years:
        for kind in _KINDS:
            report.add_file(yf.names[kind])
        vax = _load_vax(yf)
        symptoms = _load_symptoms(yf)
        idx: dict[str, int] = {}
        width = 0
        for header, row in _rows(yf.openers["DATA"], yf.names["DATA"]):
            if not idx:
                idx = {h: i for i, h in enumerate(header)}
                width = len(header)
            if len(row) != width:
                if not any(c.strip() for c in row):
                    continue  # blank line, not a row
                report.skip(SKIP_MALFORMED)
                continue
            vid = norm_id(row[idx["VAERS_ID"]])
            if vid is None:
                report.skip(SKIP_BAD_ID)
                continue
            if vid in seen:
                report.skip(SKIP_DUPLICATE)
                continue
            seen.add(vid)

            get = column_getter(idx, row)
            try:
                rec = _record(get, vid, vax.get(vid, []), symptoms.get(vid, []))
            except ValidationError:
                report.skip(SKIP_INVALID)
                continue
            yield rec
            report.ok()
            if limit is not None and report.written >= limit:
                return


# --------------------------------------------------------------------------- retrieval documents


def vaers_record_to_document(record: Record) -> Document:
    """A VAERS report as a retrieval ``Document`` (kind ``case``).

    Metadata values are Chroma-compatible scalars; ``None`` values are left out. Lists are
    bar-joined (see :func:`corpora.normalise.bar_join`): ``vaccine_types``, ``symptoms``, ``manufacturers``.
    ``serious`` is true when any ICH E2A criterion is recorded true (death, life-threatening,
    hospitalisation or prolongation, disability, congenital anomaly).
    """
    d = record.dossier
    f = d.fields
    outcome: dict[str, Any] = dict(record.outcome or {})
    meta: dict[str, Any] = {
        "vaccine_types": bar_join(f.vaccine_types),
        "symptoms": bar_join(f.symptoms),
        "manufacturers": bar_join(f.manufacturers),
        "language": d.language,
        "type": d.type,
    }
    if f.manufacturers:
        meta["manufacturer"] = f.manufacturers[0]
    meta.update(patient_metadata(record))
    if f.region:
        meta["region"] = f.region
    meta.update(flag_metadata(outcome))
    meta["serious"] = is_serious(outcome)
    return case_document(record, meta)


def vaers_zip_paths(folder: Path) -> list[Path]:
    """The ``*.zip`` files of a VAERS folder, sorted by name (hence by year)."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() == ".zip")
