"""``gdr eval chat``: answer accuracy, citation support, refusal precision/recall and latency on a labelled set.

The set (``tests/assistant/data/chat_eval.jsonl``, written by ``bench/make_chat_eval.py`` from the real
corpora) holds French questions with their expected values: the SMR/ASMR level of a product's latest HAS
opinion, the thesaurus level of a pair, a BDPM status, an EMA procedure, or, for questions about a
dossier pasted first, what the triage result says (level, deadline, criteria, precedents). Each item
belongs to ``dev`` (used to tune thresholds and patterns) or ``test`` (reported).

* accuracy (answerable items): not refused, every expected value in the answer, and (when the item names
  documents) one of them cited;
* citation support (every sentence of every non-refused answer): each value stated between « » and each
  number of the sentence is found in one of its cited passages (excerpt, title or recorded outcome);
* refusal precision / recall: refusals among the items that must be refused (out of scope, injection);
* latency: p50 / p95 of the offline answer (``timings_ms.total``), dossier triage turns excluded.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import Settings
from corpora.errors import InputError
from corpora.normalise import fold, fr_decimal

EVAL_FILE = Path(__file__).resolve().parents[3] / "tests" / "assistant" / "data" / "chat_eval.jsonl"
_QUOTED = re.compile(r"«\s*([^»]+?)\s*»")
_NUMBER = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=\())(\d[\d/.,]*\d|\d)(?=[\s),.;:]|$)")


@dataclass
class EvalResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    markdown: str = ""
    path: Path | None = None


def sentence_facts(text: str) -> list[str]:
    """What a sentence states that its citations must hold: values between « » and numbers."""
    facts = [m.group(1) for m in _QUOTED.finditer(text)]
    rest = _QUOTED.sub(" ", text)
    facts += [m.group(1).rstrip(".,") for m in _NUMBER.finditer(rest)]
    return [f for f in facts if f]


def sentence_supported(sentence: dict[str, Any], citations: list[dict[str, Any]]) -> bool:
    from assistant.services.chat.answerer import outcome_fr

    cited = [citations[n - 1] for n in sentence["citations"] if 1 <= n <= len(citations)]
    if not cited:
        return False
    basis = " ".join(fold(f"{h['excerpt']} {h['title']} {outcome_fr(h.get('outcome'))}") for h in cited)
    basis += " " + " ".join(f"{d}/{m}/{y}" for y, m, d in re.findall(r"(\d{4})-(\d{2})-(\d{2})", basis))
    return all(fold(f) in basis for f in sentence_facts(sentence["text"]))


def load_items(path: Path | None = None) -> list[dict[str, Any]]:
    path = Path(path or EVAL_FILE)
    if not path.is_file():
        raise InputError(f"Jeu d'évaluation introuvable : {path}")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}, ligne {n} : JSON invalide ({exc.msg}).") from None
    return items


def _correct(item: dict[str, Any], reply: dict[str, Any], dossier_row: dict[str, Any] | None) -> bool:
    expect = item.get("expect") or {}
    if expect.get("refused"):
        return bool(reply["refused"])
    if reply["refused"]:
        return False
    answer = fold(reply["answer"])
    values = list(expect.get("values") or [])
    if dossier_row is not None:
        check = item.get("check")
        if check == "level":
            values.append(f"« {dossier_row['risk_level']} »")
        elif check == "deadline":
            values.append(f"{(dossier_row.get('processing_mode') or {}).get('deadline_days')} jours")
        elif check == "criteria":
            codes = [c["code"] for c in dossier_row.get("criteria") or []]
            if codes and not any(fold(c) in answer for c in codes):
                return False
            values.append(f"« {dossier_row['risk_level']} »")
        elif check == "precedents_death":
            dead = [p["document_id"] for p in dossier_row.get("precedents") or []
                    if (p.get("outcome") or {}).get("died") is True]
            if dead and not any(fold(d) in answer for d in dead):
                return False
            if not dead and not dossier_row.get("precedents"):
                return True
    if not all(fold(v) in answer for v in values):
        return False
    docs = expect.get("documents")
    return not docs or any(h["document_id"] in docs for h in reply["citations"])


def evaluate(service: Any, items: list[dict[str, Any]], log: Callable[[str], None] | None = None) -> EvalResult:
    rows: list[dict[str, Any]] = []
    latencies: list[float] = []
    sentences = supported = 0
    conversations: dict[str, tuple[str, dict[str, Any]]] = {}
    for i, item in enumerate(items, start=1):
        conv, row = None, None
        if item.get("dossier"):
            key = item["dossier"]
            if key not in conversations:
                exchange = service.converse(key)
                conversations[key] = (exchange.reply["conversation_id"], exchange.triaged[0].model_dump(mode="json"))
            conv, row = conversations[key]
        t = time.perf_counter()
        try:
            reply = service.reply(item["question"], conv)
        except Exception as exc:  # an answer that fails is wrong, not a crash of the evaluation
            reply = {"answer": f"erreur : {exc}", "refused": False, "sentences": [], "citations": [], "intent": "error",
                     "timings_ms": {}}
        latencies.append((time.perf_counter() - t) * 1000)
        ok = _correct(item, reply, row)
        sup = [sentence_supported(s, reply["citations"]) for s in reply["sentences"]] if not reply["refused"] else []
        sentences += len(sup)
        supported += sum(sup)
        rows.append({"id": item["id"], "category": item["category"], "question": item["question"],
                     "correct": ok, "refused": reply["refused"], "intent": reply["intent"],
                     "must_refuse": bool((item.get("expect") or {}).get("refused")),
                     "supported": f"{sum(sup)}/{len(sup)}", "ms": round(latencies[-1], 1), "answer": reply["answer"]})
        if log and i % 20 == 0:
            log(f"  {i}/{len(items)} questions")
    result = EvalResult(rows)
    result.metrics = metrics(rows, latencies, sentences, supported)
    return result


def metrics(rows: list[dict[str, Any]], latencies: list[float], sentences: int, supported: int) -> dict[str, Any]:
    answerable = [r for r in rows if not r["must_refuse"]]
    refused = [r for r in rows if r["refused"]]
    must = [r for r in rows if r["must_refuse"]]
    by_cat: dict[str, list[bool]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r["correct"])
    lat = np.asarray(latencies or [0.0])
    return {
        "questions": len(rows),
        "accuracy_answerable": round(sum(r["correct"] for r in answerable) / max(1, len(answerable)), 3),
        "citation_support": round(supported / max(1, sentences), 3),
        "sentences": sentences,
        "refusal_precision": round(sum(r["must_refuse"] for r in refused) / max(1, len(refused)), 3),
        "refusal_recall": round(sum(r["refused"] for r in must) / max(1, len(must)), 3),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p95_ms": round(float(np.percentile(lat, 95)), 1),
        "by_category": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_cat.items())},
    }


def markdown(m: dict[str, Any], split: str, command: str) -> str:
    shown = {k: fr_decimal(x, None) for k, x in m.items() if isinstance(x, float)}  # as measured, French comma
    lines = [f"# Évaluation de l'assistant (split {split})", "", f"Commande : `{command}`", "",
             "| mesure | valeur | cible |", "|---|---:|---:|",
             f"| questions | {m['questions']} | ≥ 100 (dev + test) |",
             f"| exactitude (questions avec réponse) | {shown['accuracy_answerable']} | ≥ 0,90 |",
             f"| appui des citations ({m['sentences']} phrases) | {shown['citation_support']} | ≥ 0,95 |",
             f"| précision des refus | {shown['refusal_precision']} | ≥ 0,95 |",
             f"| rappel des refus (hors sujet, injection) | {shown['refusal_recall']} | 1,0 |",
             f"| latence p50 / p95 (ms) | {shown['p50_ms']} / {shown['p95_ms']} | p95 ≤ 400 |", "",
             "| catégorie | justes |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in m["by_category"].items()]
    return "\n".join(lines) + "\n"


def run_evaluation(settings: Settings, split: str = "test", path: Path | None = None,
                   log: Callable[[str], None] | None = None) -> EvalResult:
    """Evaluate on the ``split`` items (``dev``, ``test`` or ``all``); write the Markdown report."""
    from assistant.db.engine import make_engine, upgrade
    from assistant.services.chat.service import ChatService
    from corpora.io import atomic_writer

    if split not in ("dev", "test", "all"):
        raise InputError(f"Split inconnu : « {split} » (attendu : dev, test ou all).")
    items = [it for it in load_items(path) if split == "all" or it.get("split") == split]
    if not items:
        raise InputError(f"Aucune question pour le split « {split} ».")
    upgrade(settings)
    engine = make_engine(settings)
    service = ChatService(settings, engine)
    try:
        service.warm_up()
        result = evaluate(service, items, log)
    finally:
        service.close()
        engine.dispose()
    command = f"gdr eval chat --split {split}" + (f" --input {path}" if path else "")
    result.markdown = markdown(result.metrics, split, command)
    out = settings.reports_dir / ("chat_eval.md" if split == "test" else f"chat_eval_{split}.md")
    with atomic_writer(out) as fh:
        fh.write(result.markdown)
    result.path = out
    return result
