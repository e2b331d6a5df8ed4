"""CIOMS I form ("Suspect adverse reaction report"): recognition and box reading.

The CIOMS I form is the international paper format of an adverse-reaction report. Its boxes:
1 patient initials, 1a country, 2 date of birth, 2a age, 3 sex, 4-6 reaction onset, 7+13 describe
reaction(s), 8-12 check all appropriate to adverse reaction (patient died, involved or prolonged
inpatient hospitalisation, involved persistence or significant disability or incapacity, life
threatening, congenital anomaly, other medically important condition), 14 suspect drug(s),
15 daily dose(s), 16 route(s), 17 indication(s), 18 therapy dates, 19 therapy duration,
20 dechallenge, 21 rechallenge, 22 concomitant drug(s), 23 other relevant history, 24a-d
manufacturer / marketing-authorisation holder (name and address, control and original report
numbers, date received, report source), 25 date and type of report, 26 reporter (newer editions).

Labels are recognised in English and in the French translation (« FORMULAIRE CIOMS »), with the
spellings real forms use (HOSPITALISATION/HOSPITALIZATION, PERSISTANCE/PERSISTENCE, MFR/MAH…),
with or without their box numbers; a missing box is simply absent.

Three ways a form arrives, one result (:class:`CiomsForm`, a box key → text mapping plus ticks):

- **form fields** (AcroForm): fields whose names say which box they are are read by name; the
  others, like every check box, are placed where their widget sits on the page;
- **flattened** (text drawn on the page): each printed label is found with its position
  (pdfplumber words) and every other run of text goes to the nearest label above it and to its
  left, within the label's column (bounded by the next label on the same row); a tick (X, ☒,
  ✓, Wingdings þ/ý/ü…) goes to the seriousness label on its line;
- **reading order** (a DOCX table, or a PDF whose words cannot be placed): a label starts a box,
  the following lines belong to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from corpora.normalise import fold_in_place, plain_apostrophes

# --------------------------------------------------------------------------- labels

SERIOUSNESS_KEYS = ("death", "life", "hosp", "disability", "congenital", "other")
TEXT_KEYS = (
    "initials", "country", "birth", "age", "sex", "onset", "describe", "suspect", "dose", "route", "indication",
    "therapy_dates", "duration", "dechallenge", "rechallenge", "concomitant", "history", "manufacturer",
    "control_no", "original_no", "received", "source", "report_date", "report_type", "reporter",
)

# Checked first: section headings and the form's title are labels whose content is dropped.
_LABELS: list[tuple[str, str]] = [
    ("section", r"(?:I|II|III|IV|V)\s*[.)]?\s+(?:REACTION|SUSPECT|CONCOMITANT|MANUFACTURER|MARKETING|"
                r"INFORMATION|RENSEIGNEMENTS|INFORMATIONS|MEDICAMENT|FABRICANT|TITULAIRE|DONNEES|DETAILS)"),
    ("title", r"(?:CIOMS\s+FORM|FORMULAIRE\s+CIOMS|SUSPECT\s+ADVERSE\s+REACTION\s+REPORT|"
              r"(?:DECLARATION|NOTIFICATION|RAPPORT)\s+D.?(?:UN\s+)?EFFET\s+INDESIRABLE)"),
    ("check_all", r"(?:CHECK\s+ALL|COCHER\s+(?:TOUT|LES|LA|CE))"),
    ("death", r"(?:PATIENT\s+DIED|DIED\b|DEATH\b|DECES\b|DECEDE)"),
    ("life", r"(?:LIFE[\s-]*THREATENING|MISE\s+EN\s+JEU\b|PRONOSTIC\s+VITAL|MENACE\s+VITALE)"),
    ("hosp", r"(?:INVOLVED\s+OR\s+PROLONGED|PROLONGED\s+INPATIENT|HOSPITALI[SZ]ATION|HOSPITALISATION\s+OU)"),
    ("disability", r"(?:INVOLVED\s+PERSIST[AE]NCE|PERSIST[AE]NCE\s+OR|SIGNIFICANT\s+DISABILITY|DISABILITY|"
                   r"INVALIDITE|INCAPACITE)"),
    ("congenital", r"(?:CONGENITAL|(?:ANOMALIE|MALFORMATION)S?\s+CONGENITALE)"),
    ("other", r"(?:OTHER\s+MEDICALLY|MEDICALLY\s+IMPORTANT|AUTRES?\s+(?:SITUATION|EVENEMENT|CRITERE)S?\b|"
              r"MEDICALEMENT\s+(?:IMPORTANT|SIGNIFICATI))"),
    ("describe", r"(?:DESCRI(?:BE|PTION)\s+(?:OF\s+)?(?:THE\s+)?REACTION|DECRI(?:RE|PTION)\s+(?:DE\s+)?"
                 r"(?:LA\s+|LES\s+)?(?:\(?LES\)?\s+)?REACTION|DESCRIPTION\s+DE\s+L.?EFFET)"),
    ("suspect", r"(?:SUSPECT\s+DRUG|MEDICAMENTS?\s*(?:\(S\)\s*)?SUSPECTS?|PRODUITS?\s*(?:\(S\)\s*)?SUSPECTS?)"),
    ("dose", r"(?:DAILY\s+DOSE|DOSES?\s*(?:\(S\)\s*)?(?:QUOTIDIENNE|JOURNALIERE)|POSOLOGIE)"),
    ("route", r"(?:ROUTES?\s*(?:\(S\)\s*)?OF\s+ADMIN|VOIES?\s*(?:\(S\)\s*)?D.?ADMINISTRATION)"),
    ("indication", r"(?:INDICATIONS?\s*(?:\(S\))?)"),
    ("therapy_dates", r"(?:THERAPY\s+DATES?|DATES?\s+(?:DU|DE|DES)\s+TRAITEMENTS?|DATES?\s+D.?ADMINISTRATION)"),
    ("duration", r"(?:THERAPY\s+DURATION|DUREE\s+(?:DU|DE)\s+TRAITEMENT)"),
    ("dechallenge", r"(?:DID\s+(?:THE\s+)?REACTION\s+ABATE|REACTION\s+ABATE|LA\s+REACTION\s+A.T.ELLE\s+DISPARU|"
                    r"DISPARITION\s+DE\s+LA\s+REACTION)"),
    ("rechallenge", r"(?:DID\s+(?:THE\s+)?REACTION\s+REAPPEAR|REACTION\s+REAPPEAR|LA\s+REACTION\s+A.T.ELLE\s+"
                    r"REAPPARU|REAPPARITION)"),
    ("concomitant", r"(?:CONCOMITANT\s+DRUG|MEDICAMENTS?\s*(?:\(S\)\s*)?CONCOMITANTS?|TRAITEMENTS?\s+CONCOMITANTS?)"),
    ("history", r"(?:OTHER\s+RELEVANT\s+HISTORY|RELEVANT\s+HISTORY|AUTRES?\s+ANTECEDENTS|ANTECEDENTS)"),
    ("manufacturer", r"(?:NAME\s+AND\s+ADDRESS\s+OF\s+(?:THE\s+)?(?:MANUFACTURER|MARKETING)|NOM\s+ET\s+ADRESSE)"),
    ("original_no", r"(?:ORIGINAL\s+REPORT\s+N|N(?:UMERO|°|O)\.?\s+(?:DU\s+)?RAPPORT\s+D.?ORIGINE)"),
    ("control_no", r"(?:(?:MFR|MAH|MANUFACTURER)\S*\s+CONTROL\s+N|CONTROL\s+N(?:O|UMBER)|"
                   r"N(?:UMERO|°|O)\.?\s+DE\s+CONTROLE|REFERENCE\s+(?:DU\s+)?(?:FABRICANT|TITULAIRE))"),
    ("received", r"(?:DATE\s+RECEIVED|DATE\s+DE\s+RECEPTION|RECU\s+PAR)"),
    ("source", r"(?:REPORT\s+SOURCE|SOURCE\s+DU\s+RAPPORT|SOURCE\s+DE\s+LA\s+NOTIFICATION)"),
    ("report_date", r"(?:DATE\s+OF\s+THIS\s+REPORT|DATE\s+DU\s+(?:PRESENT\s+)?RAPPORT|DATE\s+DE\s+CE\s+RAPPORT)"),
    ("report_type", r"(?:REPORT\s+TYPE|TYPE\s+D[UE]\s+RAPPORT)"),
    ("reporter", r"(?:REPORTER.?S?\s+DETAILS|COORDONNEES\s+DU\s+NOTIFI|NOTIFICATEUR)"),
    ("birth", r"(?:DATE\s+OF\s+BIRTH|BIRTH\s*DATE|DATE\s+DE\s+NAISSANCE)"),
    ("onset", r"(?:REACTION\s+ONSET|ONSET\b|DEBUT\s+DE\s+LA\s+REACTION|DATE\s+D.?APPARITION|DATE\s+DE\s+DEBUT)"),
    ("initials", r"(?:PATIENT\s+INITIALS?\b|INITIALS\b|INITIALES\b)"),
    ("country", r"(?:COUNTRY\b|PAYS\b)"),
    ("age", r"(?:AGE\b)"),
    ("sex", r"(?:SEXE?\b|GENDER\b)"),
]
# Box numbers real forms print before the labels: 1, 1a, 2a, 4-6, 7+13, 8-12, 24a., 25 b)…
_NUMBER = r"(?:\d{1,2}\s*[a-dA-D]?(?:\s*[-+]\s*\d{1,2})?\s*[.):]?\s*)"
_TICK_ON = {"X", "x", "☒", "☑", "✓", "✔", "√", "■", "þ", "ý", "ü", "⊠", "✗", "✘", "⌧", "●", "◼", "▣", "[X]", "[x]",
            "(X)", "(x)", "[✓]", "[✔]"}
_TICK_OFF = {"☐", "□", "¨", "o", "q", "\uf06f", "\uf0a8", "❑", "❒", "[ ]", "[]", "( )", "()"}
_ANSWER_YES = {"OUI", "YES", "Y", "O", "VRAI", "TRUE", "1"}  # "Décès : oui" in reading-order mode
_GLYPH = "☒☑✓✔√■þýü⊠✗✘⌧●◼▣☐□¨❑❒\uf06f\uf0a8\uf0fe\uf0fd\uf0fc"
_LEADING_BOX = re.compile(r"^\s*(\[\s*[Xx✓✔]?\s*\]|\(\s*[Xx]?\s*\)|[" + _GLYPH + r"]|[Xx](?=\s+[A-Z]))\s*")
_COMPILED = [(key, re.compile(r"^(?:" + _NUMBER + r")?" + pattern)) for key, pattern in _LABELS]
# A box number alone ("24b.", "1a", "7+13"); a bare number ("44") is a value.
_ONLY_NUMBER = re.compile(
    r"^(?:\d{1,2}\s*[a-dA-D]\s*[.)]?|\d{1,2}\s*[.)]|4\s*-\s*6|7\s*\+\s*13|8\s*-\s*12)$"
)
# Printed options a tick selects (report source, report type, dechallenge/rechallenge answers).
OPTIONS = frozenset({"YES", "NO", "NA", "N/A", "UNK", "OUI", "NON", "SO", "NSP", "STUDY", "LITERATURE",
                     "HEALTH PROFESSIONAL", "COMPETENT AUTHORITIES", "CONSUMER", "INITIAL", "FOLLOW UP", "FOLLOWUP",
                     "FOLLOW-UP", "ETUDE", "LITTERATURE", "PROFESSIONNEL DE SANTE", "AUTORITES COMPETENTES", "SUIVI",
                     "INITIALE"})

# Words of the printed labels: an all-capitals run made only of them is label residue, not a value.
_LABEL_WORDS = frozenset({
    "PATIENT", "INITIALS", "FIRST", "LAST", "COUNTRY", "DATE", "OF", "BIRTH", "AGE", "YEARS", "SEX", "REACTION",
    "ONSET", "DAY", "MONTH", "YEAR", "CHECK", "ALL", "APPROPRIATE", "TO", "ADVERSE", "DIED", "INVOLVED", "OR",
    "PROLONGED", "INPATIENT", "HOSPITALISATION", "HOSPITALIZATION", "PERSISTANCE", "PERSISTENCE", "SIGNIFICANT",
    "DISABILITY", "INCAPACITY", "LIFE", "THREATENING", "CONGENITAL", "ANOMALY", "ANOMALIES", "ABNORMALITIES",
    "OTHER", "MEDICALLY", "IMPORTANT", "CONDITION", "DESCRIBE", "REACTION(S)", "INCLUDING", "RELEVANT", "TESTS",
    "LAB", "LABORATORY", "DATA", "SUSPECT", "DRUG", "DRUG(S)", "INFORMATION", "INCLUDE", "GENERIC", "NAME", "AND",
    "BATCH", "NO", "NO.", "DAILY", "DOSE", "DOSE(S)", "ROUTE", "ROUTE(S)", "ADMINISTRATION", "DID", "ABATE",
    "AFTER", "STOPPING", "REAPPEAR", "REINTRODUCTION", "YES", "NA", "INDICATION", "INDICATION(S)", "FOR", "USE",
    "THERAPY", "DATES", "FROM/TO", "DURATION", "CONCOMITANT", "HISTORY", "EXCLUDE", "THOSE", "USED", "TREAT",
    "E.G.", "DIAGNOSTICS", "ALLERGICS", "PREGNANCY", "WITH", "PERIOD", "ETC.", "MANUFACTURER", "MARKETING",
    "AUTHORIZATION", "AUTHORISATION", "HOLDER", "MAH", "ADDRESS", "MFR", "CONTROL", "ORIGINAL", "REPORT",
    "RECEIVED", "BY", "SOURCE", "STUDY", "LITERATURE", "HEALTH", "PROFESSIONAL", "COMPETENT", "AUTHORITIES",
    "THIS", "TYPE", "INITIAL", "FOLLOW", "UP", "FOLLOWUP", "REPORTER'S", "REPORTERS", "DETAILS", "CONFIDENTIAL",
    "PAGE", "CIOMS", "FORM", "THE", "IN", "JOUR", "MOIS", "ANNEE", "ANS", "OUI", "NON", "SO", "INITIALES", "PAYS",
    "NAISSANCE", "SEXE", "DEBUT", "LA", "DE", "DU", "DES", "LES", "ET", "OU", "A", "AU", "EFFET", "INDESIRABLE",
    "DECES", "PROLONGATION", "INVALIDITE", "INCAPACITE", "PRONOSTIC", "VITAL", "MISE", "EN",
    "JEU", "ANOMALIE", "CONGENITALE", "AUTRE", "SITUATION", "MEDICALEMENT", "SIGNIFICATIVE", "COCHER", "CASES",
    "MEDICAMENT", "MEDICAMENTS", "SUSPECTS", "SUSPECT(S)", "VOIE", "VOIES", "POSOLOGIE", "QUOTIDIENNE",
    "JOURNALIERE", "TRAITEMENT", "DUREE", "CONCOMITANTS", "ANTECEDENTS", "FABRICANT", "TITULAIRE", "NOM",
    "ADRESSE", "NUMERO", "RECEPTION", "RAPPORT", "PRESENT", "NOTIFICATEUR", "SUIVI", "S", "D", "L", "PAR",
    "PERTINENTS", "PERTINENT", "ARRET", "APRES", "REAPPARU", "DISPARU", "ELLE", "T", "COMPRIS", "DCI", "EXAMENS",
    "RESULTATS", "BIOLOGIQUES", "APPROPRIEES", "ETUDE", "LITTERATURE", "PROFESSIONNEL", "SANTE", "AUTORITES",
    "COMPETENTES", "RENSEIGNEMENTS", "COMPLEMENTAIRES", "ADDITIONAL", "LE",
})
_RESIDUE = [re.compile(p) for p in (
    r"^\(?\s*FIRST\s*,?\s*LAST\s*\)?$", r"^\(?\s*PRENOM\s*,?\s*NOM\s*\)?$",
    r"^(?:(?:DAY|MONTH|YEAR|YEARS|JOUR|MOIS|ANNEE|ANS|DD|MM|YYYY|AAAA|JJ)\s*[/|]?\s*)+$",
    r"^\(.*(?:INCLUD|EXCLUD|FROM|E\.\s?G\.|FIRST|LAB|DIAGNOS|PREGNAN|BATCH|GENERIC|Y\s+COMPRIS|SAUF|DU/AU|DE/A).*\)$",
    r"^(?:PAGE\s+\d+\s+(?:OF|SUR|DE)\s+\d+)$", r"^CONFIDENTIA[LE]$",
)]
_CONTINUED = re.compile(r"(?:CONTINUED|SEE\s+(?:ADDITIONAL|CONTINUATION)|VOIR\s+(?:LA\s+)?(?:PAGE|SUITE|ANNEXE)|"
                        r"SUITE\s+(?:EN|PAGE|SUR)|ADDITIONAL\s+INFORMATION)")


def label_form(text: str) -> str:
    """Upper case, accents removed, apostrophes plain, spaces collapsed (label matching only).

    Built on :func:`corpora.normalise.fold_in_place`, so a word keeps its length (``œ`` is not spelt out).
    """
    return " ".join(fold_in_place(plain_apostrophes(text)).split()).upper()


@dataclass
class LabelMatch:
    key: str
    rest: str  # text of the same run after the label (may be a value or label residue)
    tick: bool | None  # a leading check-box glyph: True ticked, False empty, None none


def match_label(text: str) -> LabelMatch | None:
    """The CIOMS box a run of text is the label of, if any (anchored at the start of the run)."""
    stripped = text.strip()
    tick: bool | None = None
    m = _LEADING_BOX.match(stripped)
    if m:
        glyph = m.group(1).strip()
        tick = _is_tick(glyph)
        stripped = stripped[m.end():]
    folded = label_form(stripped)
    if not folded:
        return None
    for key, pattern in _COMPILED:
        hit = pattern.match(folded)
        if hit is None:
            continue
        if key == "initials" and "INITIAL" not in folded:
            continue
        label, rest = _split_at(stripped, hit.end())
        # A narrative line may start with "Age", "Route" or "Indication": a label is numbered, printed
        # in capitals, or stands (almost) alone on its run.
        numbered = bool(re.match(_NUMBER + r"\S", label)) and label[:1].isdigit()
        capitals = not any(c.islower() for c in label)
        if not (numbered or capitals or len(rest.split()) <= 3):
            return None
        return LabelMatch(key, rest, tick)
    # "1. PATIENT" alone (the official layout breaks "1.PATIENT / INITIALS / (first, last)")
    if re.match(r"^1\s*\.?\s*PATIENT$", folded):
        return LabelMatch("initials", "", tick)
    return None


def _split_at(original: str, folded_end: int) -> tuple[str, str]:
    """(label words, rest) of ``original`` where its folded form's label match ends."""
    words = original.split()
    consumed = 0
    label: list[str] = []
    out: list[str] = []
    for word in words:
        if consumed < folded_end:
            consumed += len(label_form(word)) + 1
            label.append(word)
            continue
        out.append(word)
    return " ".join(label), " ".join(out).lstrip(":;-–— ").strip()


def _is_tick(text: str) -> bool | None:
    t = text.strip()
    if t in _TICK_ON or t in ("\uf0fe", "\uf0fd", "\uf0fc"):
        return True
    if t in _TICK_OFF:
        return False
    return None


_PAREN = re.compile(r"\([^()]*\)")


def _is_paren_residue(chunk: str) -> bool:
    label = label_form(chunk)
    return bool(_RESIDUE[3].match(label) or _RESIDUE[0].match(label) or _RESIDUE[1].match(label))


def is_residue(text: str) -> bool:
    """Label residue: a continuation line of a printed label, not something the reporter wrote."""
    t = _PAREN.sub(lambda m: "" if _is_paren_residue(m.group(0)) else m.group(0), text).strip()
    if not t or _ONLY_NUMBER.match(t):
        return True
    folded = label_form(t)
    if any(p.match(folded) for p in _RESIDUE):
        return True
    if any(c.islower() for c in t):
        return False
    words = re.findall(r"[A-Z0-9]+", folded)
    known = [w for w in words if w in _LABEL_WORDS]
    # Box numbers ("24", "24B") are label residue only beside label words ("24B MFR CONTROL NO").
    other = [w for w in words if w not in _LABEL_WORDS and not re.fullmatch(r"\d{1,2}[A-D]?", w)]
    return bool(known) and not other


# --------------------------------------------------------------------------- the form

@dataclass
class CiomsForm:
    """The boxes read from one CIOMS I form (text per box, ticked seriousness criteria)."""

    boxes: dict[str, str] = field(default_factory=dict)
    ticks: set[str] = field(default_factory=set)
    labels_found: set[str] = field(default_factory=set)
    mode: str = "flattened"  # "fields", "flattened", "text"
    pages: list[int] = field(default_factory=list)
    box_pages: dict[str, int] = field(default_factory=dict)

    def get(self, key: str) -> str:
        return self.boxes.get(key, "").strip()


def labels_in_lines(lines: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for line in lines:
        m = match_label(line)
        if m is not None and m.key not in ("section", "title"):
            found.add(m.key)
    return found


def looks_like_cioms(text: str) -> bool:
    """A CIOMS I form: its title (or an adverse-reaction report heading) and several of its boxes."""
    lines = [line for line in text.splitlines() if line.strip()]
    found = labels_in_lines(lines)
    folded = label_form(text[:20_000])
    titled = "CIOMS" in folded or "SUSPECT ADVERSE REACTION" in folded or "EFFET INDESIRABLE" in folded
    core = {"describe", "suspect", "concomitant", "history", "dose", "route", "indication", "therapy_dates"}
    return (titled and len(found) >= 4 and bool(found & core)) or (len(found) >= 8 and len(found & core) >= 3)


# --------------------------------------------------------------------------- reading modes

@dataclass
class Run:
    """A run of text placed on a page (PDF points, top-left origin)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    page: int
    is_value: bool = False  # a form-field value: never a label


def _center(r: Run) -> float:
    return (r.top + r.bottom) / 2


def read_positioned(runs: Sequence[Run], edges: Sequence[Any] = ()) -> CiomsForm:
    """Boxes of a flattened (or field-filled) form from positioned runs; see module docstring.

    ``edges`` (objects with ``page``, ``vertical``, ``x0``, ``top``, ``x1``, ``bottom``) are the
    drawn box borders, when the page has them: a box's content stops at its right and bottom border.
    """
    form = CiomsForm(mode="flattened")
    labels: list[tuple[Run, LabelMatch]] = []
    ticks: list[Run] = []
    values: list[Run] = []
    for run in runs:
        if not run.text.strip():
            continue
        tick = _is_tick(run.text)
        if tick is True:
            ticks.append(run)
            continue
        if tick is False:
            continue
        box = _LEADING_BOX.match(run.text) if not run.is_value else None
        # "[X] HEALTH PROFESSIONAL": a printed option with its ticked box is an answer.
        if box is not None and _is_tick(box.group(1).strip()) and match_label(run.text) is None:
            values.append(Run(run.text[box.end():], run.x0, run.top, run.x1, run.bottom, run.page, is_value=True))
            continue
        m = None if run.is_value else match_label(run.text)
        if m is not None:
            labels.append((run, m))
            form.labels_found.add(m.key)
            if m.tick and m.key in SERIOUSNESS_KEYS:
                form.ticks.add(m.key)
            if m.rest and not is_residue(m.rest):
                values.append(Run(m.rest, run.x1 - 1, run.top, run.x1, run.bottom, run.page, is_value=True))
            continue
        values.append(run)
    rights = _right_bounds(labels, edges)
    bottoms = _bottom_bounds(labels, edges)
    assigned: dict[int, list[Run]] = {}
    for value in values:
        best = None
        for i, (label, _m) in enumerate(labels):
            if label.page != value.page:
                continue
            if label.top > value.top + 2 or label.x0 - 4 > value.x0 or value.x0 >= rights[i]:
                continue
            if value.top >= bottoms[i]:
                continue
            key = (label.top, label.x0)
            if best is None or key > best[0]:
                best = (key, i)
        if best is not None:
            assigned.setdefault(best[1], []).append(value)
    for i, (label, m) in enumerate(labels):
        if m.key in ("section", "title"):
            continue
        texts = [r for r in assigned.get(i, []) if r.is_value or not is_residue(r.text)
                 or (label_form(r.text) in OPTIONS and _tick_before(r, ticks))]
        if m.key in SERIOUSNESS_KEYS or m.key == "check_all":
            continue
        text = _join_runs(texts)
        if text:
            form.boxes[m.key] = (form.boxes[m.key] + "\n" + text) if m.key in form.boxes else text
            form.box_pages.setdefault(m.key, label.page)
    _place_ticks(form, labels, ticks)
    form.pages = sorted({r.page for r, _ in labels})
    return form


def _tick_before(run: Run, ticks: list[Run]) -> bool:
    """A tick drawn just left of a printed option on its line (the option is the answer)."""
    return any(t.page == run.page and abs(_center(t) - _center(run)) <= 5 and -2 <= run.x0 - t.x1 <= 20
               for t in ticks)


def _right_bounds(labels: list[tuple[Run, LabelMatch]], edges: Sequence[Any]) -> list[float]:
    """The next label on the same row, or the first border drawn right of the label across its line."""
    out = []
    for label, _ in labels:
        right = float("inf")
        for other, _m in labels:
            if other is label or other.page != label.page:
                continue
            if other.x0 > label.x0 + 5 and abs(other.top - label.top) <= 4:
                right = min(right, other.x0)
        middle = _center(label)
        for e in edges:
            if e.page == label.page and e.vertical and e.x0 > label.x0 + 3 and e.top <= middle <= e.bottom:
                right = min(right, e.x0)
        out.append(right)
    return out


def _bottom_bounds(labels: list[tuple[Run, LabelMatch]], edges: Sequence[Any]) -> list[float]:
    """The first border drawn under the label's first line, across the label's left edge."""
    out = []
    for label, _ in labels:
        bottom = float("inf")
        for e in edges:
            if (e.page == label.page and not e.vertical and e.top > label.bottom - 1
                    and e.x0 <= label.x0 + 2 and e.x1 >= label.x0 + 2):
                bottom = min(bottom, e.top)
        out.append(bottom)
    return out


def _place_ticks(form: CiomsForm, labels: list[tuple[Run, LabelMatch]], ticks: list[Run]) -> None:
    checkable = [(r, m) for r, m in labels if m.key in SERIOUSNESS_KEYS]
    for tick in ticks:
        best = None
        for label, m in checkable:
            if label.page != tick.page:
                continue
            height = max(label.bottom - label.top, 6.0)
            if abs(_center(label) - _center(tick)) > max(6.0, height):
                continue
            if tick.x1 <= label.x0 + 2:
                gap = label.x0 - tick.x1
            elif tick.x0 >= label.x1 - 2:
                gap = tick.x0 - label.x1 + 10  # a tick after the label is less usual
            else:
                continue
            if gap > 45:
                continue
            if best is None or gap < best[0]:
                best = (gap, m.key)
        if best is not None:
            form.ticks.add(best[1])


def _join_runs(runs: list[Run]) -> str:
    ordered = sorted(runs, key=lambda r: (r.page, round(r.top), r.x0))
    lines: list[list[Run]] = []
    for run in ordered:
        if lines and lines[-1][0].page == run.page and abs(lines[-1][0].top - run.top) <= 2.5:
            lines[-1].append(run)
        else:
            lines.append([run])
    return "\n".join(" ".join(r.text.strip() for r in line) for line in lines).strip()


def read_lines(blocks: Sequence[tuple[str, int]]) -> CiomsForm:
    """Boxes from text in reading order (DOCX cells, or PDF text): a label opens a box."""
    form = CiomsForm(mode="text")
    current: str | None = None
    for block, page in blocks:
        for line in block.splitlines():
            if not line.strip():
                continue
            m = match_label(line)
            if m is not None:
                form.labels_found.add(m.key)
                current = m.key
                form.box_pages.setdefault(m.key, page)
                if m.key in SERIOUSNESS_KEYS:
                    first = m.rest.split()[0] if m.rest.split() else ""
                    if m.tick or _is_tick(first) or label_form(first) in _ANSWER_YES:
                        form.ticks.add(m.key)
                    current = None
                    continue
                if m.rest and m.key not in ("section", "title", "check_all") and not is_residue(m.rest):
                    _append(form, m.key, m.rest)
                continue
            if current is None or current in ("section", "title", "check_all") or is_residue(line):
                continue
            _append(form, current, line.strip())
    form.pages = sorted(set(form.box_pages.values()))
    return form


def _append(form: CiomsForm, key: str, text: str) -> None:
    form.boxes[key] = f"{form.boxes[key]}\n{text}" if key in form.boxes else text


def read_named_fields(names_values: Iterable[tuple[str, str | None, bool]]) -> tuple[CiomsForm, list[int]]:
    """Boxes from form fields whose names say what they are; returns the form and the unused indexes.

    ``names_values`` holds (field name, text value, is_ticked_check_box) per widget.
    """
    form = CiomsForm(mode="fields")
    unused: list[int] = []
    for i, (name, value, ticked) in enumerate(names_values):
        key = _key_of_field_name(name)
        if key is None:
            unused.append(i)
            continue
        form.labels_found.add(key)
        if key in SERIOUSNESS_KEYS:
            if ticked:
                form.ticks.add(key)
            continue
        if value and key in TEXT_KEYS:
            _append(form, key, value)
    return form, unused


def _key_of_field_name(name: str) -> str | None:
    # "txtPatientInitials", "14_suspect_drugs", "form1[0].#subform[0].PATIENT_DIED[0]" → words.
    last = re.sub(r"\[\d+\]", "", name).split(".")[-1] or name
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", last).replace("_", " ").replace("-", " ")
    folded = label_form(spaced)
    folded = re.sub(r"^(?:TXT|TEXT|CHK|CB|CHECK\s*BOX|FIELD|FLD)\s*", "", folded)
    folded = re.sub(r"\s+\d+$", "", folded)  # "SUSPECT DRUG 2" → same box, next line
    m = match_label(folded)
    if m is not None and m.key not in ("section", "title", "check_all"):
        return m.key
    aliases = {"DIED": "death", "DEATH": "death", "INITIALS": "initials", "NARRATIVE": "describe",
               "DESCRIPTION": "describe", "REACTION": "describe", "DRUG": "suspect", "DRUGS": "suspect",
               "HOSPITALISED": "hosp", "HOSPITALIZED": "hosp", "LIFE THREAT": "life", "DOB": "birth",
               "MFR CONTROL": "control_no", "CONCOMITANT": "concomitant", "HISTORY": "history"}
    return aliases.get(folded)


def merge(first: CiomsForm, second: CiomsForm) -> CiomsForm:
    """``first`` completed with what only ``second`` found (boxes, ticks, labels)."""
    for key, value in second.boxes.items():
        first.boxes.setdefault(key, value)
        if key in second.box_pages:
            first.box_pages.setdefault(key, second.box_pages[key])
    first.ticks |= second.ticks
    first.labels_found |= second.labels_found
    first.pages = sorted(set(first.pages) | set(second.pages))
    return first


def continued(text: str) -> bool:
    return bool(_CONTINUED.search(label_form(text)))


# --------------------------------------------------------------------------- values

_MONTHS = {
    "JAN": 1, "JANV": 1, "JANVIER": 1, "JANUARY": 1, "FEB": 2, "FEV": 2, "FEVR": 2, "FEVRIER": 2, "FEBRUARY": 2,
    "MAR": 3, "MARS": 3, "MARCH": 3, "APR": 4, "AVR": 4, "AVRIL": 4, "APRIL": 4, "MAY": 5, "MAI": 5, "JUN": 6,
    "JUIN": 6, "JUNE": 6, "JUL": 7, "JUIL": 7, "JUILLET": 7, "JULY": 7, "AUG": 8, "AOU": 8, "AOUT": 8, "AUGUST": 8,
    "SEP": 9, "SEPT": 9, "SEPTEMBRE": 9, "SEPTEMBER": 9, "OCT": 10, "OCTOBRE": 10, "OCTOBER": 10, "NOV": 11,
    "NOVEMBRE": 11, "NOVEMBER": 11, "DEC": 12, "DECEMBRE": 12, "DECEMBER": 12,
}


def parse_date(text: str) -> date | None:
    """A CIOMS date (day first): 12-MAR-2026, 12 mars 2026, 12/03/2026, 12 03 2026, 2026-03-12."""
    folded = label_form(text)
    m = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", folded)
    if m:
        return _mkdate(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.search(r"\b(\d{1,2})\s*[-/. ]\s*([A-Z]{3,9})\.?\s*[-/. ]\s*(\d{4})\b", folded)
    if m and m.group(2) in _MONTHS:
        return _mkdate(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
    m = re.search(r"\b(\d{1,2})\s*[-/. ]\s*(\d{1,2})\s*[-/. ]\s*(\d{4})\b", folded)
    if m:
        return _mkdate(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = re.search(r"\b(\d{4})(\d{2})(\d{2})\b", folded)
    if m:
        return _mkdate(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def _mkdate(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


_AGE_UNITS = [
    (r"(?:MONTHS?|MOIS|MO\b)", 1 / 12), (r"(?:WEEKS?|SEMAINES?|WK)", 1 / 52.18),
    (r"(?:DAYS?|JOURS?|J\b|D\b)", 1 / 365.25), (r"(?:HOURS?|HEURES?|H\b)", 1 / 8766),
    (r"(?:YEARS?|ANS?|YRS?|Y\b|A\b)", 1.0), (r"(?:DECADES?|DECENNIES?)", 10.0),
]


def parse_age(text: str) -> float | None:
    """Age in years from "67", "67 Years", "4 mois", "10 days" (None for UNK or nothing)."""
    folded = label_form(text)
    m = re.search(r"(\d+(?:[.,]\d+)?)\s*([A-Z]*)", folded)
    if m is None:
        return None
    value = float(m.group(1).replace(",", "."))
    unit = m.group(2)
    factor = 1.0
    for pattern, f in _AGE_UNITS:
        if unit and re.match(pattern, unit):
            factor = f
            break
    years = value * factor
    if not 0 <= years < 130:
        return None
    return round(years, 2) if factor != 1.0 else value


def parse_sex(text: str) -> str | None:
    folded = label_form(text)
    for token in re.findall(r"[A-Z]+", folded):
        if token in ("F", "FEMALE", "FEMININ", "FEMME", "WOMAN", "W", "FILLE", "GIRL"):
            return "F"
        if token in ("M", "MALE", "MASCULIN", "HOMME", "MAN", "GARCON", "BOY", "H"):
            return "M"
    return None


_COUNTRIES = {
    "FRANCE": "FR", "UNITED STATES": "US", "USA": "US", "ETATS-UNIS": "US", "ETATS UNIS": "US", "GERMANY": "DE",
    "ALLEMAGNE": "DE", "UNITED KINGDOM": "GB", "ROYAUME-UNI": "GB", "ROYAUME UNI": "GB", "UK": "GB", "ITALY": "IT",
    "ITALIE": "IT", "SPAIN": "ES", "ESPAGNE": "ES", "BELGIUM": "BE", "BELGIQUE": "BE", "SWITZERLAND": "CH",
    "SUISSE": "CH", "CANADA": "CA", "JAPAN": "JP", "JAPON": "JP", "NETHERLANDS": "NL", "PAYS-BAS": "NL",
    "LUXEMBOURG": "LU", "PORTUGAL": "PT", "AUSTRIA": "AT", "AUTRICHE": "AT",
}


def parse_country(text: str) -> str | None:
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not first:
        return None
    folded = label_form(first).strip(" .")
    if folded in _COUNTRIES:
        return _COUNTRIES[folded]
    if re.fullmatch(r"[A-Z]{2}", folded):
        return folded
    return first


_NUMBERED = re.compile(r"^\s*(?:#\s*\d+|\d+\s*[).:-]|\(\d+\)|[-•*])\s*")
_LOT = re.compile(r"[{(\[]?\s*\b(?:LOT|BATCH|LOT\s*N[O°]?|BATCH\s*N[O°]?)\b\s*[#:n°.]*\s*"
                  r"([A-Za-z0-9][\w/-]*)\s*[})\]]?", re.IGNORECASE)


def split_items(text: str) -> list[str]:
    """Lines of a box as items: numbered lines start items, unnumbered ones continue them."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    if not any(_NUMBERED.match(line) for line in lines):
        return lines
    items: list[str] = []
    for line in lines:
        if _NUMBERED.match(line) or not items:
            items.append(_NUMBERED.sub("", line, count=1).strip())
        else:
            items[-1] = f"{items[-1]} {line}"
    return [i for i in items if i]


def parse_drug(item: str) -> dict[str, Any]:
    """``"Augmentin (amoxicilline, acide clavulanique) lot AB12"`` → name, substances, lot."""
    lot = None
    m = _LOT.search(item)
    if m:
        lot = m.group(1)
        item = (item[:m.start()] + item[m.end():]).strip(" ,;-")
    substances: list[str] = []
    m = re.search(r"\(([^()]{2,200})\)", item)
    if m:
        inner = m.group(1)
        if not re.search(r"\d", inner) or re.search(r"[A-Za-z]{4,}", inner):
            substances = [s.strip() for s in re.split(r"[,;/+]|\bet\b|\band\b", inner) if s.strip()]
            item = (item[:m.start()] + item[m.end():]).strip()
    name = re.sub(r"\s+", " ", item).strip(" ,;-") or (substances[0] if substances else "")
    return {"name": name or None, "substances": substances or None, "lot": lot}


def aligned(values: str, n: int) -> list[str | None]:
    """Box lines spread over ``n`` drugs: by their numbering, else one line per drug, else all on the first."""
    items = split_items(values)
    if n <= 0:
        return []
    if len(items) == n:
        return list(items)
    if not items:
        return [None] * n
    return [" ; ".join(items)] + [None] * (n - 1)
