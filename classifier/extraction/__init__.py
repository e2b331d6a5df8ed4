"""Extraction of findings from French and English dossier text (pure functions).

``extract(text, language=None, lexicon=None) -> list[Finding]``: seriousness (ICH E2A
criteria and medically important events), population, product novelty, trial features,
pharmacovigilance signals and substances. Each ``Finding`` keeps its evidence span
(``text[f.start:f.end] == f.text``) and its context: ``negated``, ``hypothetical``,
``history``, ``family`` and ``certainty``; ``f.affirmed`` is true when none applies.
Patterns are data files in ``classifier/extraction/patterns/``.
"""

from __future__ import annotations

from classifier.extraction.engine import Finding, finding_codes, load_patterns
from classifier.extraction.lexicon import Lexicon, bundled_lexicon

__all__ = ["Finding", "Lexicon", "bundled_lexicon", "extract", "finding_codes"]


def extract(text: str, language: str | None = None, lexicon: Lexicon | None = None) -> list[Finding]:
    """Every finding of ``text`` sorted by position.

    ``language`` (``"fr"``/``"en"``) is accepted for API stability: French and English
    patterns are applied together, since dossiers mix both. ``lexicon`` defaults to the
    bundled substance lexicon; pass an enlarged one (see ``classifier.context``) to
    recognise every substance of the real corpora.
    """
    from classifier.extraction.engine import _is_mostly_upper, _make, _Text, extract_rules

    if not text:
        return []
    cp = load_patterns()
    upper = _is_mostly_upper(text)
    findings = extract_rules(text, cp, upper)
    lex = lexicon if lexicon is not None else bundled_lexicon()
    t = _Text.of(text)
    for drug in lex.find(text, upper_text=upper):
        findings.append(
            _make(cp, t, drug.code, drug.label, drug.category, drug.start, drug.end,
                  substance=drug.substance, atc=drug.atc)
        )
    findings.sort(key=lambda f: (f.start, f.end, f.code))
    return findings
