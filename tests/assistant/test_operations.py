"""Operational safety (issue 13 §6): per-account rate limit (429), body size and time limits, JSON logs
without personal data.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_auth import FAST_AUTH, Clients, api_clients

from assistant.api.operations import RateLimited, RateLimiter, configure_logging
from assistant.db.engine import upgrade
from assistant.settings import Settings, get_settings

SEEDED = ("Mme Jeanne Martin, née le 12/03/1950, tél. 06 12 34 56 78, NIR 2 50 03 75 112 345 67, a présenté "
          "une hémorragie digestive sous apixaban, décédée à J2.")
PRIVATE = ["Jeanne", "Martin", "12/03/1950", "06 12 34 56 78", "112 345", "hémorragie", "apixaban",
           "evaluateur-test", "Bearer"]


def _settings(tmp_path: Path, **api: object) -> Settings:
    s = get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=None, retrieval={"embedder": "fake"},
                     auth=FAST_AUTH, api=api, privacy={"ner_model": "none"})
    upgrade(s)
    return s


@pytest.fixture()
def limited(tmp_path: Path) -> Iterator[Clients]:
    with api_clients(_settings(tmp_path, rate_limit_per_minute=3, max_body_bytes=4096)) as c:
        yield c


def _triage(client: object, text: str = "Fièvre à 39 °C après le vaccin.") -> int:
    return client.post("/triage", params={"precedents": "false", "type": "pv"},  # type: ignore[attr-defined]
                       content=text.encode(), headers={"Content-Type": "text/plain"}).status_code


def test_rate_limit_per_account_on_triage_and_chat(limited: Clients) -> None:
    assert [_triage(limited["evaluateur"]) for _ in range(3)] == [200, 200, 200]
    refused = limited["evaluateur"].post("/triage", params={"precedents": "false"}, content=b"Fievre.",
                                         headers={"Content-Type": "text/plain"})
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert "Trop de demandes" in refused.json()["detail"] and int(refused.headers["Retry-After"]) >= 1
    assert _triage(limited["expert"]) == 200  # another account has its own allowance
    assert limited["evaluateur"].get("/search", params={"q": "fièvre"}).status_code != 429  # not limited
    statuses = [limited["formateur"].post("/chat", json={"message": "Bonjour"}).status_code for _ in range(4)]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429


def test_rate_limiter_window_slides() -> None:
    limiter = RateLimiter(2, window_s=60)
    limiter.check("a", "triage", now=0)
    limiter.check("a", "triage", now=1)
    with pytest.raises(RateLimited) as caught:
        limiter.check("a", "triage", now=2)
    assert caught.value.http_status == 429 and caught.value.retry_after == 59
    limiter.check("a", "triage", now=61)  # the first one left the window
    limiter.check("a", "search", now=61)  # not a limited permission


def test_body_size_and_time_limits(limited: Clients) -> None:
    big = limited["expert"].post("/chat", content=b'{"message": "' + b"a" * 8000 + b'"}',
                                 headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["code"] == "too_large" and "volumineuse" in big.json()["detail"]
    # The same body streamed without a declared length (chunked) is cut as soon as it passes the limit.
    for path in ("/chat", "/feedback"):
        chunks = (b'{"message": "' + b"a" * 1000 if i == 0 else b"a" * 1000 for i in range(8))
        streamed = limited["formateur"].post(path, content=chunks, headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413 and streamed.json()["code"] == "too_large", streamed.text
        assert "plus de" in streamed.json()["detail"]
    # Without a token, a body is never read or parsed: 401, not 422 or 413.
    anonymous = limited.anonymous
    for body in (b"{bad", b"a" * 8000):
        refused = anonymous.post("/users", content=body, headers={"Content-Type": "application/json"})
        assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated", refused.text
    # The time budget, on a small app whose route sleeps (the real routes run in a thread pool alike).
    import asyncio

    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse
    from fastapi.testclient import TestClient

    from assistant.api.operations import LimitsMiddleware

    app = FastAPI()

    @app.get("/lent")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(2)
        return {"ok": "oui"}

    @app.get("/flux")
    async def stream() -> StreamingResponse:
        async def lines() -> object:
            for i in range(3):
                await asyncio.sleep(0.2)
                yield f"{i}\n"
        return StreamingResponse(lines())  # type: ignore[arg-type]

    app.add_middleware(LimitsMiddleware, max_body_bytes=4096, max_upload_bytes=4096, timeout_s=0.3)
    with TestClient(app) as client:
        response = client.get("/lent")
        assert response.status_code == 503 and response.json()["code"] == "timeout"
        assert "Délai dépassé" in response.json()["detail"]
        assert client.get("/flux").text == "0\n1\n2\n"  # a started stream is not cut by the budget


def test_json_logs_hold_no_personal_data(tmp_path: Path) -> None:
    stream = io.StringIO()
    handler = configure_logging(stream=stream)
    try:
        with api_clients(_settings(tmp_path)) as clients:
            client = clients["evaluateur"]
            response = client.post("/triage", params={"precedents": "false", "type": "pv"},
                                   content=SEEDED.encode(), headers={"Content-Type": "text/plain"})
            assert response.status_code == 200
            assessment = response.json()[0]["assessment_id"]
            assert client.get(f"/assessments/{assessment}").status_code == 200
            client.post("/chat", json={"message": SEEDED})
            client.post("/triage", content=b"\x00\x01", headers={"Content-Type": "text/plain"})  # a refusal
    finally:
        for name in ("gdr", "assistant"):
            logging.getLogger(name).removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "gdr.access"]
    assert {(a["method"], a["route"], a["status"]) for a in access} >= {
        ("POST", "/triage", 200), ("GET", "/assessments/{assessment_id}", 200), ("POST", "/triage", 422)}
    assert all(a["duration_ms"] >= 0 and a["role"] == "evaluateur" and len(a["account"]) == 12 for a in access
               if a["route"] != "/auth/token")
    text = stream.getvalue()
    leaked = [value for value in PRIVATE if value in text]
    assert not leaked, leaked
