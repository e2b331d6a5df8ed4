"""HTTP API on a fresh SQLite database: health, pagination, percent-encoded ids, French errors.

Calls are made as an authenticated evaluateur (permissions themselves: test_route_permissions.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, api_clients, bearer, expired_token
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assistant.api.app import create_app
from assistant.db import repository as repo
from assistant.db.engine import head_revision, make_engine
from assistant.services.ingest import ingest_sample
from assistant.settings import get_settings
from corpora.model import Dossier, Record

EPAR_ID = "ema-epar:EMEA/H/C/003870"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = get_settings(data_dir=tmp_path_factory.mktemp("api") / "var", database_url=None, corpora_dir=None,
                            auth=FAST_AUTH)
    ingest_sample(settings)
    engine = make_engine(settings)
    with Session(engine) as session, session.begin():
        dossier = Dossier(id=EPAR_ID, type="amm", title="Produit EPAR fictif", text="Résumé.",
                          language="fr", source="ema-epar", fields={"orphan": True})
        repo.upsert_dossier(session=session, record=Record(dossier, {"additional_monitoring": True}))
    engine.dispose()
    with api_clients(settings) as clients:
        yield clients["evaluateur"]


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["revision"] == head_revision()
    # uptime probes ask with HEAD: same status, no body
    head = client.head("/health")
    assert head.status_code == 200 and head.content == b""


def test_health_on_empty_database_is_degraded(tmp_path: Path) -> None:
    settings = get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=None, auth=FAST_AUTH)
    app = create_app(settings)
    with TestClient(app) as fresh:
        response = fresh.get("/health")
        assert response.status_code == 503 and response.json()["status"] == "dégradé"
        assert fresh.head("/health").status_code == 503
        assert fresh.get("/dossiers").status_code == 401
        # A well-signed token cannot be checked against accounts that do not exist yet: French 409, no 500.
        token = app.state.auth.issuer.issue("admin").access_token
        listing = fresh.get("/dossiers", headers=bearer(token))
        assert listing.status_code == 409 and "gdr db upgrade" in listing.json()["detail"]
        assert fresh.get("/dossiers", headers=bearer(expired_token(app, "admin"))).status_code == 401


def test_list_dossiers_is_paginated(client: TestClient) -> None:
    page1 = client.get("/dossiers", params={"type": "pv", "limit": 5}).json()
    page2 = client.get("/dossiers", params={"type": "pv", "limit": 5, "offset": 5}).json()
    assert page1["total"] >= 12 and len(page1["items"]) == len(page2["items"]) == 5
    ids = [d["id"] for d in page1["items"] + page2["items"]]
    assert len(set(ids)) == 10 and all(i.startswith("sample:pv-") for i in ids)
    assert set(page1["items"][0]) == {"id", "type", "title", "source", "language", "received_at"}
    everything = client.get("/dossiers", params={"limit": 500}).json()
    assert everything["total"] == len(everything["items"]) >= 37


def test_get_dossier_with_percent_encoded_id(client: TestClient) -> None:
    response = client.get("/dossiers/ema-epar%3AEMEA%2FH%2FC%2F003870")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == EPAR_ID and body["fields"]["orphan"] is True
    assert body.get("outcome") is None  # kept apart unless asked for
    with_outcome = client.get("/dossiers/ema-epar%3AEMEA%2FH%2FC%2F003870", params={"outcome": "true"}).json()
    assert with_outcome["outcome"] == {"additional_monitoring": True}
    plain = client.get("/dossiers/sample:pv-001").json()
    assert plain["type"] == "pv" and "décédé" in plain["text"]


def test_errors_are_french(client: TestClient) -> None:
    missing = client.get("/dossiers/sample%3Ainexistant")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Dossier introuvable : sample:inexistant", "code": "dossier_not_found"}
    bad_type = client.get("/dossiers", params={"type": "xyz"})
    assert bad_type.status_code == 400 and "Type de dossier inconnu" in bad_type.json()["detail"]
    bad_limit = client.get("/dossiers", params={"limit": 0})
    assert bad_limit.status_code == 422 and bad_limit.json()["detail"].startswith("Paramètre invalide")
    nowhere = client.get("/nulle-part")
    assert nowhere.status_code == 404 and nowhere.json() == {"detail": "Ressource introuvable."}
