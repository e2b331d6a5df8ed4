"""Audit chain: hashes, verification after an edit, a deletion or a reordering, purge with its anchor,
concurrent writers, rollback — on SQLite and on PostgreSQL (``GDR_TEST_POSTGRES_URL``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from assistant.db.engine import make_engine, upgrade
from assistant.services import audit
from assistant.settings import Settings, get_settings
from corpora.errors import InputError

ALICE = audit.Actor("alice", "evaluateur")


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    s = get_settings(data_dir=tmp_path / "var", database_url=url, corpora_dir=None)
    upgrade(s)
    return s


@pytest.fixture()
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


def _append(engine: Engine, n: int, kind: str = "dossier_view") -> None:
    with Session(engine) as session:
        for i in range(n):
            audit.record(session, kind, actor=ALICE, dossier_id=f"sample:pv-{i:03d}",
                         payload={"n": i, "texte": "décès à J+2", "score": 0.125, "liste": (1, 2)})
        session.commit()


def _verify(engine: Engine) -> audit.Verification:
    with Session(engine) as session:
        return audit.verify_chain(session)


def _sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_hash_is_sha256_of_previous_hash_and_canonical_json() -> None:
    at = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    event = {"seq": 1, "at": at, "kind": "login", "actor": "alice", "role": "admin", "dossier_id": None,
             "payload": {"b": "é", "a": 1}, "versions": {"application": "0.1.0"}, "prev_hash": audit.GENESIS}
    body = audit.canonical_json(event)
    assert body == ('{"actor":"alice","at":"2026-03-01T08:30:00.000000+00:00","dossier_id":null,"kind":"login",'
                    '"payload":{"a":1,"b":"é"},"prev_hash":"' + audit.GENESIS + '","role":"admin","seq":1,'
                    '"versions":{"application":"0.1.0"}}')
    import hashlib

    assert audit.event_hash(audit.GENESIS, event) == hashlib.sha256((audit.GENESIS + body).encode()).hexdigest()
    assert audit.event_hash(audit.GENESIS, {**event, "payload": {"a": 2, "b": "é"}}) != audit.event_hash(
        audit.GENESIS, event)


def test_chain_verifies_and_records_versions(engine: Engine) -> None:
    assert _verify(engine).ok and _verify(engine).events == 0
    _append(engine, 5)
    result = _verify(engine)
    assert result.ok and result.events == 5 and (result.first_seq, result.last_seq) == (1, 5)
    with Session(engine) as session:
        events = list(audit.iter_events(session))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == audit.GENESIS and events[1].prev_hash == events[0].hash
    assert events[0].payload["liste"] == [1, 2] and events[0].actor == "alice" and events[0].role == "evaluateur"
    assert {"application", "referentiel", "politique", "permissions"} <= set(events[0].versions)
    assert result.head_hash == events[-1].hash


def test_unknown_kind_is_refused_and_stores_nothing(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(InputError, match="inconnu"):
        audit.record(session, "pas-un-type")
    assert _verify(engine).events == 0


def test_rollback_leaves_no_event(engine: Engine) -> None:
    _append(engine, 1)
    with Session(engine) as session:
        audit.record(session, "decision", actor=ALICE, dossier_id="sample:pv-001")
        session.rollback()
    result = _verify(engine)
    assert result.ok and result.events == 1


@pytest.mark.parametrize("tamper", ["edit_payload", "edit_actor", "edit_time", "edit_hash_too"])
def test_any_edited_row_breaks_the_chain_at_that_row(engine: Engine, tamper: str) -> None:
    _append(engine, 4)
    statements = {
        "edit_payload": "UPDATE audit_event SET payload = :v WHERE seq = 2",
        "edit_actor": "UPDATE audit_event SET actor = 'mallory' WHERE seq = 2",
        "edit_time": "UPDATE audit_event SET at = :t WHERE seq = 2",
        # Recomputing the edited row's own hash is not enough: the next row still points to the old one.
        "edit_hash_too": "UPDATE audit_event SET hash = :h WHERE seq = 2",
    }
    params: dict[str, object] = {"v": '{"n": 99}', "t": datetime(2020, 1, 1, tzinfo=UTC), "h": "f" * 64}
    _sql(engine, statements[tamper], **params)
    result = _verify(engine)
    assert not result.ok and result.broken_seq == 2
    assert "événement n° 2" in (result.problem or "") and "modifié" in (result.problem or "")


def test_deleted_rows_are_detected(engine: Engine) -> None:
    _append(engine, 4)
    _sql(engine, "DELETE FROM audit_event WHERE seq = 2")
    result = _verify(engine)
    assert not result.ok and result.broken_seq == 3 and "n° 2 absent" in (result.problem or "")


def test_deleted_last_row_is_detected(engine: Engine) -> None:
    _append(engine, 3)
    _sql(engine, "DELETE FROM audit_event WHERE seq = 3")
    result = _verify(engine)
    assert not result.ok and "fin de chaîne" in (result.problem or "")


def test_reordered_rows_are_detected(engine: Engine) -> None:
    _append(engine, 4)
    _sql(engine, "UPDATE audit_event SET seq = -2 WHERE seq = 2")
    _sql(engine, "UPDATE audit_event SET seq = 2 WHERE seq = 3")
    _sql(engine, "UPDATE audit_event SET seq = 3 WHERE seq = -2")
    result = _verify(engine)
    assert not result.ok and result.broken_seq == 2 and "réordonnée" in (result.problem or "")


def test_purge_keeps_the_remaining_chain_verifiable(engine: Engine) -> None:
    _append(engine, 3)
    later = datetime.now(UTC) + timedelta(days=200)
    with Session(engine) as session:
        dry = audit.purge(session, retention_days=183, now=later, dry_run=True)
        session.rollback()
    assert dry.deleted == 3 and _verify(engine).events == 3
    with Session(engine) as session:
        result = audit.purge(session, retention_days=183, now=later, actor=audit.cli_actor())
        session.commit()
    assert result.deleted == 3 and result.anchor_seq == 3
    check = _verify(engine)
    assert check.ok and check.events == 1 and check.first_seq == 4 and check.anchor_seq == 3
    _append(engine, 2)
    assert _verify(engine).ok
    with Session(engine) as session:
        [purge_event] = list(audit.iter_events(session, kinds=["purge"]))
    assert purge_event.payload["deleted"] == 3 and purge_event.payload["anchor_hash"] == result.anchor_hash
    # Deleting more old rows and moving the anchor to match is caught by the purge event's record.
    _sql(engine, "DELETE FROM audit_event WHERE seq = 4")
    with engine.begin() as conn:
        h = conn.execute(sa.text("SELECT prev_hash FROM audit_event WHERE seq = 5")).scalar_one()
        conn.execute(sa.text("UPDATE audit_head SET anchor_seq = 4, anchor_hash = :h"), {"h": h})
    broken = _verify(engine)
    assert not broken.ok and "ancre de purge" in (broken.problem or "")


def test_purge_refuses_a_retention_below_six_months(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(InputError, match="au moins 183"):
        audit.purge(session, retention_days=30)


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    """Four threads, each its own connection and transactions, append 15 events each."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                with Session(engine) as session:
                    audit.record(session, "dossier_view", actor=ALICE, payload={"worker": n, "i": i})
                    session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    result = _verify(engine)
    assert result.ok and result.events == 60 and result.last_seq == 60
