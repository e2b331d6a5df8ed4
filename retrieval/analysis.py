"""French + English text analysis for the lexical index (pure functions, data files loaded once).

lowercase → split on words → drop stop words of both languages → Snowball stem in the
document's language (French or English) → fold accents. A query is stemmed in both
languages and, on the lexical side, expanded with a small French→English medical term map
(``retrieval/data/fr_en_terms.tsv``) so that a French query finds English VAERS reports.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from corpora.normalise import fold, read_word_list, stop_words

TERMS_FILE = Path(__file__).resolve().parent / "data" / "fr_en_terms.tsv"

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]")


@functools.cache
def term_map() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """French term (folded words) → English expansions, longest terms first."""
    entries: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for line in read_word_list(TERMS_FILE):
        if "\t" not in line:
            continue
        fr, en = line.split("\t", 1)
        words = tuple(_WORD.findall(fold(fr)))
        expansions = tuple(e.strip() for e in en.split(";") if e.strip())
        if words and expansions:
            entries.append((words, expansions))
    entries.sort(key=lambda e: -len(e[0]))
    return tuple(entries)


@functools.cache
def _stemmer(language: str) -> Any:
    import Stemmer  # PyStemmer, small C extension

    return Stemmer.Stemmer("french" if language == "fr" else "english")


def words(text: str) -> list[str]:
    """Lowercased words without elided articles (``l'injection`` → ``injection``)."""
    out = []
    for w in _WORD.findall(text.lower()):
        w = _ELISION.sub("", w)
        if w:
            out.append(w)
    return out


def _keep(folded: str) -> bool:
    return (len(folded) > 1 or folded.isdigit()) and folded not in stop_words()


def analyze(text: str, language: str = "en") -> list[str]:
    """Index tokens of a document text in its language."""
    ws = [w for w in words(text) if _keep(fold(w))]
    return [fold(s) for s in _stemmer("fr" if language == "fr" else "en").stemWords(ws)]


def expand_french_terms(text: str) -> list[str]:
    """English expansions of the French terms found in ``text`` (whole-word, accent-insensitive)."""
    tokens = _WORD.findall(fold(text))
    found: list[str] = []
    for fr_words, expansions in term_map():
        n = len(fr_words)
        for i in range(len(tokens) - n + 1):
            if tuple(tokens[i : i + n]) == fr_words:
                found.extend(expansions)
                break
    return found


def analyze_query(text: str, expand: bool = True) -> list[str]:
    """Query tokens: stemmed in both languages (deduplicated), plus English expansions."""
    ws = [w for w in words(text) if _keep(fold(w))]
    tokens: list[str] = []
    seen: set[str] = set()
    stems = _stemmer("fr").stemWords(ws) + _stemmer("en").stemWords(ws)
    extra: list[str] = []
    if expand:
        for phrase in expand_french_terms(text):
            extra.extend(analyze(phrase, "en"))
    for tok in [fold(s) for s in stems] + extra:
        if tok not in seen:
            seen.add(tok)
            tokens.append(tok)
    return tokens


def _stems(words_: list[str]) -> set[str]:
    return {fold(s) for s in _stemmer("fr").stemWords(words_) + _stemmer("en").stemWords(words_)}


def query_concepts(text: str, generic: frozenset[str] = frozenset()) -> list[frozenset[str]]:
    """The content words of a question, each as the stems that would show it in a passage.

    A content word has 4 letters or more and is neither a stop word nor in ``generic`` (folded words
    such as « effets », « cas », « quels »). Its forms are its French and English stems plus the stems
    of its English expansions (« grippe » → *influenza*), so an English passage can show a French word;
    a capitalised word after the first is a name, shown only by the same word.
    """
    concepts: list[frozenset[str]] = []
    seen: set[str] = set()
    for i, raw in enumerate(_WORD.findall(text)):
        elided = _ELISION.match(raw.lower())
        core = raw[elided.end():] if elided else raw
        w = core.lower()
        folded = fold(w)
        if len(folded) < 4 or folded in seen or folded in stop_words() or folded in generic or folded.isdigit():
            continue
        seen.add(folded)
        if i > 0 and core[:1].isupper():  # a name inside the question: the word itself, never its stem
            concepts.append(frozenset({f"={folded}"}))  # « Mediator » must not match « médiatique »
            continue
        forms = _stems([w])
        for phrase in expand_french_terms(w):
            forms |= _stems([x for x in words(phrase) if _keep(fold(x))])
        concepts.append(frozenset(forms))
    return concepts


def concepts_shown(concepts: list[frozenset[str]], text: str) -> int:
    """How many of ``concepts`` (from :func:`query_concepts`) one of whose stems occurs in ``text``."""
    ws = words(text)
    present = _stems(ws) | {f"={fold(w)}" for w in ws}
    return sum(1 for forms in concepts if forms & present)
