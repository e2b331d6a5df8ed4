"""Monitoring: the oversight report (override rates, time to decision, monthly drift), /metrics in the
Prometheus text format, and the audit routes for admins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, Clients, api_clients
from oversight_fixtures import session_on, store_proposal
from typer.testing import CliRunner

from assistant.cli.main import build_app
from assistant.db.engine import upgrade
from assistant.db.models import DecisionRow
from assistant.services import audit
from assistant.services.decisions import DecisionIn, decide
from assistant.services.oversight import AssessmentFact, DecisionFact, compute_report, psi, render_markdown
from assistant.settings import Settings, get_settings

JAN, FEB = datetime(2026, 1, 15, 9, tzinfo=UTC), datetime(2026, 2, 15, 9, tzinfo=UTC)


def _decision(kind: str, proposed: str, chosen: str, hours: float, mode_changed: bool = False,
              at: datetime = JAN) -> DecisionFact:
    return DecisionFact(kind, proposed, chosen, proposed != chosen, mode_changed, at, at + timedelta(hours=hours))


def test_psi_is_zero_for_the_same_mix_and_large_for_a_shift() -> None:
    assert psi([10, 10, 0], [20, 20, 0]) == 0.0
    assert psi([90, 10], [10, 90]) > 0.25  # type: ignore[operator]
    assert psi([0, 0], [1, 1]) is None


def test_report_override_rates_delays_and_drift() -> None:
    decisions = [
        _decision("pv", "critique", "critique", 2), _decision("pv", "critique", "élevé", 4),
        _decision("pv", "critique", "critique", 6), _decision("pv", "faible", "modéré", 30),
        _decision("pv", "faible", "faible", 10, mode_changed=True, at=FEB), _decision("amm", "élevé", "élevé", 100),
    ]
    assessments = [AssessmentFact("pv", "faible", 0.1, False, JAN, 300, "en") for _ in range(40)]
    assessments += [AssessmentFact("pv", "critique", 0.9, True, FEB, 3000, "fr") for _ in range(40)]
    assessments += [AssessmentFact("amm", "élevé", None, False, JAN, None, None)]
    report = compute_report(decisions, assessments, now=JAN)
    assert (report.decisions, report.overrides, report.override_rate) == (6, 3, 0.5)
    rows = {(s.dossier_type, s.proposed_level): s for s in report.by_level}
    critique = rows[("pv", "critique")]
    assert (critique.decisions, critique.overrides, critique.lowered, critique.raised) == (3, 1, 1, 0)
    assert abs(critique.rate - 1 / 3) < 1e-3
    faible = rows[("pv", "faible")]
    assert (faible.overrides, faible.raised, faible.mode_only) == (2, 1, 1)
    delays = {d.dossier_type: d for d in report.delays}
    assert delays["pv"].median_hours == 6.0 and delays["amm"].median_hours == 100.0
    months = {(m.dossier_type, m.month): m for m in report.months}
    jan, feb = months[("pv", "2026-01")], months[("pv", "2026-02")]
    assert jan.psi_score is None and feb.psi_score is not None and feb.psi_score > 0.25
    assert feb.psi_level is not None and feb.psi_level > 0.25 and feb.psi_length is not None
    assert (jan.mean_score, feb.serious_share, feb.review_share, feb.french_share) == (0.1, 1.0, 1.0, 1.0)
    assert (jan.decisions, jan.overrides, feb.decisions, feb.overrides) == (4, 2, 1, 1)
    assert any("PV 2026-02 : dérive importante des scores" in a for a in report.alerts)
    text = render_markdown(report, "oversight.png")
    assert text.startswith("# Rapport de supervision humaine")
    assert "| PV | critique | 3 | 1 | 33,3 % | 0 | 1 | 0 |" in text
    assert "## Dérive mensuelle" in text and "![Taux de modification" in text and "dérive importante" in text


def test_empty_report_says_so() -> None:
    text = render_markdown(compute_report([], [], now=JAN))
    assert "Aucune décision enregistrée" in text and "Aucune évaluation enregistrée" in text


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = get_settings(data_dir=tmp_path_factory.mktemp("oversight") / "var", database_url=None, corpora_dir=None,
                     auth=FAST_AUTH)
    upgrade(s)
    user = audit.Actor("jeanne", "expert")
    with session_on(s) as session:
        for n, (level, chosen) in enumerate([("critique", "critique"), ("critique", "élevé"), ("faible", "faible")]):
            store_proposal(session, f"m:{n}", "pv", level, score=0.2 + 0.3 * n,
                           dossier={"text": "x" * 100, "language": "fr"})
            session.commit()
            decide(session, dossier_id=f"m:{n}", user=user,
                   request=DecisionIn(risk_level=chosen, reason="motif" if chosen != level else None))
            session.commit()
        store_proposal(session, "m:pending", "aec", "élevé", score=0.7,
                       dossier={"received_at": "2020-01-01", "fields": {}})
        session.commit()
        for row in session.query(DecisionRow).all():  # decided two hours after the proposal
            row.decided_at = row.proposed_at + timedelta(hours=2)
        session.commit()
    return s


@pytest.fixture(scope="module")
def clients(settings: Settings) -> Iterator[Clients]:
    with api_clients(settings) as c:
        yield c


def test_metrics_in_prometheus_text_format(clients: Clients) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    response = clients["admin"].get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert samples[("gdr_decisions_total", (("outcome", "overridden"), ("proposed_level", "critique"),
                                            ("type", "pv")))] == 1
    assert samples[("gdr_decisions_total", (("outcome", "accepted"), ("proposed_level", "critique"),
                                            ("type", "pv")))] == 1
    assert samples[("gdr_override_ratio", (("proposed_level", "critique"), ("type", "pv")))] == 0.5
    assert samples[("gdr_time_to_decision_seconds_count", (("type", "pv"),))] == 3
    assert samples[("gdr_time_to_decision_seconds_bucket", (("le", "3600.0"), ("type", "pv")))] == 0
    assert samples[("gdr_time_to_decision_seconds_bucket", (("le", "14400.0"), ("type", "pv")))] == 3
    assert samples[("gdr_queue_pending", (("risk_level", "élevé"), ("type", "aec")))] == 1
    assert samples[("gdr_queue_overdue", (("type", "aec"),))] == 1
    assert samples[("gdr_assessments_total", (("risk_level", "critique"), ("type", "pv")))] == 2
    assert samples[("gdr_risk_score_count", (("type", "pv"),))] == 3
    assert samples[("gdr_audit_events_total", (("kind", "override"),))] == 1
    assert samples[("gdr_audit_chain_length", ())] >= 7
    assert "gdr_build_info" in families
    assert clients["expert"].get("/metrics").status_code == 403


def test_gdr_report_oversight_writes_markdown_and_plot(settings: Settings, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GDR_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("GDR_DATABASE_URL", raising=False)
    result = CliRunner().invoke(build_app(), ["report", "oversight", "--out", str(tmp_path / "rapport")])
    assert result.exit_code == 0, result.stderr
    assert "3 décision(s) (33,3 % modifiées)" in result.stderr
    text = (tmp_path / "rapport" / "oversight.md").read_text(encoding="utf-8")
    assert "| PV | critique | 2 | 1 | 50,0 % | 0 | 1 | 0 |" in text and "| PV | 3 | 2,0 h | 2,0 h |" in text
    assert (tmp_path / "rapport" / "oversight.png").read_bytes()[:4] == b"\x89PNG"
    result = CliRunner().invoke(build_app(), ["report", "oversight", "--type", "xyz"])
    assert result.exit_code == 2 and "Type de dossier inconnu" in result.stderr


def test_audit_routes_for_admins(clients: Clients) -> None:
    events = clients["admin"].get("/audit/events", params={"kind": "override"})
    assert events.status_code == 200 and [e["kind"] for e in events.json()] == ["override"]
    verify = clients["admin"].get("/audit/verify").json()
    assert verify["ok"] is True and verify["events"] >= 8
    last = clients["admin"].get("/audit/events", params={"limit": 1}).json()
    assert last[0]["kind"] == "export" and last[0]["payload"]["what"] == "audit"  # the reading itself is logged
    bad = clients["admin"].get("/audit/events", params={"kind": "rien"})
    assert bad.status_code == 400 and "Type d'événement inconnu" in bad.json()["detail"]
    assert clients["evaluateur"].get("/audit/verify").status_code == 403
