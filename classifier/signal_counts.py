"""Precomputed report counts for disproportionality (I/O): per month, per vaccine type × coded symptom.

``build_signal_counts(vaers_paths, path)`` reads the VAERS corpus once (through
``corpora.loaders.vaers``) and writes a small SQLite file (under the data dir:
``DataLayout.signal_counts_path``) holding, for each month of reception (``YYYY-MM``):

* ``total``: reports received that month (and how many were serious, fatal);
* ``product``: reports naming each vaccine type (VAERS ``VAX_TYPE``);
* ``term``: reports coding each MedDRA term (VAERS ``SYMPTOM1..5``), keyed by its lower-case form;
* ``pair``: reports naming the vaccine type *and* coding the term, with their serious and fatal counts.

A report is counted once per vaccine type and once per term, whatever the number of its VAX or
SYMPTOMS rows. Reports without a reception date cannot be placed in time: they are left out and
counted in ``meta.undated``. :class:`SignalCounts` answers "how many reports received **before**
month M" with one indexed ``SUM`` per figure, so triage reads its figures in well under a millisecond.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from corpora.errors import StoreError

COUNTS_FORMAT = 1
SOURCE = "vaers"
UNREADABLE = "Comptes de disproportionnalité illisibles ({path}) : supprimez le fichier, il sera reconstruit."

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE total (month TEXT PRIMARY KEY, n INTEGER NOT NULL, serious INTEGER NOT NULL, fatal INTEGER NOT NULL);
CREATE TABLE product (product TEXT NOT NULL, month TEXT NOT NULL, n INTEGER NOT NULL, serious INTEGER NOT NULL,
                      fatal INTEGER NOT NULL, PRIMARY KEY (product, month));
CREATE TABLE term (term TEXT NOT NULL, month TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (term, month));
CREATE TABLE term_label (term TEXT PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE pair (product TEXT NOT NULL, term TEXT NOT NULL, month TEXT NOT NULL, n INTEGER NOT NULL,
                   serious INTEGER NOT NULL, fatal INTEGER NOT NULL, PRIMARY KEY (product, term, month));
"""


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def product_key(name: str) -> str:
    """A vaccine type as VAERS codes it (``dtap`` → ``DTAP``)."""
    return "".join(ch for ch in name.upper() if ch.isalnum())


def term_key(term: str) -> str:
    """A coded term's key: lower case, spaces collapsed (``Injection site  erythema`` → ``injection site erythema``)."""
    return " ".join(term.lower().split())


def fingerprint(paths: Iterable[Path]) -> str:
    """Name, size and modification time of the input files: the counts are rebuilt when it changes."""
    h = hashlib.sha1()
    for p in sorted(Path(x) for x in paths):
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Counts:
    """Reports received before a month: the margins of the 2×2 table and the pair's serious/fatal ones."""

    pair: int
    pair_serious: int
    pair_fatal: int
    product: int
    term: int
    total: int


def build_signal_counts(vaers_paths: Sequence[Path], path: Path) -> dict[str, int]:
    """Count the VAERS reports of ``vaers_paths`` per month and write them to ``path`` (atomically).

    Returns what was counted (reports, undated reports, vaccine types, terms, pairs).
    """
    from corpora.loaders.base import LoadReport
    from corpora.loaders.cases import is_serious
    from corpora.loaders.vaers import iter_vaers_records

    total: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    product: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    term: dict[tuple[str, str], int] = defaultdict(int)
    pair: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    labels: dict[str, str] = {}
    reports = undated = 0
    for rec in iter_vaers_records(list(vaers_paths), LoadReport(source=SOURCE)):
        d = rec.dossier
        if d.received_at is None:
            undated += 1
            continue
        reports += 1
        month = month_of(d.received_at)
        outcome = rec.outcome or {}
        flags = (1, int(is_serious(outcome)), int(outcome.get("died") is True))
        types = dict.fromkeys(product_key(v) for v in d.fields.vaccine_types or [] if product_key(v))
        terms: dict[str, None] = {}
        for s in d.fields.symptoms or []:
            k = term_key(s)
            if k:
                terms[k] = None
                labels.setdefault(k, s.strip())
        for i, v in enumerate(flags):
            total[month][i] += v
        for vt in types:
            cell = product[(vt, month)]
            for i, v in enumerate(flags):
                cell[i] += v
            for t in terms:
                cell = pair[(vt, t, month)]
                for i, v in enumerate(flags):
                    cell[i] += v
        for t in terms:
            term[(t, month)] += 1
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # two builders never share a temporary file
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(_SCHEMA)
        meta = {"format": str(COUNTS_FORMAT), "source": SOURCE, "fingerprint": fingerprint(vaers_paths),
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"), "reports": str(reports),
                "undated": str(undated), "first_month": min(total, default=""), "last_month": max(total, default="")}
        con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        con.executemany("INSERT INTO total VALUES (?, ?, ?, ?)", ((m, *v) for m, v in total.items()))
        con.executemany("INSERT INTO product VALUES (?, ?, ?, ?, ?)", ((*k, *v) for k, v in product.items()))
        con.executemany("INSERT INTO term VALUES (?, ?, ?)", ((*k, v) for k, v in term.items()))
        con.executemany("INSERT INTO term_label VALUES (?, ?)", labels.items())
        con.executemany("INSERT INTO pair VALUES (?, ?, ?, ?, ?, ?)", ((*k, *v) for k, v in pair.items()))
        con.commit()
    finally:
        con.close()
    tmp.replace(path)
    return {"reports": reports, "undated": undated, "products": len({k[0] for k in product}),
            "terms": len(labels), "pairs": len({k[:2] for k in pair})}


class SignalCounts:
    """Read-only access to a counts file (thread-safe: one connection, one query at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(f"Comptes de disproportionnalité absents ({self.path}).")
        self._lock = threading.Lock()
        try:
            self._con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self.meta = dict(self._con.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            raise StoreError(UNREADABLE.format(path=self.path)) from exc
        if self.meta.get("format") != str(COUNTS_FORMAT):
            self._con.close()
            raise StoreError(UNREADABLE.format(path=self.path))

    def close(self) -> None:
        self._con.close()

    def _one(self, sql: str, args: Sequence[object]) -> tuple[int, ...]:
        with self._lock:
            row = self._con.execute(sql, tuple(args)).fetchone()
        return tuple(int(x or 0) for x in row)

    def counts(self, product: str, term: str, before: str | None) -> Counts:
        """Reports received before month ``before`` (``YYYY-MM``; None: all) for the product × term table."""
        cut = before or "9999-99"
        p, t = product_key(product), term_key(term)
        a, serious, fatal = self._one("SELECT SUM(n), SUM(serious), SUM(fatal) FROM pair "
                                      "WHERE product = ? AND term = ? AND month < ?", (p, t, cut))
        (n_product,) = self._one("SELECT SUM(n) FROM product WHERE product = ? AND month < ?", (p, cut))
        (n_term,) = self._one("SELECT SUM(n) FROM term WHERE term = ? AND month < ?", (t, cut))
        (n_total,) = self._one("SELECT SUM(n) FROM total WHERE month < ?", (cut,))
        return Counts(a, serious, fatal, n_product, n_term, n_total)

    def has_product(self, product: str) -> bool:
        with self._lock:
            row = self._con.execute("SELECT 1 FROM product WHERE product = ? LIMIT 1",
                                    (product_key(product),)).fetchone()
        return row is not None

    def products(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._con.execute("SELECT DISTINCT product FROM product ORDER BY product")]

    def label(self, term: str) -> str | None:
        with self._lock:
            row = self._con.execute("SELECT label FROM term_label WHERE term = ?", (term_key(term),)).fetchone()
        return str(row[0]) if row else None

    def top_terms(self, product: str, before: str | None, limit: int) -> list[str]:
        """The product's most reported terms before month ``before`` (keys), most reported first."""
        with self._lock:
            rows = self._con.execute(
                "SELECT term, SUM(n) AS k FROM pair WHERE product = ? AND month < ? GROUP BY term "
                "ORDER BY k DESC, term LIMIT ?", (product_key(product), before or "9999-99", limit)).fetchall()
        return [r[0] for r in rows]


def open_counts(vaers_dir: Path, path: Path, *, rebuild: bool = False) -> SignalCounts | None:
    """The counts of the VAERS corpus in ``vaers_dir``, built (or rebuilt when its files changed) first.

    None when there is no VAERS corpus (the bundled sample): no disproportionality then.
    """
    from corpora.loaders.vaers import vaers_zip_paths

    if not Path(vaers_dir).is_dir():
        return None
    paths = vaers_zip_paths(Path(vaers_dir))
    if not paths:
        return None
    if not rebuild and Path(path).is_file():
        try:
            counts = SignalCounts(path)
        except StoreError:
            counts = None
        if counts is not None and counts.meta.get("fingerprint") == fingerprint(paths):
            return counts
        if counts is not None:
            counts.close()
    build_signal_counts(paths, path)
    return SignalCounts(path)
