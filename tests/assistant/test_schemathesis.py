"""Schemathesis against the OpenAPI schema (issue 13 §3): every operation, bounded examples, never a 5xx.

The app runs in-process (ASGI) on a small index (fake embedder, tests/assistant/chat_fixtures.py) and a
SQLite database, called with an admin token so that every route gets past authentication. Each
operation gets a few generated cases (``MAX_EXAMPLES``), each within ``DEADLINE``; the check is
``not_a_server_error``: a bad request is a 4xx with a French message, never a 500.

``GDR_SCHEMATHESIS_EXAMPLES`` raises the number of cases (derandomised: the same cases on every run).

Excluded, with their reason:
- ``POST /jobs/index``: starts a rebuild of the whole index in a worker (minutes; covered by test_jobs.py).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_auth import FAST_AUTH, add_users, log_in, login_of
from chat_fixtures import build_chat_index
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from assistant.settings import Settings, get_settings

# CI budget: 5 cases per operation; a longer run: GDR_SCHEMATHESIS_EXAMPLES=100 pytest <this file>
MAX_EXAMPLES = int(os.environ.get("GDR_SCHEMATHESIS_EXAMPLES", "5"))
DEADLINE = timedelta(seconds=10)
EXCLUDED = {("POST", "/jobs/index")}

@pytest.fixture(scope="module")
def api_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from assistant.db.engine import upgrade

    root: Path = tmp_path_factory.mktemp("schemathesis")
    build_chat_index(root / "var")
    s = get_settings(data_dir=root / "var", database_url=f"sqlite:///{root / 'api.sqlite3'}", corpora_dir=None,
                     retrieval={"embedder": "fake"}, auth=FAST_AUTH)
    upgrade(s)
    add_users(s)
    return s


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if (op.method.upper(), op.path) not in EXCLUDED]


def test_no_server_error(api_settings: Settings) -> None:
    """Every operation of the schema, positive and negative cases, admin token: no 5xx, a message for each 4xx."""
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app

    app = create_app(api_settings)
    with TestClient(app) as client:
        headers = log_in(client, login_of("admin"))
        # Load what the first triage loads (pseudonymiser, models, index) outside the per-call read timeout.
        warm = client.post("/triage", params={"precedents": "true"}, content="Fièvre après vaccin.".encode(),
                           headers={**headers, "Content-Type": "text/plain"})
        assert warm.status_code == 200, warm.text
    operations = _operations(app)
    assert len(operations) >= 30
    calls: dict[str, int] = {}
    statuses: dict[int, int] = {}

    failures: list[str] = []
    for op in operations:
        try:
            _fuzz(op, headers, calls, statuses)()
        except Exception as exc:  # every operation is tried; the failures are reported together
            failures.append(f"{op.label}: {str(exc)[:1500]}")
    print(f"\nschemathesis : {sum(calls.values())} appels sur {len(calls)} opérations ; "
          f"statuts {sorted(statuses.items())}")
    assert not failures, "\n\n".join(failures)
    assert len(calls) == len(operations)


def _fuzz(op: Any, headers: dict[str, str], calls: dict[str, int], statuses: dict[int, int]) -> Any:
    from schemathesis.checks import not_a_server_error

    label = op.label
    strategy = st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=DEADLINE, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        calls[label] = calls.get(label, 0) + 1
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=[not_a_server_error])
        if 400 <= response.status_code < 500 and "json" in response.headers.get("content-type", ""):
            body = response.json()
            assert isinstance(body, dict) and body.get("detail") and "Traceback" not in response.text, \
                (label, response.text[:500])

    return check
