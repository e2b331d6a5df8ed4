"""What every loader reports: counts read, written and skipped (with reasons), and timings."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

# Skip reason shared by the loaders: a row whose values the domain model refuses.
SKIP_INVALID = "valeurs invalides (ligne non convertible)"


@dataclass
class LoadReport:
    """Accounting of one load. ``read == written + sum(skipped.values())`` always holds."""

    source: str
    files: list[str] = field(default_factory=list)
    read: int = 0
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0

    def add_file(self, path: str | Path) -> None:
        self.files.append(str(path))

    def ok(self) -> None:
        self.read += 1
        self.written += 1

    def skip(self, reason: str) -> None:
        """Count a row read and not written, with a short French reason."""
        self.read += 1
        self.skipped[reason] += 1

    def unwrite(self, reason: str) -> None:
        """A row counted as written that the writer left out after all (e.g. not an ICSR): now skipped."""
        self.written -= 1
        self.skipped[reason] += 1

    def finish(self) -> Self:
        self.seconds = time.perf_counter() - self.started
        return self

    def merge(self, other: LoadReport, prefix: str = "") -> None:
        """Add another report's files and counts to this one (its skip reasons prefixed with ``prefix``)."""
        self.files.extend(other.files)
        self.read += other.read
        self.written += other.written
        for reason, n in other.skipped.items():
            self.skipped[prefix + reason] += n

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "files": self.files,
            "read": self.read,
            "written": self.written,
            "skipped": dict(self.skipped),
            "seconds": round(self.seconds, 3),
        }
