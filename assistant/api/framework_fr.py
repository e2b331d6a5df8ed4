"""French for the few English messages the web framework (Starlette, python-multipart) writes itself."""

from __future__ import annotations

import re

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Too many fields\. Maximum number of fields is (\d+)\."),
     "Formulaire refusé : trop de champs (au plus {0})."),
    (re.compile(r"Too many files\. Maximum number of files is (\d+)\."),
     "Formulaire refusé : trop de fichiers (au plus {0} ; pour plusieurs dossiers, envoyez un zip à "
     "POST /triage/batch)."),
    (re.compile(r"(?:Field|Part) exceeded maximum size of (\d+)KB\."),
     "Formulaire refusé : un champ dépasse {0} Ko."),
    (re.compile(r".*[Bb]oundary.*"), "Formulaire multipart mal formé : délimiteur (boundary) absent ou invalide."),
]


def framework_fr(message: str) -> str | None:
    """The French line for a known framework message, else ``None``."""
    for pattern, french in _PATTERNS:
        if match := pattern.fullmatch(message.strip()):
            return french.format(*match.groups())
    return None
