"""The whole path on each deployment: embedded (SQLite + embedded Chroma) and team (PostgreSQL + Chroma server).

Migrations, ingest, index build, triage with precedents, search, chat and the audit chain, through the
API, once per backend. The team run needs ``GDR_TEST_POSTGRES_URL`` and ``GDR_TEST_CHROMA_URL``
(``.ci/run`` provides both) and skips without them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, api_clients
from sqlalchemy.orm import Session

from assistant.db.engine import current_revision, head_revision, make_engine, upgrade
from assistant.services import audit
from assistant.services.ingest import ingest_sample
from assistant.services.retrieval import build
from assistant.settings import Settings, get_settings
from retrieval.stores.vector import drop_vector_store

DEATH_FR = "Patient de 70 ans décédé deux jours après la vaccination, myocardite."


@pytest.fixture(params=["embedded", "servers"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    retrieval: dict[str, object] = {"embedder": "fake"}
    database_url = None
    if request.param == "servers":
        database_url = request.getfixturevalue("postgres_url")
        retrieval.update(request.getfixturevalue("chroma_server").retrieval(f"backends_{uuid.uuid4().hex[:12]}"))
    s = get_settings(data_dir=tmp_path / "var", corpora_dir=None, database_url=database_url,
                     retrieval=retrieval, auth=FAST_AUTH)
    yield s
    from assistant.services.retrieval import retrieval_config

    drop_vector_store(retrieval_config(s))


def test_whole_path_on_each_backend(settings: Settings) -> None:
    on_servers = settings.retrieval.chroma_host is not None
    assert settings.database_url_effective.startswith("postgresql" if on_servers else "sqlite")
    # migrations
    assert upgrade(settings) == head_revision()
    engine = make_engine(settings)
    assert current_revision(engine) == head_revision()
    engine.dispose()
    # ingest and index
    ingested = ingest_sample(settings)
    assert ingested.status == "completed" and ingested.written == ingested.read > 0
    report = build(settings, sources=["sample", "referentiel"], progress=False)
    assert report.totals["vectors"] == report.totals["dense_chunks"] > 0
    assert settings.layout.chroma_dir.exists() is not on_servers  # the vectors live on the server
    with api_clients(settings) as clients:
        evaluateur, admin = clients["evaluateur"], clients["admin"]
        # triage with precedents and guidelines, stored
        r = evaluateur.post("/triage", content=DEATH_FR.encode(), params={"type": "pv"},
                            headers={"content-type": "text/plain"})
        assert r.status_code == 200, r.text
        [row] = r.json()
        assert row["risk_level"] == "critique" and row["precedents"] and row["guidelines"]
        assert not any("précédents" in w for w in row["warnings"])
        assert evaluateur.get(f"/assessments/{row['assessment_id']}").json()["dossier"]["text"] == DEATH_FR
        # search
        hits = evaluateur.get("/search", params={"q": "myocardite vaccination", "k": 3}).json()
        assert hits and all(h["excerpt"] for h in hits)
        # chat, audited with its citations
        chat = evaluateur.post("/chat", json={"message": "Quels cas de myocardite après vaccination ?"})
        assert chat.status_code == 200, chat.text
        body = chat.json()
        assert body["answer"] and body["conversation_id"]
        # audit chain: triage and chat events, chain intact
        verify = admin.get("/audit/verify").json()
        assert verify["ok"] is True and verify["events"] >= 2
    engine = make_engine(settings)
    with Session(engine) as session:
        kinds = [e.kind for e in audit.list_events(session)]
        [chat_event] = audit.list_events(session, kinds=["chat"])
    engine.dispose()
    assert "chat" in kinds and chat_event.payload["answer"] == body["answer"]
    assert [h["document_id"] for h in chat_event.payload["citations"]] == [
        h["document_id"] for h in body["citations"]]
