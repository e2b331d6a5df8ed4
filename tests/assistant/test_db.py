"""Database: Alembic migrations on fresh SQLite (and PostgreSQL when configured), idempotent upserts."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from assistant.db import repository as repo
from assistant.db.engine import (
    check_schema,
    current_revision,
    head_revision,
    make_engine,
    normalise_url,
    upgrade,
)
from assistant.settings import Settings, get_settings
from corpora.errors import StoreError
from corpora.loaders.sample import iter_sample_records
from corpora.model import Dossier, Record

TABLES = {"dossier", "outcome", "ingest_run", "assessment", "app_user", "conversation", "conversation_dossier",
          "chat_message", "decision", "feedback", "audit_event", "audit_head", "alembic_version"}
HEAD = "0007_pseudonym_map"  # latest migration


def _record(native: str = "t-1", title: str = "Essai", outcome: dict | None = None) -> Record:
    dossier = Dossier(
        id=f"sample:{native}", type="pv", title=title, text="Le patient est décédé.",
        received_at="2025-01-02", language="fr", source="sample",
        fields={"patient_age": 70, "substances": ["amoxicilline"]},
    )
    return Record(dossier, outcome)


@pytest.fixture()
def sqlite_settings(tmp_path: Path) -> Settings:
    return get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=None)


def test_normalise_url() -> None:
    assert normalise_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_upgrade_creates_tables_on_fresh_sqlite_file(sqlite_settings: Settings) -> None:
    db_file = sqlite_settings.data_dir / "gdr.sqlite3"
    assert not db_file.exists()
    assert upgrade(sqlite_settings) == head_revision() == HEAD
    assert db_file.exists()  # parent folder created
    engine = make_engine(sqlite_settings)
    try:
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
        assert check_schema(engine) == HEAD
        assert upgrade(sqlite_settings, engine=engine) == HEAD  # rerun is a no-op
    finally:
        engine.dispose()


def test_empty_database_is_reported_in_french(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings)
    try:
        assert current_revision(engine) is None
        with pytest.raises(StoreError, match="gdr db upgrade"):
            check_schema(engine)
    finally:
        engine.dispose()


def test_migrations_match_models(sqlite_settings: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    upgrade(sqlite_settings)
    engine = make_engine(sqlite_settings)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def _exercise_upserts(engine: sa.Engine) -> None:
    with Session(engine) as session, session.begin():
        repo.upsert_dossier(session=session, record=_record(outcome={"died": True, "risk_level": "critique"}))
    with Session(engine) as session:
        first = session.execute(sa.text("select created_at from dossier")).scalar_one()
    # Same id again with a new title and no outcome: updated, not duplicated; outcome kept.
    with Session(engine) as session, session.begin():
        repo.upsert_dossier(session=session, record=_record(title="Essai modifié"))
    with Session(engine) as session:
        assert repo.count_dossiers(session=session) == 1
        assert repo.count_outcomes(session=session) == 1
        dossier = repo.get_dossier(session=session, id="sample:t-1")
        assert dossier is not None and dossier.title == "Essai modifié"
        assert dossier.fields.substances == ["amoxicilline"] and dossier.fields.patient_age == 70
        assert "outcome" not in dossier.model_dump()  # the dossier never carries its outcome
        assert repo.get_outcome(session=session, dossier_id="sample:t-1") == {
            "died": True, "risk_level": "critique"}
        created = session.execute(sa.text("select created_at from dossier")).scalar_one()
        assert created == first
    # Whole sample twice: same counts.
    records = list(iter_sample_records())
    for _ in range(2):
        with Session(engine) as session, session.begin():
            assert repo.upsert_dossiers(session=session, records=records) == len(records)
    with Session(engine) as session:
        assert repo.count_dossiers(session=session) == len(records) + 1
        assert repo.count_dossiers(session=session, type="aec") >= 12
        assert repo.count_outcomes(session=session) == len(records) + 1
        page = repo.list_dossiers(session=session, type="pv", offset=0, limit=5)
        assert [d.id for d in page] == sorted(d.id for d in page) and len(page) == 5
        # JSON columns round-trip nested values and accents.
        pv3 = repo.get_dossier(session=session, id="sample:pv-003")
        assert pv3 is not None and pv3.fields.products and pv3.fields.products[0].atc == "N03AG01"
        assert repo.get_outcome(session=session, dossier_id="sample:pv-003")["risk_level"] == "élevé"
    with Session(engine) as session, session.begin():
        run = repo.create_ingest_run(session=session, source="sample", files=["a.jsonl"])
        run_id = run.id
    with Session(engine) as session, session.begin():
        done = repo.finish_ingest_run(session=session, run_id=run_id, read=3, written=2,
                                      skipped={"ligne illisible": 1})
        assert done.status == "completed" and done.seconds is not None and done.finished_at is not None
    with Session(engine) as session:
        runs = repo.list_ingest_runs(session=session)
        assert runs[0].skipped == {"ligne illisible": 1} and runs[0].files == ["a.jsonl"]


def test_upsert_is_idempotent_on_sqlite(sqlite_settings: Settings) -> None:
    upgrade(sqlite_settings)
    engine = make_engine(sqlite_settings)
    try:
        _exercise_upserts(engine)
    finally:
        engine.dispose()


@pytest.fixture()
def postgres_settings(postgres_url: str) -> Settings:
    return get_settings(corpora_dir=None, database_url=postgres_url)


@pytest.mark.postgres
def test_postgresql_upgrade_and_upserts(postgres_settings: Settings) -> None:
    assert upgrade(postgres_settings) == HEAD
    engine = make_engine(postgres_settings)
    try:
        assert engine.dialect.name == "postgresql"
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
        _exercise_upserts(engine)
        assert upgrade(postgres_settings, engine=engine) == HEAD
    finally:
        engine.dispose()


def test_compose_file_is_coherent() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "chroma", "app"} <= set(services)
    assert services["postgres"]["image"] == "postgres:16" and "healthcheck" in services["postgres"]
    assert services["chroma"]["image"] == "chromadb/chroma:1.5.9"
    env = services["app"]["environment"]
    assert normalise_url(env["GDR_DATABASE_URL"]).startswith("postgresql+psycopg://gdr:gdr@postgres:5432/")
    assert env["GDR_RETRIEVAL__CHROMA_HOST"] == "chroma"
    assert services["app"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    dockerfile = (root / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in dockerfile and "-c requirements.lock" in dockerfile
