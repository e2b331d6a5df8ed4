"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # A developer's .env must never change what the tests check (subprocesses inherit this too).
    os.environ["GDR_ENV_FILE"] = ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the real corpora or PostgreSQL are marked by their fixture (``make test-fast`` skips them)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "corpora_dir" in names:
            item.add_marker(pytest.mark.corpora)
        if "postgres_url" in names:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    """The real public corpora (``GDR_CORPORA_DIR``); tests using it skip when it is unset.

    A relative value is taken as given (from the working directory), else from the repository root,
    so CI's ``GDR_CORPORA_DIR=../shared/corpora`` works from either.
    """
    value = os.environ.get("GDR_CORPORA_DIR")
    if not value:
        pytest.skip("GDR_CORPORA_DIR n'est pas défini : tests sur les corpus réels ignorés")
    path = Path(value)
    if not path.is_dir() and not path.is_absolute() and (REPO_ROOT / path).is_dir():
        path = REPO_ROOT / path
    if not path.is_dir():
        pytest.fail(f"GDR_CORPORA_DIR={value} est défini mais n'est pas un dossier")
    return path.resolve()
