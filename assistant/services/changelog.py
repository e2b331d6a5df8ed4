"""The changelog shown to users as « Nouveautés » (``CHANGELOG.md`` at the root of the project)."""

from __future__ import annotations

from pathlib import Path

from corpora.errors import NotFound

CHANGELOG = "CHANGELOG.md"


def changelog_path() -> Path:
    """``CHANGELOG.md`` beside the source tree (development) or in the working directory (Docker image)."""
    for folder in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (folder / CHANGELOG).is_file():
            return folder / CHANGELOG
    raise NotFound("Journal des nouveautés introuvable (CHANGELOG.md absent de cette installation).",
                   code="changelog_missing")


def read_changelog() -> str:
    """The Markdown text of the changelog."""
    return changelog_path().read_text(encoding="utf-8")
