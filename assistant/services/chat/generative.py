"""Optional generative model: rewrites the offline answer's facts from its numbered passages, then is checked.

The model (LangChain ``ChatOpenAI`` for any OpenAI-compatible server, or ``ChatOllama``; settings
``GDR_LLM__*``) receives the question, the offline sentences and the passages they cite, numbered.
Each sentence it returns must cite a given passage and be supported by it (content words and every
number found in the cited passages or in the offline sentences citing them); other sentences are
removed. If fewer than ``llm.min_kept`` of the offline sentences' worth remain, or the server fails
or is slow (``llm.timeout_s``), the offline answer is returned with a notice. Levels and modes are
never taken from the model: a level word is kept only where the cited support holds it.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.services.chat import answerer as A
from assistant.settings import Settings
from corpora.normalise import fold

PROMPT_FILE = Path(__file__).resolve().parents[2] / "data" / "chat" / "prompt.fr.yaml"
_REF = re.compile(r"\[(\d{1,3})\]")
_SPLIT = re.compile(r"(?<=[.!?])\s+(?!\[)|(?<=\])\s+(?=[A-ZÀ-ÖØ-Ý«])")
_WORDS = re.compile(r"[a-z]{4,}")
_NUMBERS = re.compile(r"\d+(?:[.,]\d+)?")
MIN_OVERLAP = 0.6
_LEVELS = ("faible", "modere", "eleve", "critique")


@lru_cache(maxsize=2)
def prompt(path: Path = PROMPT_FILE) -> dict[str, str]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {"system": str(data["system"]), "user": str(data["user"])}


def chat_model(settings: Settings) -> Any:
    """The LangChain chat model of the settings (imported only when configured)."""
    llm = settings.llm
    if llm.provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=llm.model or "default", base_url=llm.base_url, api_key=llm.api_key or "none",
                          timeout=llm.timeout_s, max_retries=0, temperature=llm.temperature,
                          max_completion_tokens=llm.max_tokens)
    if llm.provider == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(model=llm.model or "mistral", base_url=llm.base_url, temperature=llm.temperature,
                          num_predict=llm.max_tokens, client_kwargs={"timeout": llm.timeout_s})
    raise ValueError(f"unknown LLM provider {llm.provider!r}")


def _messages(question: str, answer: A.Answer, hits: list[Any]) -> list[tuple[str, str]]:
    number = {(h.document_id, h.start, h.end): i for i, h in enumerate(hits, start=1)}
    facts = "\n".join(
        f"- {s.text} " + "".join(f"[{number[(h.document_id, h.start, h.end)]}]" for h in s.citations)
        for s in answer.sentences)
    passages = "\n".join(f"[{i}] {h.title} : « {' '.join(h.excerpt.split())} »" for i, h in enumerate(hits, 1))
    p = prompt()
    return [("system", p["system"]),
            ("human", p["user"].format(question=question, facts=facts, passages=passages))]


def _support(answer: A.Answer, hits: list[Any]) -> dict[int, str]:
    """For each passage number: its folded text plus the offline sentences that cite it."""
    out = {}
    for i, h in enumerate(hits, start=1):
        own = [s.text for s in answer.sentences
               if any((c.document_id, c.start, c.end) == (h.document_id, h.start, h.end) for c in s.citations)]
        out[i] = fold(" ".join([h.title, h.excerpt, str(h.outcome or ""), *own]))
    return out


def check(text: str, support: dict[int, str], stop: frozenset[str] = frozenset()) -> list[tuple[str, list[int]]]:
    """The sentences of ``text`` that cite given passages and are supported by them: (text, numbers)."""
    kept = []
    for raw in _SPLIT.split(text.strip()):
        refs = [int(n) for n in _REF.findall(raw)]
        sentence = _REF.sub("", raw).strip().strip("-• ").strip()
        if not sentence or not refs or any(n not in support for n in refs):
            continue
        basis = " ".join(support[n] for n in refs)
        folded = fold(sentence)
        words = [w for w in _WORDS.findall(folded) if w not in stop]
        if not words or sum(w in basis for w in words) / len(words) < MIN_OVERLAP:
            continue
        if any(n not in basis for n in _NUMBERS.findall(folded)):
            continue
        if any(re.search(rf"\b{lv}\b", folded) and not re.search(rf"\b{lv}\b", basis) for lv in _LEVELS):
            continue
        kept.append((sentence if sentence.endswith((".", "!", "?")) else sentence + ".", list(dict.fromkeys(refs))))
    return kept


def rewrite(settings: Settings, question: str, answer: A.Answer, current: Any = None) -> A.Answer:
    """The checked rewrite of ``answer``, or ``answer`` itself with a notice."""
    hits: list[Any] = []
    seen = set()
    for s in answer.sentences:
        for h in s.citations:
            key = (h.document_id, h.start, h.end)
            if key not in seen:
                seen.add(key)
                hits.append(h)
    try:
        reply = chat_model(settings).invoke(_messages(question, answer, hits))
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
    except Exception:  # unreachable, slow, refused, malformed: the offline answer stands
        answer.notices.append(A.t("llm_unavailable"))
        return answer
    from assistant.services.chat.service import _stopwords

    kept = check(text, _support(answer, hits), frozenset(fold(w) for w in _stopwords()))
    if len(kept) < max(1, math.ceil(settings.llm.min_kept * len(answer.sentences))):
        answer.notices.append(A.t("llm_rejected"))
        return answer
    sentences = [A.Sentence(t, [hits[n - 1] for n in refs]) for t, refs in kept]
    return A.Answer(sentences, kind=answer.kind, notices=answer.notices)
