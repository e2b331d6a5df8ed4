"""Benchmark of human oversight: audit appends (one writer, concurrent writers), chain verification, the
work queue and the metrics, on a throw-away SQLite database (or ``--database-url`` for PostgreSQL).

Usage (from the repository root)::

    .venv/bin/python bench/oversight.py [--events 5000] [--pending 2000] [--threads 4] [--database-url URL]

Prints one line per measure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--pending", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from sqlalchemy.orm import Session

    from assistant.db.engine import make_engine, upgrade
    from assistant.services import audit
    from assistant.services.assessments import store_assessment
    from assistant.services.metrics import exposition
    from assistant.services.queue import pending_queue
    from assistant.settings import get_settings
    from classifier.policy import processing_mode
    from classifier.result import TriageResult

    with tempfile.TemporaryDirectory() as tmp:
        settings = get_settings(data_dir=Path(tmp) / "var", database_url=args.database_url, corpora_dir=None)
        upgrade(settings)
        engine = make_engine(settings)
        actor = audit.Actor("bench", "evaluateur")
        payload = {"what": "dossier", "outcome": False}

        start = time.perf_counter()
        for _ in range(args.events // 2):  # one transaction per event, as the API does
            with Session(engine) as session:
                audit.record(session, "dossier_view", actor=actor, dossier_id="bench:1", payload=payload)
                session.commit()
        elapsed = time.perf_counter() - start
        print(f"audit append, 1 writer, 1 event per transaction: {args.events // 2 / elapsed:,.0f} events/s")

        per_thread = args.events // 2 // args.threads

        def worker() -> None:
            for _ in range(per_thread):
                with Session(engine) as session:
                    audit.record(session, "dossier_view", actor=actor, dossier_id="bench:2", payload=payload)
                    session.commit()

        threads = [threading.Thread(target=worker) for _ in range(args.threads)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        print(f"audit append, {args.threads} concurrent writers: {per_thread * args.threads / elapsed:,.0f} events/s")

        with Session(engine) as session:
            start = time.perf_counter()
            result = audit.verify_chain(session)
            elapsed = time.perf_counter() - start
        print(f"audit verify: {result.events:,} events in {elapsed:.2f} s ({result.events / elapsed:,.0f} events/s), "
              f"ok={result.ok}")

        today = date.today()
        with Session(engine) as session:
            for n in range(args.pending):
                kind, level = ("pv", "aec", "amm")[n % 3], ("faible", "modéré", "élevé", "critique")[n % 4]
                result_row = TriageResult.model_validate({
                    "id": f"bench:{n}", "type": kind, "risk_level": level, "risk_score": 0.5, "needs_review": False,
                    "processing_mode": processing_mode(kind, level), "criteria": [], "context": [],
                    "explanation": {"niveau_plancher_criteres": level, "niveau_modele": None, "regle": "",
                                    "criteres_declenches": [], "contributions_modele": [], "probabilites": {}},
                    "precedents": [], "guidelines": [], "warnings": [], "model_version": "bench",
                    "referentiel_version": None})
                store_assessment(session=session, result=result_row, dossier={
                    "received_at": (today - timedelta(days=n % 120)).isoformat(), "text": "texte", "fields": {}})
            session.commit()
        with Session(engine) as session:
            start = time.perf_counter()
            queue = pending_queue(session)
            elapsed = time.perf_counter() - start
            print(f"queue: {queue.total:,} pending dossiers in {1000 * elapsed:.0f} ms")
            start = time.perf_counter()
            size = len(exposition(session))
            print(f"metrics: {size:,} bytes in {1000 * (time.perf_counter() - start):.0f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
