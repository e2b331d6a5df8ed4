"""Reporter-declared seriousness (ICH E2A criteria) as intake information, for every form that carries it.

An E2B(R3) ICSR (E.i.3.2a-f), a CIOMS I form (boxes 8-12) or a batch row may say which seriousness
criteria the reporter ticked. For a new dossier these are inputs known on arrival (unlike VAERS,
where the recorded flags are outcomes used as training labels), so intake keeps them: they are
reported on the intake item and appended to the dossier text as one clearly delimited French
sentence, so the criteria engine can cite them as evidence (see ``README.md``, "Intake").
"""

from __future__ import annotations

from collections.abc import Iterable

DEATH = "décès"
LIFE_THREATENING = "mise en jeu du pronostic vital"
HOSPITALISATION = "hospitalisation ou prolongation d'hospitalisation"
DISABILITY = "invalidité ou incapacité"
CONGENITAL_ANOMALY = "anomalie ou malformation congénitale"
OTHER = "autre situation médicalement importante"

# In the order of ICH E2A / E2B(R3) E.i.3.2a-f.
CRITERIA: tuple[str, ...] = (DEATH, LIFE_THREATENING, HOSPITALISATION, DISABILITY, CONGENITAL_ANOMALY, OTHER)

SENTENCE_PREFIX = "Critères de gravité déclarés par le notifiant : "


def ordered(labels: Iterable[str]) -> list[str]:
    """The declared criteria, de-duplicated, in E2A order (unknown labels dropped)."""
    found = set(labels)
    return [c for c in CRITERIA if c in found]


def declared_sentence(labels: Iterable[str]) -> str:
    """``"Critères de gravité déclarés par le notifiant : décès, …."`` ("" when none)."""
    items = ordered(labels)
    return SENTENCE_PREFIX + ", ".join(items) + "." if items else ""


def with_declared(body: str, labels: Iterable[str]) -> str:
    """``body`` followed by the declared-seriousness sentence (a blank line between them)."""
    sentence = declared_sentence(labels)
    if not sentence:
        return body
    return f"{body}\n\n{sentence}" if body else sentence
