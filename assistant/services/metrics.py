"""Oversight metrics in the Prometheus text format, computed from the database at each scrape.

Counts are read with ``GROUP BY`` queries into a fresh registry per call (no process-wide state, so every
API worker answers the same figures): decisions and overrides by type and proposed level, time to
decision, assessments and their scores, the work queue, feedback and the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from assistant.db.models import AssessmentRow, AuditEventRow, AuditHeadRow, DecisionRow, FeedbackRow
from assistant.services.dossiers import database_errors
from assistant.settings import OversightSettings

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DECISION_BUCKETS_S = (3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 86400, 7 * 86400, 15 * 86400, 30 * 86400,
                      90 * 86400)
SCORE_BUCKETS = tuple(i / 10 for i in range(1, 11))


def _grouped(session: Session, table: sa.Table, *columns: str) -> list[tuple[Any, ...]]:
    cols = [table.c[name] for name in columns]
    with database_errors(session):
        return [tuple(row) for row in session.execute(sa.select(*cols, sa.func.count()).group_by(*cols))]


def _buckets(values: list[float], bounds: tuple[float, ...]) -> list[tuple[str, float]]:
    out = [(str(float(b)), float(sum(v <= b for v in values))) for b in bounds]
    return [*out, ("+Inf", float(len(values)))]


class _Collector:
    def __init__(self, session: Session, oversight: OversightSettings) -> None:
        self.session = session
        self.oversight = oversight

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        from assistant.services.audit import current_versions
        from assistant.services.queue import pending_queue

        session = self.session
        decisions = DecisionRow.__table__  # type: ignore[attr-defined]
        info = GaugeMetricFamily("gdr_build_info", "Versions de l'application, du référentiel et de la politique",
                                 labels=["application", "referentiel", "politique"])
        versions = current_versions()
        info.add_metric([versions["application"], versions["referentiel"], versions["politique"]], 1)
        yield info

        total = CounterMetricFamily("gdr_decisions", "Décisions des évaluateurs par type, niveau proposé et issue",
                                    labels=["type", "proposed_level", "outcome"])
        rate = GaugeMetricFamily("gdr_override_ratio", "Part des décisions qui modifient la proposition",
                                 labels=["type", "proposed_level"])
        counts: dict[tuple[str, str], list[int]] = {}
        for kind, level, level_changed, mode_changed, n in _grouped(
                session, decisions, "dossier_type", "proposed_level", "level_changed", "mode_changed"):
            counts.setdefault((kind, level), [0, 0])[bool(level_changed or mode_changed)] += int(n)
        for (kind, level), (accepted, overridden) in sorted(counts.items()):
            total.add_metric([kind, level, "accepted"], accepted)
            total.add_metric([kind, level, "overridden"], overridden)
            rate.add_metric([kind, level], overridden / (accepted + overridden))
        yield total
        yield rate

        delay = HistogramMetricFamily("gdr_time_to_decision_seconds", "Délai entre la proposition et la décision",
                                      labels=["type"])
        with database_errors(session):
            rows = session.execute(sa.select(decisions.c.dossier_type, decisions.c.proposed_at,
                                             decisions.c.decided_at)).all()
        by_type: dict[str, list[float]] = {}
        for kind, proposed, decided in rows:
            proposed = proposed if proposed.tzinfo else proposed.replace(tzinfo=decided.tzinfo)
            by_type.setdefault(kind, []).append(max(0.0, (decided - proposed).total_seconds()))
        for kind, values in sorted(by_type.items()):
            delay.add_metric([kind], _buckets(values, DECISION_BUCKETS_S), sum(values))
        yield delay

        assessments = AssessmentRow.__table__  # type: ignore[attr-defined]
        assessed = CounterMetricFamily("gdr_assessments", "Évaluations enregistrées par type et niveau",
                                       labels=["type", "risk_level"])
        for kind, level, n in sorted(_grouped(session, assessments, "dossier_type", "risk_level")):
            assessed.add_metric([kind, level], n)
        yield assessed
        scores = HistogramMetricFamily("gdr_risk_score", "Distribution des scores de risque", labels=["type"])
        with database_errors(session):
            score_rows = session.execute(sa.select(assessments.c.dossier_type, assessments.c.risk_score)
                                         .where(assessments.c.risk_score.is_not(None))).all()
        per_type: dict[str, list[float]] = {}
        for kind, score in score_rows:
            per_type.setdefault(kind, []).append(float(score))
        for kind, values in sorted(per_type.items()):
            scores.add_metric([kind], _buckets(values, SCORE_BUCKETS), sum(values))
        yield scores

        queue = pending_queue(session, oversight=self.oversight)
        pending = GaugeMetricFamily("gdr_queue_pending", "Dossiers en attente de décision",
                                    labels=["type", "risk_level"])
        overdue = GaugeMetricFamily("gdr_queue_overdue", "Dossiers en attente dont l'échéance est dépassée",
                                    labels=["type"])
        pending_counts: dict[tuple[str, str], int] = {}
        overdue_counts: dict[str, int] = {}
        for item in queue.items:
            pending_counts[(item.dossier_type, item.risk_level)] = pending_counts.get(
                (item.dossier_type, item.risk_level), 0) + 1
            overdue_counts[item.dossier_type] = overdue_counts.get(item.dossier_type, 0) + item.overdue
        for (kind, level), n in sorted(pending_counts.items()):
            pending.add_metric([kind, level], n)
        for kind, n in sorted(overdue_counts.items()):
            overdue.add_metric([kind], n)
        yield pending
        yield overdue

        feedback = CounterMetricFamily("gdr_feedback", "Retours des utilisateurs par type", labels=["kind"])
        for kind, n in sorted(_grouped(session, FeedbackRow.__table__, "kind")):  # type: ignore[attr-defined]
            feedback.add_metric([kind], n)
        yield feedback

        events = CounterMetricFamily("gdr_audit_events", "Événements du journal d'audit (conservés)",
                                     labels=["kind"])
        for kind, n in sorted(_grouped(session, AuditEventRow.__table__, "kind")):  # type: ignore[attr-defined]
            events.add_metric([kind], n)
        yield events
        head = AuditHeadRow.__table__  # type: ignore[attr-defined]
        with database_errors(session):
            length = session.execute(sa.select(head.c.seq).where(head.c.id == 1)).scalar()
        chain = GaugeMetricFamily("gdr_audit_chain_length", "Position du dernier événement de la chaîne d'audit")
        chain.add_metric([], float(length or 0))
        yield chain


def exposition(session: Session, oversight: OversightSettings | None = None) -> bytes:
    """The metrics in the Prometheus text exposition format."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(session, oversight or OversightSettings()))  # type: ignore[arg-type]
    return bytes(generate_latest(registry))
