"""ClinicalTrials.gov stopped trials (Open Targets *stopReasons* study) as precedent documents.

File: ``stopped_predictions_*.tsv`` (UTF-8, tab-separated, CRLF, header row; columns read by
header name: ``stop_reason``, ``phase``, ``nct_id``, ``start_date`` (d.mm.yyyy), ``status``,
``last_update_posted_date``, ``completion_date``; ``nan`` means unknown).

The ``prediction`` column is a language model's guess at the stop reason's class, **not** a
human label: this loader never reads it, so nothing downstream can train or evaluate on it.
``why_stopped`` and ``status`` are what really happened: they are the document's ``outcome``
(``TrialOutcome`` keys). A repeated NCT id is skipped and counted (the first row is kept); a row
whose status is not a ClinicalTrials.gov overall status (a merged, malformed line) is skipped
and counted.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from corpora.errors import CorruptFile, EncodingProblem, InputError
from corpora.loaders.base import LoadReport
from corpora.loaders.cells import column_getter
from corpora.model import Document
from corpora.normalise import parse_date

SOURCE = "ctgov"
FILE_GLOB = "stopped_predictions*.tsv"
REQUIRED = ("stop_reason", "nct_id", "status")
# ClinicalTrials.gov overall statuses (as spelled in its exports).
STATUSES = frozenset({
    "Terminated", "Withdrawn", "Suspended", "Completed", "Recruiting", "Not yet recruiting",
    "Active, not recruiting", "Enrolling by invitation", "Unknown status", "Withheld",
    "No longer available", "Available", "Approved for marketing", "Temporarily not available",
})

SKIP_DUPLICATE = "identifiant NCT en double"
SKIP_BAD_ID = "identifiant NCT invalide"
SKIP_BAD_STATUS = "statut inconnu (ligne malformée)"
SKIP_NO_REASON = "raison d'arrêt absente"
SKIP_MALFORMED = "ligne malformée (colonnes manquantes)"

_NCT_RE = re.compile(r"^NCT\d{8}$")
_SPACES_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class StoppedTrial:
    nct_id: str
    why_stopped: str
    status: str
    phase: str | None
    start_date: date | None
    completion_date: date | None
    last_update: date | None

    def outcome(self) -> dict[str, Any]:
        return {"status": self.status, "why_stopped": self.why_stopped}


def _value(value: str | None) -> str | None:
    """A cell's text, spaces collapsed; blank and the exporter's ``nan``/``none`` markers are None."""
    if value is None:
        return None
    text = _SPACES_RE.sub(" ", value).strip()
    return None if not text or text.lower() in ("nan", "na", "none", "null") else text


def find_tsv(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        matches = sorted(path.glob(FILE_GLOB))
        if not matches:
            raise InputError(f"Aucun fichier {FILE_GLOB} dans {path}")
        return matches[-1]
    if not path.is_file():
        raise InputError(f"Fichier introuvable : {path}")
    return path


def iter_stopped_trials(path: Path, report: LoadReport | None = None) -> Iterator[StoppedTrial]:
    """Stream the trials of the TSV (a file, or the folder holding it)."""
    path = find_tsv(path)
    report = report if report is not None else LoadReport(source=SOURCE)
    report.add_file(path)
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quotechar='"')
        try:
            header = next(reader, None)
            if header is None:
                raise CorruptFile(f"{path} est vide.")
            idx = {h.strip().lower(): i for i, h in enumerate(header) if h.strip()}
            missing = [c for c in REQUIRED if c not in idx]
            if missing:
                raise CorruptFile(f"{path} : colonnes attendues absentes : {', '.join(missing)}.")
            for row in reader:
                if not any(c.strip() for c in row):
                    continue
                if len(row) <= max(idx[c] for c in REQUIRED):
                    report.skip(SKIP_MALFORMED)
                    continue
                get = column_getter(idx, row, _value)
                nct = (get("nct_id") or "").upper()
                if not _NCT_RE.match(nct):
                    report.skip(SKIP_BAD_ID)
                    continue
                status = get("status")
                if status not in STATUSES:
                    report.skip(SKIP_BAD_STATUS)
                    continue
                if nct in seen:
                    report.skip(SKIP_DUPLICATE)
                    continue
                why = get("stop_reason")
                if not why:
                    report.skip(SKIP_NO_REASON)
                    continue
                seen.add(nct)
                report.ok()
                yield StoppedTrial(
                    nct_id=nct,
                    why_stopped=why,
                    status=status,
                    phase=get("phase"),
                    start_date=parse_date(get("start_date")),
                    completion_date=parse_date(get("completion_date")),
                    last_update=parse_date(get("last_update_posted_date")),
                )
        except UnicodeDecodeError as exc:
            raise EncodingProblem(f"{path} n'est pas encodé en UTF-8 (octet invalide).") from exc
        except csv.Error as exc:
            raise CorruptFile(f"{path} : TSV illisible ({exc}).") from exc
    report.finish()


def trial_text(t: StoppedTrial) -> str:
    """English, as the source: the sponsor's reason, then phase and status."""
    phase = t.phase or "phase not given"
    started = f", started {t.start_date.isoformat()}" if t.start_date else ""
    return f"{t.why_stopped}\nTrial {t.nct_id} ({phase}{started}) was {t.status.lower()}."


def trial_to_document(t: StoppedTrial) -> Document:
    meta: dict[str, Any] = {
        "nct_id": t.nct_id,
        "phase": t.phase,
        "status": t.status,
        "start_date": t.start_date.isoformat() if t.start_date else None,
        "completion_date": t.completion_date.isoformat() if t.completion_date else None,
        "year": t.start_date.year if t.start_date else None,
        "received_at": t.start_date.isoformat() if t.start_date else None,
        "url": f"https://clinicaltrials.gov/study/{t.nct_id}",
        "language": "en",
    }
    return Document(
        id=f"{SOURCE}:{t.nct_id}",
        source=SOURCE,
        kind="trial",
        title=f"{t.nct_id} — {t.status} ({t.phase or 'phase not given'})",
        text=trial_text(t),
        metadata={k: v for k, v in meta.items() if v is not None},
        language="en",
        received_at=t.start_date,
        outcome=t.outcome(),
    )


def iter_ctgov_documents(path: Path, report: LoadReport | None = None,
                         limit: int | None = None) -> Iterator[Document]:
    yield from map(trial_to_document, islice(iter_stopped_trials(path, report), limit))
