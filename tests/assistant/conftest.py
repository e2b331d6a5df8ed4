"""Fixtures shared by the assistant tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture()
def postgres_url() -> Iterator[str]:
    """A throw-away schema on ``GDR_TEST_POSTGRES_URL`` (skips without it); dropped afterwards."""
    import sqlalchemy as sa

    from assistant.db.engine import normalise_url

    base = os.environ.get("GDR_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("GDR_TEST_POSTGRES_URL non défini : test PostgreSQL ignoré")
    schema = f"gdr_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalise_url(base))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
