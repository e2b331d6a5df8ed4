"""PDF intake: text per page, form fields and positioned words, with French refusals.

Libraries: **pypdf** (validation, decryption of owner-password-only files, text per page, AcroForm
fields and their widgets) and **pdfplumber** (words with their position on the page, read only
when a flattened form has to be read by its layout). Nothing here parses PDF syntax by hand.

Refused, each with one French message and nothing kept: a file that is not a PDF, one larger
than ``limits.max_document_bytes`` or with more than ``limits.max_pages`` pages (413), a truncated
file (no ``%%EOF`` marker near its end), a corrupt one, one protected by a user password
(a PDF encrypted with an empty user password — permissions only — opens normally), and a PDF
without any text layer nor form value (« PDF sans texte : une reconnaissance de caractères est
nécessaire »): GDR Santé does no OCR.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from corpora.cioms import Run
from corpora.errors import CorruptFile, InputTooLarge
from corpora.limits import IntakeLimits
from corpora.normalise import fr_decimal

PDF_MAGIC = b"%PDF-"
NO_TEXT = "PDF sans texte : une reconnaissance de caractères est nécessaire (GDR Santé ne fait pas d'OCR)."

# Widget values that mean "ticked" for a check box (its "on" state is named by the form's author).
_OFF_STATES = {"", "/Off", "Off", "/off", "off", "/No", "No", "/Non", "Non", "/0", "0", "/False", "False"}


@dataclass
class Widget:
    """One form field's widget: its (fully qualified) name, value, kind and place on its page."""

    name: str
    value: str | None
    kind: str  # "text", "check", "choice", "other"
    page: int  # 1-based
    x0: float = 0.0
    top: float = 0.0
    x1: float = 0.0
    bottom: float = 0.0

    @property
    def ticked(self) -> bool:
        return self.kind == "check" and self.value is not None and self.value not in _OFF_STATES


@dataclass
class PdfContent:
    """What was read from a PDF: page texts (1-based page = index + 1) and form widgets."""

    pages: list[str]
    widgets: list[Widget] = field(default_factory=list)
    data: bytes = b""
    password: str | None = None

    @property
    def has_text(self) -> bool:
        return any(p.strip() for p in self.pages)

    @property
    def filled_widgets(self) -> list[Widget]:
        return [w for w in self.widgets if (w.kind == "check" and w.ticked) or (w.kind != "check" and w.value)]


def is_pdf(data: bytes) -> bool:
    return PDF_MAGIC in data[:1024]


def _quiet_pdf_logs() -> None:
    # pypdf and pdfminer log every recoverable oddity of real files; the user gets our French summary.
    for name in ("pypdf", "pdfminer", "pdfplumber"):
        logging.getLogger(name).setLevel(logging.ERROR)


def read_pdf(data: bytes, name: str, limits: IntakeLimits) -> PdfContent:
    """Validate and read a PDF (see module docstring); raises French domain errors."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    _quiet_pdf_logs()
    if not is_pdf(data):
        raise CorruptFile(f"{name} n'est pas un PDF (en-tête %PDF absent).")
    if len(data) > limits.max_document_bytes:
        raise InputTooLarge(
            f"{name} : PDF trop volumineux, {fr_decimal(len(data) / 2**20)} Mio "
            f"(maximum {limits.max_document_bytes / 2**20:.0f} Mio)."
        )
    if b"%%EOF" not in data[-4096:]:
        raise CorruptFile(f"{name} : PDF tronqué (marque de fin %%EOF absente) : renvoyez le fichier complet.")
    password: str | None = None
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            if not _decrypt_empty(reader):
                raise CorruptFile(
                    f"{name} : PDF protégé par un mot de passe : retirez la protection avant de l'envoyer."
                )
            password = ""
        n_pages = len(reader.pages)
        if n_pages == 0:
            raise CorruptFile(f"{name} : PDF sans aucune page.")
        if n_pages > limits.max_pages:
            raise InputTooLarge(f"{name} : PDF trop long, {n_pages} pages (maximum {limits.max_pages}).")
        pages = [_page_text(page) for page in reader.pages]
        widgets = list(_widgets(reader))
    except CorruptFile:
        raise
    except InputTooLarge:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError,
            RecursionError, OSError, ZeroDivisionError, NotImplementedError):
        raise CorruptFile(f"{name} : PDF illisible (fichier corrompu ou non conforme).") from None
    content = PdfContent(pages=pages, widgets=widgets, data=data, password=password)
    if not content.has_text and not content.filled_widgets:
        raise CorruptFile(f"{name} : {NO_TEXT}")
    return content


def _decrypt_empty(reader: Any) -> bool:
    from pypdf import PasswordType

    try:
        return bool(reader.decrypt("") != PasswordType.NOT_DECRYPTED)
    except Exception:  # pypdf raises DependencyError (AES without cryptography) or PdfReadError
        return False


def _page_text(page: Any) -> str:
    text = page.extract_text() or ""
    return unicodedata.normalize("NFC", text.replace("\x00", "")).strip()


def _widgets(reader: Any) -> Iterator[Widget]:
    """Every widget annotation of every page, with its field's qualified name and value."""
    for number, page in enumerate(reader.pages, 1):
        annots = page.get("/Annots")
        if not annots:
            continue
        height = float(page.mediabox.top)
        for ref in annots.get_object() if hasattr(annots, "get_object") else annots:
            annot = ref.get_object()
            if annot.get("/Subtype") != "/Widget":
                continue
            name, value, kind = _field_of(annot)
            if not name:
                continue
            rect = [float(v) for v in annot.get("/Rect", [0, 0, 0, 0])]
            x0, y0, x1, y1 = min(rect[0], rect[2]), min(rect[1], rect[3]), max(rect[0], rect[2]), max(rect[1], rect[3])
            yield Widget(name=name, value=value, kind=kind, page=number,
                         x0=x0, top=height - y1, x1=x1, bottom=height - y0)


def _inherited(annot: Any, key: str) -> Any:
    node = annot
    for _ in range(32):  # field trees are shallow; the bound stops a cyclic /Parent chain
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        if parent is None:
            return None
        node = parent.get_object()
    return None


def _field_of(annot: Any) -> tuple[str, str | None, str]:
    names: list[str] = []
    node = annot
    for _ in range(32):
        if "/T" in node:
            names.append(str(node["/T"]))
        parent = node.get("/Parent")
        if parent is None:
            break
        node = parent.get_object()
    name = ".".join(reversed(names))
    ft = _inherited(annot, "/FT")
    raw = _inherited(annot, "/V")
    if ft == "/Btn":
        state = annot.get("/AS")
        value = str(state) if state is not None else (str(raw) if raw is not None else None)
        return name, value, "check"
    if raw is None:
        return name, None, "text" if ft == "/Tx" else "other"
    if isinstance(raw, list):
        value = ", ".join(str(v) for v in raw)
    elif hasattr(raw, "get_object") and not isinstance(raw, str):
        value = str(raw.get_object())
    else:
        value = str(raw)
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return name, value or None, "text" if ft == "/Tx" else ("choice" if ft == "/Ch" else "other")


@dataclass
class Edge:
    """A drawn line or rectangle side (box borders of a form), top-left origin."""

    page: int
    vertical: bool
    x0: float
    top: float
    x1: float
    bottom: float


def positioned_layout(content: PdfContent, pages: list[int] | None = None) -> tuple[list[Run], list[Edge]]:
    """Words and drawn edges of the given pages (1-based; all by default), via pdfplumber.

    Words on one line closer than about one space are merged into one run, so labels such as
    "14. SUSPECT DRUG(S)" stay in one piece while box columns stay apart. Edges are the borders
    drawn on the page (lines, rectangle sides): they bound the boxes of a form.
    """
    import pdfplumber

    _quiet_pdf_logs()
    words: list[Run] = []
    edges: list[Edge] = []
    try:
        with pdfplumber.open(io.BytesIO(content.data), password=content.password or "") as pdf:
            for number, page in enumerate(pdf.pages, 1):
                if pages is not None and number not in pages:
                    continue
                found = page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False)
                words.extend(_runs(found, number))
                for e in page.edges:
                    x0, x1, top, bottom = float(e["x0"]), float(e["x1"]), float(e["top"]), float(e["bottom"])
                    vertical = e.get("orientation") == "v" or (x1 - x0) < (bottom - top)
                    edges.append(Edge(number, vertical, x0, top, x1, bottom))
    except Exception:  # pdfminer raises many unrelated types on odd files: fall back to plain text
        return [], []
    return words, edges


def _runs(words: list[dict[str, Any]], page: int) -> list[Run]:
    lines: list[list[dict[str, Any]]] = []
    for w in sorted(words, key=lambda w: (round(float(w["top"])), float(w["x0"]))):
        if lines and abs(float(lines[-1][0]["top"]) - float(w["top"])) <= 2.0:
            lines[-1].append(w)
        else:
            lines.append([w])
    runs: list[Run] = []
    for line in lines:
        line.sort(key=lambda w: float(w["x0"]))
        current: Run | None = None
        for w in line:
            height = float(w["bottom"]) - float(w["top"])
            gap_limit = max(3.5, 0.6 * height)
            text = unicodedata.normalize("NFC", str(w["text"]))
            if current is not None and float(w["x0"]) - current.x1 <= gap_limit:
                current.text += " " + text
                current.x1 = float(w["x1"])
                current.bottom = max(current.bottom, float(w["bottom"]))
                continue
            if current is not None:
                runs.append(current)
            current = Run(text=text, x0=float(w["x0"]), top=float(w["top"]), x1=float(w["x1"]),
                           bottom=float(w["bottom"]), page=page)
        if current is not None:
            runs.append(current)
    return runs
