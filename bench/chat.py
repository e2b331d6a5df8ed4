"""Offline answer latency of the chat service (prints figures; not a test).

Runs the questions of tests/assistant/data/chat_eval.jsonl that need no dossier (corpus questions,
out of scope, injection) through ``ChatService.reply`` on the index of the settings, after one warm-up
(index and facts loaded), and prints p50 / p95 / max in ms.

    GDR_CORPORA_DIR=../shared/corpora GDR_DATA_DIR=var python bench/chat.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from assistant.db.engine import make_engine, upgrade
    from assistant.services.chat.evaluation import load_items
    from assistant.services.chat.service import ChatService
    from assistant.settings import get_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = get_settings()
    upgrade(settings)
    engine = make_engine(settings)
    service = ChatService(settings, engine)
    started = time.perf_counter()
    service.warm_up()
    print(f"chargement de l'index et des faits : {time.perf_counter() - started:.1f} s")
    questions = [it["question"] for it in load_items() if not it.get("dossier")]
    service.reply(questions[0])
    times = []
    for _ in range(args.rounds):
        for q in questions:
            t = time.perf_counter()
            service.reply(q)
            times.append((time.perf_counter() - t) * 1000)
    lat = np.asarray(times)
    print(f"{len(questions)} questions x {args.rounds} : p50 {np.percentile(lat, 50):.1f} ms, "
          f"p95 {np.percentile(lat, 95):.1f} ms, max {lat.max():.1f} ms (réponse hors ligne, base SQLite comprise)")
    service.close()
    engine.dispose()


if __name__ == "__main__":
    main()
