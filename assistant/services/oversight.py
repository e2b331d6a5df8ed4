"""Human-oversight report: how often evaluators change the proposals, how long they take, and whether the
dossiers and scores drift month after month (framework-free).

Loading (:func:`load_decisions`, :func:`load_assessments`) is apart from the pure computation
(:func:`compute_report`) and rendering (:func:`render_markdown`, :func:`plot`). Drift is measured with the
population stability index (PSI) of each month against the first month of the period, for the risk
score, the level mix and the text length of the dossiers (inputs): below 0.10 stable, 0.10–0.25 moderate,
above 0.25 large.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from assistant.db.models import AssessmentRow, DecisionRow, utcnow
from assistant.services.audit import day_start
from assistant.services.dossiers import database_errors
from corpora.errors import InputError
from corpora.model import DOSSIER_TYPES
from corpora.normalise import fr_decimal

SCORE_BINS = tuple(i / 10 for i in range(11))
LENGTH_BINS = (0, 200, 500, 1000, 2000, 5000, math.inf)
PSI_MODERATE, PSI_LARGE = 0.10, 0.25


@dataclass(frozen=True)
class DecisionFact:
    dossier_type: str
    proposed_level: str
    risk_level: str
    level_changed: bool
    mode_changed: bool
    proposed_at: datetime
    decided_at: datetime


@dataclass(frozen=True)
class AssessmentFact:
    dossier_type: str
    risk_level: str
    risk_score: float | None
    needs_review: bool
    created_at: datetime
    text_length: int | None
    language: str | None


class OverrideStat(BaseModel):
    dossier_type: str
    proposed_level: str
    decisions: int
    overrides: int
    rate: float
    raised: int
    lowered: int
    mode_only: int


class DecisionDelay(BaseModel):
    dossier_type: str
    decisions: int
    median_hours: float
    p90_hours: float


class MonthStat(BaseModel):
    month: str
    dossier_type: str
    assessments: int
    mean_score: float | None = None
    median_score: float | None = None
    q1_score: float | None = None
    q3_score: float | None = None
    serious_share: float = 0.0
    review_share: float = 0.0
    median_length: float | None = None
    french_share: float | None = None
    decisions: int = 0
    overrides: int = 0
    psi_score: float | None = None
    psi_level: float | None = None
    psi_length: float | None = None


class OversightReport(BaseModel):
    generated_at: datetime
    since: date | None = None
    dossier_type: str | None = None
    decisions: int
    overrides: int
    override_rate: float | None = None
    by_level: list[OverrideStat]
    delays: list[DecisionDelay]
    months: list[MonthStat]
    alerts: list[str]


# --------------------------------------------------------------------------- loading

def _check_filters(dossier_type: str | None) -> None:
    if dossier_type is not None and dossier_type not in DOSSIER_TYPES:
        raise InputError(f"Type de dossier inconnu : {dossier_type} (attendu : {', '.join(DOSSIER_TYPES)}).")


def load_decisions(session: Session, *, since: date | None = None,
                   dossier_type: str | None = None) -> list[DecisionFact]:
    _check_filters(dossier_type)
    t = DecisionRow.__table__  # type: ignore[attr-defined]
    stmt: Any = sa.select(t.c.dossier_type, t.c.proposed_level, t.c.risk_level, t.c.level_changed, t.c.mode_changed,
                          t.c.proposed_at, t.c.decided_at).order_by(t.c.id)
    if since is not None:
        stmt = stmt.where(t.c.decided_at >= day_start(since))
    if dossier_type is not None:
        stmt = stmt.where(t.c.dossier_type == dossier_type)
    with database_errors(session):
        return [DecisionFact(*row) for row in session.execute(stmt)]


def load_assessments(session: Session, *, since: date | None = None,
                     dossier_type: str | None = None) -> list[AssessmentFact]:
    _check_filters(dossier_type)
    t = AssessmentRow.__table__  # type: ignore[attr-defined]
    stmt: Any = sa.select(t.c.dossier_type, t.c.risk_level, t.c.risk_score, t.c.needs_review, t.c.created_at,
                          t.c.dossier).order_by(t.c.id)
    if since is not None:
        stmt = stmt.where(t.c.created_at >= day_start(since))
    if dossier_type is not None:
        stmt = stmt.where(t.c.dossier_type == dossier_type)
    facts = []
    with database_errors(session):
        for kind, level, score, review, created, dossier in session.execute(stmt.execution_options(yield_per=2000)):
            text = (dossier or {}).get("text")
            facts.append(AssessmentFact(kind, level, score, bool(review), created,
                                        len(text) if isinstance(text, str) else None, (dossier or {}).get("language")))
    return facts


# --------------------------------------------------------------------------- computing (pure)

def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile of a non-empty sequence."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _histogram(values: Iterable[float], edges: Sequence[float]) -> list[int]:
    counts = [0] * (len(edges) - 1)
    for v in values:
        for i in range(len(counts)):
            if edges[i] <= v < edges[i + 1] or (i == len(counts) - 1 and v == edges[-1]):
                counts[i] += 1
                break
    return counts


def psi(reference: Sequence[int], current: Sequence[int], epsilon: float = 1e-4) -> float | None:
    """Population stability index between two histograms over the same bins (None when one is empty)."""
    ref_total, cur_total = sum(reference), sum(current)
    if not ref_total or not cur_total:
        return None
    value = 0.0
    for r, c in zip(reference, current, strict=True):
        p, q = max(r / ref_total, epsilon), max(c / cur_total, epsilon)
        value += (q - p) * math.log(q / p)
    return round(value, 4)


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _month_stats(dossier_type: str, facts: list[AssessmentFact], decisions: list[DecisionFact]) -> list[MonthStat]:
    from classifier.levels import is_serious
    from corpora.model import RISK_LEVELS

    by_month: dict[str, list[AssessmentFact]] = defaultdict(list)
    for f in facts:
        by_month[_month(f.created_at)].append(f)
    decided: dict[str, list[DecisionFact]] = defaultdict(list)
    for d in decisions:
        decided[_month(d.decided_at)].append(d)
    months = sorted(set(by_month) | set(decided))
    histograms: dict[str, tuple[list[int], list[int], list[int]]] = {}
    stats = []
    for month in months:
        rows = by_month.get(month, [])
        scores = [f.risk_score for f in rows if f.risk_score is not None]
        lengths = [f.text_length for f in rows if f.text_length is not None]
        languages = [f.language for f in rows if f.language]
        levels = Counter(f.risk_level for f in rows)
        histograms[month] = (_histogram(scores, SCORE_BINS), [levels.get(lv, 0) for lv in RISK_LEVELS],
                             _histogram([float(x) for x in lengths], LENGTH_BINS))
        month_decisions = decided.get(month, [])
        stats.append(MonthStat(
            month=month, dossier_type=dossier_type, assessments=len(rows),
            mean_score=round(sum(scores) / len(scores), 4) if scores else None,
            median_score=round(quantile(scores, 0.5), 4) if scores else None,
            q1_score=round(quantile(scores, 0.25), 4) if scores else None,
            q3_score=round(quantile(scores, 0.75), 4) if scores else None,
            serious_share=round(sum(n for lv, n in levels.items() if is_serious(lv)) / len(rows), 4) if rows else 0.0,
            review_share=round(sum(f.needs_review for f in rows) / len(rows), 4) if rows else 0.0,
            median_length=quantile([float(x) for x in lengths], 0.5) if lengths else None,
            french_share=round(languages.count("fr") / len(languages), 4) if languages else None,
            decisions=len(month_decisions),
            overrides=sum(d.level_changed or d.mode_changed for d in month_decisions)))
    reference = next((m for m in months if by_month.get(m)), None)
    if reference is not None:
        ref = histograms[reference]
        for stat in stats:
            if stat.month == reference or not stat.assessments:
                continue
            cur = histograms[stat.month]
            stat.psi_score, stat.psi_level, stat.psi_length = psi(ref[0], cur[0]), psi(ref[1], cur[1]), psi(
                ref[2], cur[2])
    return stats


def compute_report(decisions: Sequence[DecisionFact], assessments: Sequence[AssessmentFact], *,
                   since: date | None = None, dossier_type: str | None = None,
                   now: datetime | None = None) -> OversightReport:
    """Override rates by type and proposed level, time to decision, monthly drift (pure)."""
    from classifier.levels import level_rank
    from corpora.model import RISK_LEVELS

    groups: dict[tuple[str, str], list[DecisionFact]] = defaultdict(list)
    for d in decisions:
        groups[(d.dossier_type, d.proposed_level)].append(d)
    by_level = []
    for kind in DOSSIER_TYPES:
        for level in RISK_LEVELS:
            rows = groups.get((kind, level))
            if not rows:
                continue
            overrides = [d for d in rows if d.level_changed or d.mode_changed]
            by_level.append(OverrideStat(
                dossier_type=kind, proposed_level=level, decisions=len(rows), overrides=len(overrides),
                rate=round(len(overrides) / len(rows), 4),
                raised=sum(level_rank(d.risk_level) > level_rank(d.proposed_level) for d in rows),
                lowered=sum(level_rank(d.risk_level) < level_rank(d.proposed_level) for d in rows),
                mode_only=sum(d.mode_changed and not d.level_changed for d in rows)))
    delays = []
    for kind in DOSSIER_TYPES:
        hours = [max(0.0, (d.decided_at - d.proposed_at).total_seconds() / 3600) for d in decisions
                 if d.dossier_type == kind]
        if hours:
            delays.append(DecisionDelay(dossier_type=kind, decisions=len(hours),
                                        median_hours=round(quantile(hours, 0.5), 2),
                                        p90_hours=round(quantile(hours, 0.9), 2)))
    months: list[MonthStat] = []
    for kind in DOSSIER_TYPES:
        facts = [f for f in assessments if f.dossier_type == kind]
        kind_decisions = [d for d in decisions if d.dossier_type == kind]
        if facts or kind_decisions:
            months.extend(_month_stats(kind, facts, kind_decisions))
    alerts = []
    for m in months:
        for label, value in (("des scores", m.psi_score), ("des niveaux", m.psi_level),
                             ("de la longueur des textes", m.psi_length)):
            if value is not None and value > PSI_LARGE:
                alerts.append(f"{m.dossier_type.upper()} {m.month} : dérive importante {label} "
                              f"(IPS {fr_decimal(value, 2)}).")
    total_overrides = sum(s.overrides for s in by_level)
    return OversightReport(
        generated_at=now or utcnow(), since=since, dossier_type=dossier_type, decisions=len(decisions),
        overrides=total_overrides, override_rate=round(total_overrides / len(decisions), 4) if decisions else None,
        by_level=by_level, delays=delays, months=months, alerts=alerts)


# --------------------------------------------------------------------------- rendering

def _pct(value: float | None) -> str:
    return "—" if value is None else f"{fr_decimal(100 * value)} %"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else fr_decimal(value, digits)


def _duration(hours: float) -> str:
    return f"{_num(hours, 1)} h" if hours < 48 else f"{_num(hours / 24, 1)} j"


def render_markdown(report: OversightReport, plot_file: str | None = None) -> str:
    """The report in French Markdown (tables; the plot referenced when one was drawn)."""
    scope = f"depuis le {report.since:%Y-%m-%d}" if report.since else "toute la période enregistrée"
    types = report.dossier_type.upper() if report.dossier_type else "PV, AMM et AEC"
    lines = [
        "# Rapport de supervision humaine", "",
        f"Généré le {report.generated_at:%Y-%m-%d à %H:%M} UTC · période : {scope} · dossiers : {types}.", "",
        "## Taux de modification des propositions", "",
    ]
    if not report.decisions:
        lines += ["Aucune décision enregistrée sur la période.", ""]
    else:
        lines += [f"{report.decisions} décision(s), dont {report.overrides} modifiant la proposition "
                  f"({_pct(report.override_rate)}).", "",
                  "| type | niveau proposé | décisions | modifiées | taux | niveau relevé | niveau abaissé "
                  "| mode seul |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {s.dossier_type.upper()} | {s.proposed_level} | {s.decisions} | {s.overrides} | {_pct(s.rate)} "
                  f"| {s.raised} | {s.lowered} | {s.mode_only} |" for s in report.by_level]
        lines += ["", "## Délai entre la proposition et la décision", "",
                  "| type | décisions | médiane | 90e centile |", "|---|---:|---:|---:|"]
        lines += [f"| {d.dossier_type.upper()} | {d.decisions} | {_duration(d.median_hours)} | "
                  f"{_duration(d.p90_hours)} |" for d in report.delays]
        lines.append("")
    lines += ["## Dérive mensuelle des entrées et des scores", "",
              "Chaque mois est comparé au premier mois de la période par l'indice de stabilité de la population "
              "(IPS) : moins de 0,10 stable, de 0,10 à 0,25 dérive modérée, au-delà de 0,25 dérive importante.", ""]
    if not report.months:
        lines += ["Aucune évaluation enregistrée sur la période.", ""]
    else:
        lines += ["| type | mois | évaluations | score moyen | médiane (Q1–Q3) | élevé ou critique | à revoir "
                  "| longueur médiane | en français | décisions (modifiées) | IPS score | IPS niveaux | IPS longueur |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for m in report.months:
            spread = (f"{_num(m.median_score)} ({_num(m.q1_score)}–{_num(m.q3_score)})"
                      if m.median_score is not None else "—")
            lines.append(
                f"| {m.dossier_type.upper()} | {m.month} | {m.assessments} | {_num(m.mean_score)} | {spread} | "
                f"{_pct(m.serious_share)} | {_pct(m.review_share)} | {_num(m.median_length, 0)} | "
                f"{_pct(m.french_share)} | {m.decisions} ({m.overrides}) | {_num(m.psi_score)} | "
                f"{_num(m.psi_level)} | {_num(m.psi_length)} |")
        lines.append("")
    lines += ["## Alertes", ""]
    lines += [f"- {a}" for a in report.alerts] or ["Aucune dérive importante détectée."]
    if plot_file:
        lines += ["", f"![Taux de modification et score moyen par mois]({plot_file})"]
    return "\n".join(lines) + "\n"


def plot(report: OversightReport, path: Path) -> bool:
    """Monthly override rate and mean score per type (PNG); False when there is nothing to draw."""
    if not report.months:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    months = sorted({m.month for m in report.months})
    for kind in DOSSIER_TYPES:
        rows = {m.month: m for m in report.months if m.dossier_type == kind}
        if not rows:
            continue
        rates = [rows[m].overrides / rows[m].decisions if m in rows and rows[m].decisions else math.nan
                 for m in months]
        scores = [rows[m].mean_score if m in rows and rows[m].mean_score is not None else math.nan for m in months]
        top.plot(months, rates, marker="o", label=kind.upper())
        bottom.plot(months, scores, marker="o", label=kind.upper())
    top.set_ylabel("taux de modification")
    top.set_ylim(0, 1)
    bottom.set_ylabel("score de risque moyen")
    bottom.set_ylim(0, 1)
    bottom.set_xlabel("mois")
    top.legend()
    top.set_title("Supervision humaine : modifications et scores par mois")
    fig.autofmt_xdate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return True


def write_report(session: Session, out_dir: Path, *, since: date | None = None,
                 dossier_type: str | None = None) -> tuple[OversightReport, Path]:
    """Compute the report and write ``oversight.md`` (and ``oversight.png``) into ``out_dir``."""
    from corpora.io import atomic_writer

    report = compute_report(load_decisions(session, since=since, dossier_type=dossier_type),
                            load_assessments(session, since=since, dossier_type=dossier_type),
                            since=since, dossier_type=dossier_type)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = plot(report, out_dir / "oversight.png")
    target = out_dir / "oversight.md"
    with atomic_writer(target) as handle:
        handle.write(render_markdown(report, "oversight.png" if drawn else None))
    return report, target
