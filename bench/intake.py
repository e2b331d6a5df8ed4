"""Intake speed: PDF/DOCX/CIOMS parsing per file, CSV batch rows per second, E2B export and read-back.

Prints figures (not a test): ``python bench/intake.py``. Uses the project's sample files
(``corpora/sample/files``) and, when ``GDR_CORPORA_DIR`` is set, 2,000 VAERS 2004 reports for the
E2B round trip.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpora.batch import iter_batch  # noqa: E402
from corpora.intake import parse_upload  # noqa: E402

SAMPLES = ROOT / "corpora" / "sample" / "files"


def _time(fn, n: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1000, times[int(0.95 * (len(times) - 1))] * 1000


def main() -> None:
    for name in ("cioms_i_champs.pdf", "cioms_i_aplati.pdf", "recit_pv.docx", "lot_pv.zip"):
        data = (SAMPLES / name).read_bytes()
        p50, p95 = _time(lambda data=data, name=name: parse_upload(data, filename=name), 20)
        print(f"{name:24s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    header, *rows = (SAMPLES / "lot_pv.csv").read_text(encoding="utf-8").splitlines()
    big = "\n".join([header] + rows * 2000).encode()
    start = time.perf_counter()
    n = sum(1 for e in iter_batch(big, filename="lot.csv") if e.item)
    seconds = time.perf_counter() - start
    print(f"CSV batch: {n} rows in {seconds:.2f} s = {n / seconds:,.0f} rows/s")
    corpora = os.environ.get("GDR_CORPORA_DIR")
    if corpora:
        from corpora.e2b_export import batch_xml, read_records
        from corpora.loaders.vaers import iter_vaers_records

        records = list(iter_vaers_records([Path(corpora) / "vaers" / "2004VAERSData.zip"], limit=2000))
        start = time.perf_counter()
        xml = "".join(batch_xml(records))
        write = time.perf_counter() - start
        start = time.perf_counter()
        back = read_records(xml)
        read = time.perf_counter() - start
        print(f"E2B: {len(records)} VAERS reports written in {write:.2f} s ({len(records) / write:,.0f}/s), "
              f"read back in {read:.2f} s ({len(back) / read:,.0f}/s), {len(xml) / len(records) / 1024:.1f} KiB each")


if __name__ == "__main__":
    main()
