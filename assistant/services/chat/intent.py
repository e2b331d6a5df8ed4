"""Intent of a chat message (French and English), from the patterns of ``assistant/data/chat/intents.yaml``.

A question is never triaged as a dossier: a message is a dossier only when it reads like a
narrative (several clinical or regulatory markers, no question form) or is marked ``/pv``, ``/amm``
or ``/aec``; a short text that is neither clearly a question nor clearly a dossier is
``ambiguous`` and gets « Est-ce un dossier à trier ou une question ? » back, with the commands that
say which. A phrase of under 12 words that names nobody (no person, no age) and is not written as a
sentence is never a dossier: « Syndrome de Guillain-Barré après vaccin grippal » was triaged, and stored.

>>> classify("Pourquoi élevé ?", has_dossier=True).name
'dossier_question'
>>> classify("Quelle est la capitale de l'Australie ?").name
'out_of_scope'
>>> classify("Le patient est décédé deux jours après la vaccination.").name
'dossier'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from corpora.errors import InputError

INTENTS_FILE = Path(__file__).resolve().parents[2] / "data" / "chat" / "intents.yaml"

INTENTS = ("dossier", "dossier_question", "corpus_question", "search", "command", "small_talk",
           "out_of_scope", "ambiguous", "injection")

SEARCH_COMMANDS = ("/recherche", "/rechercher", "/search")
HELP_COMMANDS = ("/aide", "/help", "/?")
TYPE_COMMANDS = {"/pv": "pv", "/amm": "amm", "/aec": "aec"}
_SEARCH_WORDS = re.compile(r"^(cherche|recherche|rechercher|trouve|search|find)\s+(?:moi\s+)?(.+)$", re.I | re.S)
# Strong corpus vocabulary: these name a database even when "le niveau" or "la référence" also appear.
_CORPUS_GROUPS = 4

UNSUPPORTED_LANGUAGE = ("Langue non prise en charge : écrivez en français ou en anglais "
                        "(dossier ou question).")


@dataclass(frozen=True)
class Patterns:
    question_starts: tuple[re.Pattern[str], ...]
    dossier_refs: tuple[re.Pattern[str], ...]
    domain_words: tuple[re.Pattern[str], ...]
    small_talk: tuple[re.Pattern[str], ...]
    injection: tuple[re.Pattern[str], ...]
    dossier_words: tuple[re.Pattern[str], ...]
    dossier_subjects: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Intent:
    """What a message is. ``text`` is the message without its command; ``injection`` the phrases found."""

    name: str
    text: str
    dossier_type: str | None = None
    command: str | None = None
    injection: tuple[str, ...] = field(default_factory=tuple)
    entities: tuple[Any, ...] = field(default_factory=tuple)


@lru_cache(maxsize=2)
def patterns(path: Path = INTENTS_FILE) -> Patterns:
    """Compiled patterns of the data file (read once)."""
    import yaml

    from corpora.intake import compile_patterns

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Patterns(**{key: tuple(compile_patterns(str(p) for p in data.get(key, [])))
                           for key in Patterns.__dataclass_fields__})
    except (OSError, yaml.YAMLError, re.error) as exc:
        raise InputError(f"Fichier des intentions illisible ({path.name}) : {exc}") from exc


def _fold(text: str) -> str:
    from corpora.normalise import fold

    return fold(text)


def _any(pats: Sequence[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in pats)


def _count(pats: Sequence[re.Pattern[str]], text: str) -> int:
    return sum(1 for p in pats if p.search(text))


def is_question(folded: str, pats: Patterns) -> bool:
    first = re.split(r"(?<=[.!?])\s", folded.strip(), maxsplit=1)[0]
    first = re.sub(r"^(bonjour|bonsoir|salut|hello|hi|svp|s'il (te|vous) plait|please)[\s,!.]+", "", first)
    return folded.rstrip().endswith("?") or _any(pats.question_starts, first)


def injection_phrases(text: str) -> list[str]:
    """Phrases addressed to an assistant: the intake patterns plus the chat's own."""
    from assistant.services.intake import injection_patterns
    from corpora.intake import find_injections

    return find_injections(text, [*injection_patterns(), *patterns().injection])


def check_language(text: str) -> None:
    """An :class:`InputError` for a message in neither French nor English (with positive evidence)."""
    from classifier.features import detect_language

    if len(text.split()) >= 4 and detect_language(text) is None:
        raise InputError(UNSUPPORTED_LANGUAGE)


def classify(message: str, *, has_dossier: bool = False,
             link: Callable[[str], Sequence[Any]] | None = None) -> Intent:
    """The intent of ``message``; ``link`` finds product and substance names (entity linking)."""
    pats = patterns()
    body = (message or "").strip()
    if body.startswith("/"):
        head, _, rest = body.partition(" ")
        if "\n" in head:
            head, _, more = head.partition("\n")
            rest = f"{more} {rest}"
        command, rest = head.lower(), rest.strip()
        if command in SEARCH_COMMANDS:
            return Intent("search", rest)
        if command in TYPE_COMMANDS:
            return Intent("dossier", rest, dossier_type=TYPE_COMMANDS[command])
        return Intent("command", rest, command="help" if command in HELP_COMMANDS else command)
    folded = _fold(body)
    words = len(body.split())
    question = is_question(folded, pats)
    clinical = _count(pats.dossier_words, folded)
    sentences = len(re.findall(r"[.!?](\s|$)", body)) or 1
    narrative = (words >= 60 and clinical >= 3) or (clinical >= 4 and sentences >= 3 and words >= 25)
    injected = tuple(injection_phrases(body))
    if injected and not narrative:
        return Intent("injection", body, injection=injected)
    if narrative:
        return Intent("dossier", body, injection=injected)
    m = _SEARCH_WORDS.match(body)
    if m and not question:
        return Intent("search", m.group(2).strip())
    if words <= 8 and _any(pats.small_talk, folded) and not _any(pats.domain_words, folded):
        return Intent("small_talk", body)
    entities = tuple(link(body)) if link is not None else ()
    domain = [bool(p.search(folded)) for p in pats.domain_words]
    corpus_strong = any(domain[:_CORPUS_GROUPS]) or bool(entities)
    dossier_ref = _any(pats.dossier_refs, folded)
    explicit_dossier = bool(re.search(r"\b(ce|cet|du|au|mon|notre)\s+(dossier|cas|signalement)\b|"
                                      r"\b(this|the)\s+(case|dossier)\b", folded))
    if not question:
        # a short phrase naming nobody and not written as a sentence is a search or a question, not a report
        phrase = words < 12 and not body.endswith(".") and not _any(pats.dossier_subjects, folded)
        if clinical >= 2 and words >= 6 and not phrase:
            return Intent("dossier", body)
        if not (corpus_strong or (has_dossier and dossier_ref)):
            if clinical >= 1 or any(domain):
                return Intent("ambiguous", body)
            return Intent("out_of_scope", body)
    if has_dossier and (explicit_dossier or (dossier_ref and not corpus_strong)):
        return Intent("dossier_question", body, entities=entities)
    if corpus_strong or any(domain):
        return Intent("corpus_question", body, entities=entities)
    if dossier_ref:
        return Intent("dossier_question", body, entities=entities)
    return Intent("out_of_scope", body)
