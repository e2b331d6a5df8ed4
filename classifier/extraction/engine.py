"""Rule-based extraction engine: patterns as data, compiled once, pure functions.

Every finding keeps its evidence span: ``text[f.start:f.end] == f.text`` (code points).
Context modifiers (negation, hypothesis, history, family, suspicion) are decided from a
window before the match in the same sentence and from a short pattern right after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PATTERNS_DIR = Path(__file__).parent / "patterns"
_FLAGS_CI = re.IGNORECASE | re.UNICODE
_MODIFIER_KINDS = ("negation", "hypothesis", "history", "family", "suspected")
_PATTERN_TOKEN = re.compile(r"\\.|\(\?P<[^>]*>|\(\?P=[^)]*\)|.", re.DOTALL)


def _lower_pattern(pattern: str) -> str:
    """Lower-case a regex's literals, keeping escapes (``\\b``, ``\\S``) and group names intact."""
    return "".join(tok if tok.startswith(("\\", "(?P")) else tok.lower() for tok in _PATTERN_TOKEN.findall(pattern))


class CIRegex:
    """A case-insensitive regex compiled twice: with IGNORECASE, and lower-cased for lower-cased text.

    Matching lower-cased text without IGNORECASE is several times faster; it is used whenever
    ``text.lower()`` keeps every offset (same length), else the IGNORECASE form runs on the text.
    """

    __slots__ = ("ci", "lo")

    def __init__(self, pattern: str) -> None:
        self.ci = re.compile(pattern, _FLAGS_CI)
        self.lo = re.compile(_lower_pattern(pattern), re.UNICODE)

    def pick(self, lowered: bool) -> re.Pattern[str]:
        return self.lo if lowered else self.ci


@dataclass(frozen=True, slots=True)
class Finding:
    """One extracted fact with its evidence span and context modifiers."""

    code: str
    label: str
    start: int
    end: int
    text: str
    negated: bool = False
    hypothetical: bool = False
    history: bool = False
    family: bool = False
    certainty: str = "certain"  # "certain" | "suspected"
    category: str = ""
    value: float | None = None  # e.g. age in years, trial phase number
    substance: str | None = None  # drugs: canonical substance name
    atc: str | None = None

    @property
    def affirmed(self) -> bool:
        """True when the finding is about the patient, now, and stated (not negated/hypothetical)."""
        return not (self.negated or self.hypothetical or self.history or self.family)


@dataclass(slots=True)
class _Rule:
    code: str
    label: str
    category: str
    regex_ci: CIRegex | None
    regex_cs: re.Pattern[str] | None
    regex_cs_mixed: re.Pattern[str] | None
    gate: frozenset[str] | None = None  # literal prefixes (lower case) or None = always run


@dataclass(slots=True)
class _Modifier:
    kind: str
    window: int
    comma_breaks: bool
    pre: CIRegex | None
    post: CIRegex | None
    pseudo: CIRegex | None
    stop: CIRegex | None


@dataclass(slots=True)
class CompiledPatterns:
    rules: list[_Rule]
    modifiers: dict[str, _Modifier]
    sentence_break: CIRegex
    ages: list[CIRegex]
    age_units: dict[str, float]
    phases: list[CIRegex]
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (label, category)


def _alternation(patterns: list[str], flags: int) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), flags)


def _ci_alternation(patterns: list[str]) -> CIRegex | None:
    if not patterns:
        return None
    return CIRegex("|".join(f"(?:{p})" for p in patterns))


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a mapping is expected")
    return data


@lru_cache(maxsize=4)
def load_patterns(directory: str | None = None) -> CompiledPatterns:
    """Read and compile every pattern file of ``directory`` (cached)."""
    base = Path(directory) if directory else PATTERNS_DIR
    rules: list[_Rule] = []
    labels: dict[str, tuple[str, str]] = {}
    ages: list[CIRegex] = []
    units: dict[str, float] = {}
    phases: list[CIRegex] = []
    for path in sorted(base.glob("*.yaml")):
        if path.name in ("modifiers.yaml", "substances.yaml"):
            continue
        data = _read_yaml(path)
        category = str(data.get("category", path.stem))
        for item in data.get("findings", []) or []:
            code = item["code"]
            if code in labels:
                raise ValueError(f"{path}: duplicate finding code {code}")
            ci_list = list(item.get("patterns", []) or [])
            cs_list = list(item.get("patterns_cs", []) or []) + list(item.get("patterns_cs_mixed", []) or [])
            gate: set[str] | None = set()
            for pat in ci_list + cs_list:
                pre = _literal_prefixes(pat, _FLAGS_CI)
                if pre is None or gate is None:
                    gate = None
                else:
                    gate |= pre
            rules.append(
                _Rule(
                    gate=frozenset(gate) if gate else None,
                    code=code,
                    label=item["label"],
                    category=category,
                    regex_ci=_ci_alternation(list(item.get("patterns", []) or [])),
                    regex_cs=_alternation(list(item.get("patterns_cs", []) or []), re.UNICODE),
                    regex_cs_mixed=_alternation(list(item.get("patterns_cs_mixed", []) or []), re.UNICODE),
                )
            )
            labels[code] = (item["label"], category)
        ages.extend(CIRegex(p) for p in data.get("ages", []) or [])
        units.update({str(k).lower(): float(v) for k, v in (data.get("units", {}) or {}).items()})
        phases.extend(CIRegex(p) for p in data.get("phases", []) or [])
    mods = _read_yaml(base / "modifiers.yaml")
    modifiers: dict[str, _Modifier] = {}
    for kind in _MODIFIER_KINDS:
        spec = mods.get(kind) or {}
        modifiers[kind] = _Modifier(
            kind=kind,
            window=int(spec.get("window", 60)),
            comma_breaks=bool(spec.get("comma_breaks", False)),
            pre=_ci_alternation(list(spec.get("pre", []) or [])),
            post=_ci_alternation(list(spec.get("post", []) or [])),
            pseudo=_ci_alternation(list(spec.get("pseudo", []) or [])),
            stop=_ci_alternation(list(spec.get("stop", []) or [])),
        )
    for code, label, category in _DERIVED_CODES:
        labels.setdefault(code, (label, category))
    return CompiledPatterns(
        rules=rules,
        modifiers=modifiers,
        sentence_break=CIRegex(mods.get("sentence_break", r"[.!?;\n]")),
        ages=ages,
        age_units=units,
        phases=phases,
        labels=labels,
    )


# codes produced by code (ages, phases, drugs) rather than by a pattern list
_DERIVED_CODES: tuple[tuple[str, str, str], ...] = (
    ("POP_ADULT", "Adulte", "population"),
    ("TRIAL_PHASE_1", "Essai de phase I", "trial"),
    ("TRIAL_PHASE_2", "Essai de phase II", "trial"),
    ("TRIAL_PHASE_3", "Essai de phase III", "trial"),
    ("TRIAL_PHASE_4", "Essai de phase IV", "trial"),
    ("DRUG", "Médicament ou substance", "drug"),
)


def finding_codes() -> dict[str, tuple[str, str]]:
    """Every finding code the extractor can produce: code -> (French label, category)."""
    return dict(load_patterns().labels)


def _is_mostly_upper(text: str) -> bool:
    letters = upper = 0
    for ch in text[:400]:
        if ch.isalpha():
            letters += 1
            if ch.isupper():
                upper += 1
    return letters >= 12 and upper >= 0.8 * letters


@dataclass(frozen=True, slots=True)
class _Text:
    """The text, and what regexes run on: its lower case when offsets are kept (``lo``), else itself."""

    text: str
    src: str
    lo: bool

    @classmethod
    def of(cls, text: str) -> _Text:
        lowered = text.lower()
        if len(lowered) == len(text):
            return cls(text, lowered, True)
        return cls(text, text, False)


def _sentence_start(t: _Text, pos: int, cp: CompiledPatterns, limit: int) -> int:
    lo = max(0, pos - limit)
    start = lo
    for m in cp.sentence_break.pick(t.lo).finditer(t.src, lo, pos):
        start = m.end()
    return start


def _pre_window(mod: _Modifier, t: _Text, start: int, sent_start: int) -> str:
    lo = max(sent_start, start - mod.window)
    window = t.src[lo:start]
    if mod.comma_breaks:
        cut = max(window.rfind(","), window.rfind("("), window.rfind(")"))
        if cut >= 0:
            window = window[cut + 1 :]
    if mod.pseudo is not None:
        window = mod.pseudo.pick(t.lo).sub(lambda m: " " * len(m.group(0)), window)
    return window


def _has_modifier(mod: _Modifier, t: _Text, start: int, end: int, sent_start: int) -> bool:
    if mod.pre is not None:
        window = _pre_window(mod, t, start, sent_start)
        if window.strip():
            last = None
            for m in mod.pre.pick(t.lo).finditer(window):
                last = m
            if last is not None:
                between = window[last.end() :]
                if mod.stop is None or not mod.stop.pick(t.lo).search(between):
                    return True
    return mod.post is not None and mod.post.pick(t.lo).match(t.src[end : end + 40]) is not None


def _modifiers(cp: CompiledPatterns, text: str | _Text, start: int, end: int) -> dict[str, bool]:
    t = text if isinstance(text, _Text) else _Text.of(text)
    sent_start = _sentence_start(t, start, cp, 200)
    mods = cp.modifiers
    return {
        "negated": _has_modifier(mods["negation"], t, start, end, sent_start),
        "hypothetical": _has_modifier(mods["hypothesis"], t, start, end, sent_start),
        "history": _has_modifier(mods["history"], t, start, end, sent_start),
        "family": _has_modifier(mods["family"], t, start, end, sent_start),
        "suspected": _has_modifier(mods["suspected"], t, start, end, sent_start),
    }


def _make(cp: CompiledPatterns, text: str | _Text, code: str, label: str, category: str, start: int, end: int,
          **extra: Any) -> Finding:
    t = text if isinstance(text, _Text) else _Text.of(text)
    m = _modifiers(cp, t, start, end)
    return Finding(
        code=code,
        label=label,
        start=start,
        end=end,
        text=t.text[start:end],
        negated=m["negated"],
        hypothetical=m["hypothetical"],
        history=m["history"],
        family=m["family"],
        certainty="suspected" if m["suspected"] else "certain",
        category=category,
        **extra,
    )


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _age_findings(cp: CompiledPatterns, t: _Text) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[int, int]] = set()
    for rx in cp.ages:
        for m in rx.pick(t.lo).finditer(t.src):
            try:
                num = float(m.group("num").replace(",", "."))
            except (TypeError, ValueError):
                continue
            unit = m.group("unit").lower()
            factor = cp.age_units.get(unit, cp.age_units.get(unit.rstrip("s"), 1.0))
            years = round(num * factor, 3)
            if years > 120:
                continue
            span = m.span()
            if any(s <= span[0] < e for s, e in seen):
                continue
            seen.add(span)
            if years < 18:
                code = "POP_PAEDIATRIC"
            elif years >= 75:
                code = "POP_ELDERLY"
            else:
                code = "POP_ADULT"
            label = f"{cp.labels[code][0]} (âge : {_fmt_age(years)})"
            out.append(_make(cp, t, code, label, "population", span[0], span[1], value=years))
    return out


def _fmt_age(years: float) -> str:
    if years >= 2:
        return f"{years:g} ans"
    months = round(years * 12, 1)
    return f"{months:g} mois"


def _phase_findings(cp: CompiledPatterns, t: _Text) -> list[Finding]:
    out: list[Finding] = []
    for rx in cp.phases:
        for m in rx.pick(t.lo).finditer(t.src):
            phases = {_ROMAN.get((m.group("p") or "").lower())}
            p2 = m.groupdict().get("p2")
            if p2:
                phases.add(_ROMAN.get(p2.lower()))
            for ph in sorted(p for p in phases if p):
                code = f"TRIAL_PHASE_{ph}"
                out.append(_make(cp, t, code, cp.labels[code][0], "trial", m.start(), m.end(), value=float(ph)))
    return out


def extract_rules(text: str, cp: CompiledPatterns, upper: bool | None = None) -> list[Finding]:
    """Apply every pattern rule, ages and phases to ``text``."""
    out: list[Finding] = []
    if upper is None:
        upper = _is_mostly_upper(text)
    t = _Text.of(text)
    lowered = t.src if t.lo else text.lower()
    for rule in cp.rules:
        if rule.gate is not None and not any(g in lowered for g in rule.gate):
            continue
        seen: set[int] = set()
        for rx, src in ((rule.regex_ci.pick(t.lo) if rule.regex_ci else None, t.src), (rule.regex_cs, text),
                        (None if upper else rule.regex_cs_mixed, text)):
            if rx is None:
                continue
            for m in rx.finditer(src):
                s, e = m.span()
                if e <= s or s in seen:
                    continue
                seen.add(s)
                out.append(_make(cp, t, rule.code, rule.label, rule.category, s, e))
    out.extend(_age_findings(cp, t))
    out.extend(_phase_findings(cp, t))
    return out


def _literal_prefixes(pattern: str, flags: int) -> frozenset[str] | None:
    """Lower-case literal prefixes one of which every match of ``pattern`` must start with.

    ``None`` when no useful prefix (>= 2 characters) can be derived: the rule then always runs.
    Used only to skip rules cheaply; correctness never depends on it.
    """
    try:
        from re import _constants as C  # type: ignore[attr-defined]
        from re import _parser as P  # type: ignore[attr-defined]

        parsed = P.parse(pattern, flags)
    except Exception:
        return None
    # the gate is searched at word starts only: require the pattern to begin with \\b
    if not parsed.data or parsed.data[0][0] is not C.AT or parsed.data[0][1] is not C.AT_BOUNDARY:
        return None

    def walk(items: Any) -> set[str] | None:
        s = ""
        for op, av in items:
            if op is C.AT and not s:
                continue
            if op is C.LITERAL:
                s += chr(av).lower()
                continue
            if op in (C.SUBPATTERN, C.BRANCH):
                branches = [av[-1]] if op is C.SUBPATTERN else av[1]
                out: set[str] = set()
                for branch in branches:
                    sub = walk(branch)
                    if sub is None:
                        out = set()
                        break
                    out |= {s + x for x in sub}
                if out:
                    return out
            break
        return {s} if s else None

    def useful(prefix: str) -> bool:
        return len(prefix) >= 2 or (len(prefix) == 1 and not prefix.isascii())

    result = walk(parsed)
    if not result or not all(useful(p) for p in result):
        return None
    return frozenset(result)
