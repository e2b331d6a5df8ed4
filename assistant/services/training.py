"""Trainer mode: past cases shown without their outcome, the trainee's answer scored (framework-free).

A case is a dossier of the database (real corpora or the bundled sample, whatever ``gdr ingest``
loaded) with a recorded outcome that gives a level: the sample's recorded ``risk_level``, else the
ICH E2A ladder of the PV outcome flags (:func:`classifier.training.sample_level`). Its
**difficulty** compares that recorded level with the floor of the référentiel criteria the text
fires, and looks for traps: ``facile`` when they agree and the text holds no negated, hypothetical,
past or family mention of a finding (« pas de décès », « risque de malformation »), ``difficile``
otherwise (the criteria alone do not give the answer, or the text can mislead a quick reader).

The trainee proposes a level, a processing mode and a reason; :func:`score_answer` scores it on
100 (level 60: exact, 30 one step away; mode 20: the policy's mode for the recorded level;
criteria 20: share of the fired criteria the reason names) and lists the criteria it missed.
:func:`summarise` gives the session summary. Nothing here is stored and no outcome is ever shown
before the answer: the caller reveals it.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from assistant.db.models import DossierRow, OutcomeRow
from assistant.services.dossiers import database_errors
from corpora.errors import InputError, NotFound
from corpora.model import DOSSIER_TYPES, RISK_LEVELS, Dossier

DIFFICULTIES = ("facile", "difficile")
MAX_CANDIDATES = 60
LEVEL_POINTS = 60
ADJACENT_POINTS = 30
MODE_POINTS = 20
CRITERIA_POINTS = 20
_WORD = re.compile(r"[a-z0-9]{5,}")
_COMMON = {"patient", "dossier", "niveau", "critere", "risque", "produit", "traitement", "cliniques", "clinique"}


@dataclass(frozen=True)
class CriterionBrief:
    """A fired criterion of the référentiel, as the trainee will see it once revealed."""

    code: str
    label: str
    floor: str | None = None


@dataclass(frozen=True)
class TrainingCase:
    """A past dossier to assess; ``recorded_level`` and ``outcome`` stay hidden until the answer."""

    dossier: Dossier
    outcome: dict[str, Any]
    recorded_level: str
    difficulty: str
    criteria: tuple[CriterionBrief, ...] = ()
    floor_level: str = "faible"
    traps: tuple[str, ...] = ()  # extraction codes of the negated / hypothetical / past / family mentions


@dataclass(frozen=True)
class TrainingScore:
    """The score of one answer (out of 100) and what the trainee missed."""

    dossier_id: str
    dossier_type: str
    difficulty: str
    proposed_level: str
    recorded_level: str
    proposed_mode: str | None
    expected_mode: str | None
    level_points: int
    mode_points: int
    criteria_points: int
    missed: tuple[CriterionBrief, ...] = ()
    named: tuple[CriterionBrief, ...] = ()

    @property
    def total(self) -> int:
        return self.level_points + self.mode_points + self.criteria_points

    @property
    def level_agrees(self) -> bool:
        return self.proposed_level == self.recorded_level


@dataclass
class TrainingSummary:
    """A session: cases, agreement with the recorded outcome, mean score, the criteria most often missed."""

    cases: int
    agreements: int
    mean_score: float
    by_difficulty: dict[str, tuple[int, int]] = field(default_factory=dict)  # difficulty: (cases, agreements)
    most_missed: list[tuple[CriterionBrief, int]] = field(default_factory=list)

    @property
    def agreement_rate(self) -> float:
        return self.agreements / self.cases if self.cases else 0.0


def recorded_level(outcome: dict[str, Any] | None) -> str | None:
    """The level a recorded outcome gives (sample ``risk_level``, else the PV ladder), None when it gives none."""
    from classifier.training import sample_level

    rank = sample_level(outcome)
    return None if rank is None else RISK_LEVELS[rank]


def fired_criteria(dossier: Dossier) -> tuple[tuple[CriterionBrief, ...], str, tuple[str, ...]]:
    """The référentiel criteria the dossier fires (no model, no context), their highest floor, and the traps."""
    from classifier.assess import analyse
    from classifier.levels import floor_level

    analysis = analyse(dossier)
    briefs = tuple(CriterionBrief(f.code, f.label or f.code, f.floor) for f in analysis.fired)
    traps = tuple(dict.fromkeys(f.code for f in analysis.findings if not f.affirmed))
    return briefs, floor_level(analysis.fired), traps


def make_case(dossier: Dossier, outcome: dict[str, Any]) -> TrainingCase | None:
    """The case of a dossier and its recorded outcome, None when the outcome gives no level."""
    level = recorded_level(outcome)
    if level is None:
        return None
    criteria, floor, traps = fired_criteria(dossier)
    difficulty = "facile" if floor == level and not traps else "difficile"
    return TrainingCase(dossier, outcome, level, difficulty, criteria, floor, traps)


def check_request(dossier_type: str, difficulty: str | None) -> tuple[str, str | None]:
    """Canonical (type, difficulty) or a French InputError."""
    kind = (dossier_type or "").strip().lower()
    if kind not in DOSSIER_TYPES:
        raise InputError(f"Type de dossier inconnu : « {dossier_type} » (attendu : {', '.join(DOSSIER_TYPES)}).")
    level = (difficulty or "").strip().lower() or None
    if level in ("toutes", "tous", "indifférent", "indifferent"):
        level = None
    if level is not None and level not in DIFFICULTIES:
        raise InputError(f"Difficulté inconnue : « {difficulty} » (attendu : {', '.join(DIFFICULTIES)}).")
    return kind, level


def draw_case(session: Session, *, dossier_type: str = "pv", difficulty: str | None = None,
              rng: random.Random | None = None, exclude: Iterable[str] = (),
              max_candidates: int = MAX_CANDIDATES) -> TrainingCase:
    """A random past case of ``dossier_type`` (and ``difficulty``) with a recorded level, not in ``exclude``.

    Candidates are read one by one at random offsets among the dossiers of that type that have an
    outcome (at most ``max_candidates``); 404 with a French message when none fits.
    """
    from assistant.db.repository import row_to_dossier

    kind, level = check_request(dossier_type, difficulty)
    rng = rng or random.Random()
    skip = set(exclude)
    dossiers = DossierRow.__table__  # type: ignore[attr-defined]
    outcomes = OutcomeRow.__table__  # type: ignore[attr-defined]
    base: Any = (sa.select(DossierRow, OutcomeRow).join(outcomes, outcomes.c.dossier_id == dossiers.c.id)
                 .where(dossiers.c.type == kind))
    with database_errors(session):
        total = int(session.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one())
        offsets = rng.sample(range(total), min(total, max_candidates))
        for offset in offsets:
            row = session.execute(base.order_by(dossiers.c.id).offset(offset).limit(1)).first()
            if row is None or row[0].id in skip:
                continue
            case = make_case(row_to_dossier(row[0]), dict(row[1].data or {}))
            if case is not None and (level is None or case.difficulty == level):
                return case
    wanted = f" de difficulté « {level} »" if level else ""
    raise NotFound(f"Aucun cas passé {kind.upper()}{wanted} avec une issue enregistrée dans la base "
                   f"({total} dossier(s) de ce type avec une issue) : chargez des dossiers avec « gdr ingest ».",
                   code="no_training_case")


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in plain if not unicodedata.combining(c))


def names_criterion(reason: str, criterion: CriterionBrief) -> bool:
    """Whether the trainee's reason names the criterion: its code, or a significant word of its label."""
    folded = _fold(reason)
    if _fold(criterion.code) in folded:
        return True
    words = {w for w in _WORD.findall(_fold(criterion.label)) if w not in _COMMON}
    said = set(_WORD.findall(folded))
    return any(w in said or any(s.startswith(w[:6]) for s in said) for w in words)


def score_answer(case: TrainingCase, *, level: str, mode: str | None, reason: str) -> TrainingScore:
    """Score the trainee's answer against the recorded outcome (see module docstring)."""
    from assistant.services.decisions import check_level, policy_modes
    from classifier.levels import level_rank

    proposed = check_level(level)
    if not (reason or "").strip():
        raise InputError("Motif obligatoire : expliquez votre proposition (critères, gravité, contexte).",
                         code="reason_required")
    gap = abs(level_rank(proposed) - level_rank(case.recorded_level))
    level_points = LEVEL_POINTS if gap == 0 else ADJACENT_POINTS if gap == 1 else 0
    expected_mode = policy_modes(case.dossier.type).get(case.recorded_level)
    mode_code = (mode or "").strip().upper() or None
    mode_points = MODE_POINTS if expected_mode is not None and mode_code == expected_mode else 0
    named = tuple(c for c in case.criteria if names_criterion(reason, c))
    missed = tuple(c for c in case.criteria if c not in named)
    share = len(named) / len(case.criteria) if case.criteria else 1.0
    return TrainingScore(case.dossier.id, case.dossier.type, case.difficulty, proposed, case.recorded_level,
                         mode_code, expected_mode, level_points, mode_points, round(CRITERIA_POINTS * share),
                         missed, named)


def summarise(scores: Sequence[TrainingScore], top: int = 5) -> TrainingSummary:
    """The session summary of the scored answers."""
    missed: Counter[CriterionBrief] = Counter(c for s in scores for c in s.missed)
    by_difficulty: dict[str, tuple[int, int]] = {}
    for s in scores:
        n, agree = by_difficulty.get(s.difficulty, (0, 0))
        by_difficulty[s.difficulty] = (n + 1, agree + int(s.level_agrees))
    mean = sum(s.total for s in scores) / len(scores) if scores else 0.0
    return TrainingSummary(cases=len(scores), agreements=sum(s.level_agrees for s in scores), mean_score=mean,
                           by_difficulty=by_difficulty, most_missed=missed.most_common(top))
