"""Light substance detector: token n-gram lookup in a lexicon (no regex per name, so it stays fast).

The bundled lexicon (``patterns/substances.yaml``) holds common INNs and vaccines; the
context module can enlarge it with the substances of the real corpora
(``Lexicon.extended(names)``). Short upper-case aliases (``MMR``, ``DTP``) match only
case-sensitively and not in all-capitals text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from classifier.extraction.engine import PATTERNS_DIR, Finding
from corpora.normalise import fold, plain_apostrophes, read_word_list

_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_MAX_NGRAM = 4
# Words that are substance names in some databases but ordinary words in narratives ("fer", "sel").
ORDINARY_WORDS_FILE = PATTERNS_DIR / "ordinary_words.txt"


@lru_cache(maxsize=1)
def ordinary_words() -> frozenset[str]:
    """Folded words never looked up as substances (:data:`ORDINARY_WORDS_FILE`)."""
    return frozenset(_fold(w) for line in read_word_list(ORDINARY_WORDS_FILE) for w in line.split())


def _fold(text: str) -> str:
    return fold(plain_apostrophes(text))


def _key(text: str) -> str:
    return " ".join(t for t in (_fold(m.group(0)) for m in _TOKEN.finditer(text)))


@dataclass(frozen=True, slots=True)
class LexEntry:
    substance: str
    atc: str | None


@dataclass(slots=True)
class Lexicon:
    """Mapping from folded n-gram keys to substances; case-sensitive aliases apart."""

    entries: dict[str, LexEntry] = field(default_factory=dict)
    cs_entries: dict[str, LexEntry] = field(default_factory=dict)
    first_tokens: set[str] = field(default_factory=set)

    def add(self, alias: str, substance: str, atc: str | None = None, *, overwrite: bool = False) -> None:
        alias = alias.strip()
        if not alias:
            return
        entry = LexEntry(substance, atc)
        stripped = alias.replace("-", "").replace(" ", "")
        if " " not in alias and len(stripped) <= 5 and any(c.isupper() for c in alias):
            self.cs_entries.setdefault(alias, entry)
            return
        key = _key(alias)
        if not key or len(key) < 4 or key in ordinary_words() or len(key.split()) > _MAX_NGRAM:
            return
        if overwrite or key not in self.entries:
            self.entries[key] = entry
        self.first_tokens.add(key.split()[0])

    def extended(self, names: Iterable[tuple[str, str | None]]) -> Lexicon:
        """A copy enlarged with ``(name, atc)`` pairs (existing entries win)."""
        lex = Lexicon(dict(self.entries), dict(self.cs_entries), set(self.first_tokens))
        for name, atc in names:
            lex.add(name.lower(), _canonical(name), atc)
        return lex

    def __len__(self) -> int:
        return len(self.entries) + len(self.cs_entries)

    def find(self, text: str, *, upper_text: bool = False) -> list[Finding]:
        """Longest-match lookup of substances in ``text``; findings carry no modifiers yet."""
        lowered = text.lower()
        if len(lowered) != len(text):  # rare characters whose lower case changes length
            tokens = [(m.start(), m.end(), _fold(m.group(0)), m.group(0)) for m in _TOKEN.finditer(text)]
        else:
            tokens = []
            for m in _TOKEN.finditer(lowered):
                word = m.group(0)
                ws, we = m.span()
                tokens.append((ws, we, word if word.isascii() else _fold(word), text[ws:we]))
        out: list[Finding] = []
        i = 0
        n = len(tokens)
        while i < n:
            matched = 0
            tok = tokens[i]
            if tok[2] in self.first_tokens:
                for size in range(min(_MAX_NGRAM, n - i), 0, -1):
                    key = " ".join(t[2] for t in tokens[i : i + size])
                    entry = self.entries.get(key)
                    if entry is not None:
                        s, e = tok[0], tokens[i + size - 1][1]
                        out.append(_drug(text, s, e, entry))
                        matched = size
                        break
            if not matched and not upper_text:
                entry = self.cs_entries.get(tok[3])
                if entry is not None:
                    out.append(_drug(text, tok[0], tok[1], entry))
                    matched = 1
            i += matched or 1
        return out


def _drug(text: str, s: int, e: int, entry: LexEntry) -> Finding:
    label = entry.substance if not entry.atc else f"{entry.substance} ({entry.atc})"
    return Finding(code="DRUG", label=label, start=s, end=e, text=text[s:e], category="drug",
                   substance=entry.substance, atc=entry.atc)


def _canonical(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip().lower())


@lru_cache(maxsize=2)
def bundled_lexicon(path: str | None = None) -> Lexicon:
    """The small lexicon shipped with the project (cached)."""
    file = Path(path) if path else PATTERNS_DIR / "substances.yaml"
    with file.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    lex = Lexicon()
    for item in data.get("substances", []) or []:
        name = str(item["name"])
        atc = item.get("atc")
        lex.add(name, name, atc)
        for alias in item.get("aliases", []) or []:
            lex.add(str(alias), name, atc)
    return lex
