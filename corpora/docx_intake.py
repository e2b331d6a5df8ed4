"""DOCX intake: the text of a Word document in reading order, with its page numbers, via python-docx.

Paragraphs and table cells are read in document order (merged cells once). A DOCX has no fixed
pages; the page of each block is counted from the page breaks Word stored (hard breaks and the
``lastRenderedPageBreak`` marks Word writes when it saves), so it matches what the author saw.

A DOCX is a zip: before python-docx opens it, the archive goes through the zip guards of
:mod:`corpora.limits` (entries, inflated size, compression ratio: a DOCX zip bomb is refused).
An encrypted Word file is not a zip but an OLE container, as is the old ``.doc`` format: both
are refused with a French message.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from typing import Any

from corpora.errors import CorruptFile, InputTooLarge
from corpora.limits import IntakeLimits, is_zip, open_zip
from corpora.normalise import fr_decimal

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass
class Block:
    """A paragraph or a table cell, with the (1-based) page it starts on."""

    text: str
    page: int


def looks_like_docx(data: bytes) -> bool:
    return is_zip(data) and b"word/" in data[:65536]


def read_docx(data: bytes, name: str, limits: IntakeLimits) -> list[Block]:
    """Validate and read a DOCX (see module docstring); raises French domain errors."""
    if data[:8] == OLE_MAGIC:
        raise CorruptFile(
            f"{name} : document Word chiffré (protégé par un mot de passe) ou au format .doc ancien : "
            "enregistrez-le en .docx sans mot de passe."
        )
    if len(data) > limits.max_document_bytes:
        raise InputTooLarge(
            f"{name} : document trop volumineux, {fr_decimal(len(data) / 2**20)} Mio "
            f"(maximum {limits.max_document_bytes / 2**20:.0f} Mio)."
        )
    zf = open_zip(data, name, limits, what="document Word (.docx)")
    if "word/document.xml" not in zf.namelist():
        raise CorruptFile(f"{name} n'est pas un document Word .docx (word/document.xml absent).")
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document))
    except Exception:  # python-docx / lxml raise many types on a damaged package
        raise CorruptFile(f"{name} : document Word illisible (fichier corrompu).") from None
    if not any(b.text.strip() for b in blocks):
        raise CorruptFile(f"{name} : document Word sans texte.")
    return blocks


def _breaks(element: Any) -> int:
    hard = sum(1 for br in element.iter(f"{_W}br") if br.get(f"{_W}type") == "page")
    rendered = sum(1 for _ in element.iter(f"{_W}lastRenderedPageBreak"))
    # Word writes a rendered break where a hard break also falls: count the larger of the two.
    return max(hard, rendered)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\xa0", " ")).strip()


def _blocks(document: Any) -> Any:
    from docx.table import Table

    page = 1
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            seen: list[Any] = []  # merged cells repeat: keep the elements (ids of freed proxies are reused)
            for row in item.rows:
                for cell in row.cells:
                    if any(tc is cell._tc for tc in seen):
                        continue
                    seen.append(cell._tc)
                    page += _breaks(cell._tc)
                    text = _clean("\n".join(p.text for p in cell.paragraphs))
                    if text:
                        yield Block(text, page)
            continue
        breaks = _breaks(item._p)
        text = _clean(item.text)
        if breaks and not text:
            page += breaks
            continue
        if text:
            yield Block(text, page)
        page += breaks
