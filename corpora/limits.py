"""Intake limits (documents, archives, batches) and the zip guards every archive reader shares.

Pure and framework-free: :class:`IntakeLimits` is built from the settings by the assistant
services (``settings.intake``) and passed down; the defaults here are the settings' defaults.

Zip guards (:func:`open_zip`, :func:`check_zip`, :func:`read_member`) refuse, with a French
message, an archive that is not a zip, is truncated, holds too many entries, would inflate past
the total size limit, has a member compressed far beyond what real documents reach (zip bomb),
or is encrypted. Member names that could escape a folder (``../``, absolute paths, drive
letters) are reported by :func:`unsafe_name`; nothing is ever extracted to disk, members are
read in memory with a hard cap that does not trust the sizes the archive declares.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from corpora.errors import CorruptFile, InputTooLarge
from corpora.normalise import fr_int

MIB = 1024 * 1024


@dataclass(frozen=True)
class IntakeLimits:
    """What one uploaded document, archive or batch may hold."""

    max_document_bytes: int = 20 * MIB
    """A PDF or DOCX larger than this is refused (413)."""
    max_pages: int = 100
    """A PDF with more pages is refused (413)."""
    max_zip_entries: int = 2000
    max_zip_total_bytes: int = 200 * MIB
    """Sum of the uncompressed sizes of a zip's members (a DOCX is a zip too)."""
    max_zip_ratio: int = 100
    """Compression ratio above which a member larger than 1 MiB is taken for a zip bomb."""
    max_zip_depth: int = 2
    """Archives read inside archives: 1 = no nested zip, 2 = a zip inside the zip."""
    max_batch_rows: int = 10_000
    """Dossiers in one batch (CSV rows, JSON lines, files of a zip); the rest is refused row by row."""
    max_text_chars: int = 200_000
    """Longest narrative of one dossier (characters); a longer one is refused (413) before any analysis."""


def check_text_length(text: str, limits: IntakeLimits, name: str = "le dossier") -> None:
    """Refuse a narrative longer than ``limits.max_text_chars`` (the analysis cost grows with it)."""
    if len(text) > limits.max_text_chars:
        raise InputTooLarge(
            f"Texte trop long dans {name} : {fr_int(len(text))} caractères (maximum {fr_int(limits.max_text_chars)}) ; "
            "découpez le dossier ou ne gardez que le récit utile."
        )


_RATIO_FLOOR = MIB  # small members compress a lot (repeated XML) without being a threat


def open_zip(data: bytes, name: str, limits: IntakeLimits, *, what: str = "archive zip") -> zipfile.ZipFile:
    """Open ``data`` as a zip and run :func:`check_zip` on it; French errors only."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CorruptFile(f"{name} : {what} illisible (fichier tronqué ou corrompu).") from None
    except (OSError, ValueError, EOFError):
        raise CorruptFile(f"{name} : {what} illisible (fichier tronqué ou corrompu).") from None
    check_zip(zf, name, limits, what=what)
    return zf


def check_zip(zf: zipfile.ZipFile, name: str, limits: IntakeLimits, *, what: str = "archive zip") -> None:
    """Refuse too many entries, too large once inflated, zip-bomb ratios and encrypted members."""
    infos = zf.infolist()
    if len(infos) > limits.max_zip_entries:
        raise InputTooLarge(
            f"{name} refusé : {what} de {fr_int(len(infos))} entrées (maximum {fr_int(limits.max_zip_entries)})."
        )
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > limits.max_zip_ratio:
            raise InputTooLarge(
                f"{name} refusé : dans {what}, « {info.filename} » se décompresse {fr_int(round(ratio))} fois "
                f"(maximum {fr_int(limits.max_zip_ratio)}) : bombe de décompression probable."
            )
        if info.flag_bits & 0x1:
            raise CorruptFile(f"{name} refusé : dans {what}, « {info.filename} » est chiffré (protégé par un mot "
                              "de passe).")
    if total > limits.max_zip_total_bytes:
        raise InputTooLarge(
            f"{name} refusé : {what} de {fr_int(total // MIB)} Mio une fois décompressé "
            f"(maximum {fr_int(limits.max_zip_total_bytes // MIB)} Mio)."
        )


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: IntakeLimits) -> bytes:
    """The bytes of one member, read with a cap (a lying header cannot inflate past the limits)."""
    cap = min(info.file_size, limits.max_zip_total_bytes)
    try:
        with zf.open(info) as fh:
            data = fh.read(cap + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
        raise CorruptFile(f"{name} : « {info.filename} » est tronqué ou corrompu dans l'archive.") from None
    if len(data) > cap:
        raise InputTooLarge(f"{name} : « {info.filename} » dépasse la taille déclarée dans l'archive (refusé).")
    return data


def unsafe_name(member: str) -> bool:
    """True for a member name that could escape a folder (``..``, absolute, drive letter, NUL)."""
    path = member.replace("\\", "/")
    if "\x00" in path or path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return True
    return any(part == ".." for part in path.split("/"))


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")
