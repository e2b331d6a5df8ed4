"""HAS transparency-committee opinions (SMR and ASMR) attached to BDPM products.

Files (as distributed with the BDPM: **cp1252**, tab-separated, CRLF, no header):

- ``CIS_HAS_SMR_bdpm.txt`` / ``CIS_HAS_ASMR_bdpm.txt``: CIS, HAS dossier code (``CT-19691``),
  motif of the assessment (Inscription, Renouvellement…), opinion date (yyyymmdd), level
  (SMR: Important/Modéré/Faible/Insuffisant…; ASMR: I–V…), rationale (libellé). Long rationales
  are wrapped in double quotes (``" text "``); ``<br>`` marks line breaks.
- ``HAS_LiensPageCT_bdpm.txt``: HAS dossier code, URL of the committee's page.

Ids: ``has-smr:<CIS>/<dossier code>/<yyyymmdd>``. One product may get several opinions of one kind
in one dossier on one date (one per indication); the second such opinion gets ``-2``, the third
``-3``… in file order (e.g. ``has-smr:69766528/CT-19690/20220209-2``).
An opinion is a decision: its level is both in ``metadata["level"]`` and in ``outcome``
(``{"smr": level}`` or ``{"asmr": level}``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from corpora.errors import InputError
from corpora.loaders.base import LoadReport
from corpora.loaders.tabular import clean, html_to_text, iter_tsv, unquote
from corpora.model import Document
from corpora.normalise import parse_date

# Windows-1252 as distributed; a line that is valid UTF-8 (a re-encoded copy) is read as such.
ENCODING = ("utf-8", "cp1252")
SMR_FILE = "CIS_HAS_SMR_bdpm.txt"
ASMR_FILE = "CIS_HAS_ASMR_bdpm.txt"
LINKS_FILE = "HAS_LiensPageCT_bdpm.txt"

Kind = Literal["smr", "asmr"]
FILES: dict[str, str] = {"smr": SMR_FILE, "asmr": ASMR_FILE}
SOURCES: dict[str, str] = {"smr": "has-smr", "asmr": "has-asmr"}

SKIP_MALFORMED = "ligne malformée (moins de 6 colonnes)"
SKIP_BAD_CIS = "code CIS invalide"
SKIP_NO_DATE = "date d'avis illisible"
SKIP_NO_TEXT = "avis sans libellé"


@dataclass(frozen=True)
class HasOpinion:
    """One SMR or ASMR opinion of the transparency committee."""

    kind: Kind
    native_id: str
    cis: str
    dossier: str
    motif: str | None
    date: date
    level: str | None
    text: str
    url: str | None = None

    @property
    def source(self) -> str:
        return SOURCES[self.kind]

    @property
    def id(self) -> str:
        return f"{self.source}:{self.native_id}"

    def facts(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "cis": self.cis,
            "dossier": self.dossier,
            "motif": self.motif,
            "date": self.date.isoformat(),
            "level": self.level,
            "url": self.url,
        }


def load_has_links(path: Path) -> dict[str, str]:
    """HAS dossier code → URL of its transparency-committee page."""
    links: dict[str, str] = {}
    for _n, f in iter_tsv(Path(path), ENCODING):
        if len(f) >= 2 and f[0].strip() and f[1].strip():
            links.setdefault(f[0].strip(), f[1].strip())
    return links


def iter_has_opinions(path: Path, kind: Kind, report: LoadReport | None = None,
                      links: Mapping[str, str] | None = None) -> Iterator[HasOpinion]:
    """Stream the opinions of one HAS file (``kind`` = ``"smr"`` or ``"asmr"``)."""
    path = Path(path)
    if kind not in FILES:
        raise InputError(f"Type d'avis HAS inconnu : {kind} (attendu : smr ou asmr)")
    report = report if report is not None else LoadReport(source=SOURCES[kind])
    report.add_file(path)
    counts: dict[str, int] = defaultdict(int)
    for _n, f in iter_tsv(path, ENCODING):
        if len(f) < 6:
            report.skip(SKIP_MALFORMED)
            continue
        cis = f[0].strip()
        if not (cis.isdigit() and len(cis) == 8):
            report.skip(SKIP_BAD_CIS)
            continue
        when = parse_date(f[3])
        if when is None:
            report.skip(SKIP_NO_DATE)
            continue
        # A rationale containing a tab would have been split: glue the extra fields back.
        text = html_to_text(unquote("\t".join(f[5:])))
        if not text:
            report.skip(SKIP_NO_TEXT)
            continue
        dossier = clean(f[1]) or "sans-code"
        base = f"{cis}/{dossier}/{when.strftime('%Y%m%d')}"
        counts[base] += 1
        native = base if counts[base] == 1 else f"{base}-{counts[base]}"
        report.ok()
        yield HasOpinion(
            kind=kind, native_id=native, cis=cis, dossier=dossier, motif=clean(f[2]), date=when,
            level=clean(f[4]), text=text, url=(links or {}).get(dossier),
        )
    report.finish()


def opinion_to_document(op: HasOpinion, product_name: str | None = None) -> Document:
    """An opinion as a retrieval ``Document`` (kind ``opinion``), metadata as Chroma scalars."""
    label = "SMR" if op.kind == "smr" else "ASMR"
    level = op.level or "non précisé"
    title = f"Avis {label} {level} — {product_name or f'CIS {op.cis}'}"
    header = f"Avis de la Commission de la transparence (HAS) du {op.date.strftime('%d/%m/%Y')}"
    if op.motif:
        header += f", motif : {op.motif}"
    header += f". {label} : {level}."
    meta: dict[str, Any] = {
        "cis": op.cis,
        "dossier": op.dossier,
        "level": op.level,
        "motif": op.motif,
        "date": op.date.isoformat(),
        "year": op.date.year,
        "received_at": op.date.isoformat(),
        "product_name": product_name,
        "url": op.url,
        "language": "fr",
    }
    return Document(
        id=op.id,
        source=op.source,
        kind="opinion",
        title=title,
        text=f"{header}\n{op.text}",
        metadata={k: v for k, v in meta.items() if v is not None},
        language="fr",
        received_at=op.date,
        outcome={op.kind: op.level},
    )


def iter_has_documents(has_dir: Path, kind: Kind, report: LoadReport | None = None,
                       product_names: Mapping[str, str] | None = None,
                       limit: int | None = None) -> Iterator[Document]:
    """Documents of the SMR or ASMR file of ``has_dir``; CT page links joined when the file is there.

    ``product_names`` (CIS → BDPM name) makes titles readable; without it titles name the CIS.
    """
    has_dir = Path(has_dir)
    path = has_dir / FILES[kind]
    if not path.is_file():
        raise InputError(f"Fichier HAS introuvable : {path}")
    links_path = has_dir / LINKS_FILE
    links = load_has_links(links_path) if links_path.is_file() else {}
    names = product_names or {}
    for op in islice(iter_has_opinions(path, kind, report, links), limit):
        yield opinion_to_document(op, names.get(op.cis))


class HasIndex:
    """Opinions by CIS, most recent first: ``opinions_for_cis("63806909")``."""

    def __init__(self, opinions: list[HasOpinion]) -> None:
        self._by_cis: dict[str, list[HasOpinion]] = defaultdict(list)
        for op in opinions:
            self._by_cis[op.cis].append(op)
        for ops in self._by_cis.values():
            ops.sort(key=lambda o: (o.date, o.kind), reverse=True)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_cis.values())

    def opinions_for_cis(self, cis: str, kind: Kind | None = None) -> list[HasOpinion]:
        ops = self._by_cis.get(str(cis).strip(), [])
        return [o for o in ops if kind is None or o.kind == kind]

    def latest(self, cis: str, kind: Kind) -> HasOpinion | None:
        ops = self.opinions_for_cis(cis, kind)
        return ops[0] if ops else None


def load_has_index(has_dir: Path) -> HasIndex:
    """Read both HAS files of ``has_dir`` (those present) into a :class:`HasIndex`."""
    has_dir = Path(has_dir)
    links_path = has_dir / LINKS_FILE
    links = load_has_links(links_path) if links_path.is_file() else {}
    opinions: list[HasOpinion] = []
    for kind, name in FILES.items():
        if (has_dir / name).is_file():
            opinions.extend(iter_has_opinions(has_dir / name, kind, None, links))  # type: ignore[arg-type]
    return HasIndex(opinions)
