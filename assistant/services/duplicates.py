"""Duplicate reports at intake (framework-free): the likely twins of a PV report already received.

Three histories are searched, each through its blocking keys (``retrieval.duplicates``) so that a
lookup costs a few indexed reads whatever their size: the stored assessments (table
``duplicate_key``, filled by :func:`register` when an assessment is stored), the indexed corpus
history (the index's case documents, see ``Resources.duplicate_history``) and the earlier reports of
the same batch. Candidates are scored pairwise; those at or above ``settings.duplicates.threshold``
are listed in the triage result (``duplicates``), best first. A re-triage of the same dossier is never
its own twin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from assistant.db.models import AssessmentRow, DuplicateKeyRow
from assistant.services.dossiers import database_errors
from assistant.settings import DuplicatesSettings, Settings
from classifier.result import DuplicateMatch, TriageResult
from corpora.model import Dossier, dossier_from_json
from retrieval.duplicates import BlockIndex, Match, Profile, agreeing, best_matches, blocking_keys, profile_of_dossier

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from assistant.services.resources import Resources
    from retrieval.search import Retriever

MAX_CANDIDATES = 5000


def key_text(key: tuple[Any, ...]) -> str:
    """A blocking key as stored in ``duplicate_key.key``."""
    return "|".join("" if part is None else str(part) for part in key)[:255]


def applies(dossier: Dossier, settings: DuplicatesSettings) -> bool:
    return settings.enabled and dossier.type == "pv"


def _match(m: Match, source: str, *, assessment_id: int | None = None, title: str | None = None,
           received: Any = None) -> DuplicateMatch:
    return DuplicateMatch(id=m.id, score=m.score, source=source, assessment_id=assessment_id,  # type: ignore[arg-type]
                          title=title, received_at=received, agreeing=agreeing(m.components))


def merge(result: TriageResult, found: Iterable[DuplicateMatch], max_matches: int) -> None:
    """Add ``found`` to ``result.duplicates`` (one entry per twin id, best score kept), best first."""
    by_id = {d.id: d for d in result.duplicates or []}
    for d in found:
        if d.id == result.id:
            continue
        if d.id not in by_id or d.score > by_id[d.id].score:
            by_id[d.id] = d
    ranked = sorted(by_id.values(), key=lambda d: (-d.score, d.id))[:max_matches]
    result.duplicates = ranked or None


# --------------------------------------------------------------------------- stored assessments

def register(session: Session, assessment_id: int, dossier: Dossier) -> int:
    """Store the blocking keys of a stored PV assessment; returns how many. The caller commits."""
    keys = sorted({key_text(k) for k in blocking_keys(profile_of_dossier(dossier))})
    with database_errors(session):
        session.add_all([DuplicateKeyRow(key=k, assessment_id=assessment_id, dossier_id=dossier.id) for k in keys])
        session.flush()
    return len(keys)


def stored_matches(session: Session, dossier: Dossier, settings: DuplicatesSettings) -> list[DuplicateMatch]:
    """Twins among the stored assessments (the latest assessment of each other dossier sharing a key)."""
    profile = profile_of_dossier(dossier)
    keys = sorted({key_text(k) for k in blocking_keys(profile, query=True)})
    if not keys:
        return []
    table = DuplicateKeyRow.__table__  # type: ignore[attr-defined]
    stmt = (sa.select(table.c.key, table.c.dossier_id, sa.func.max(table.c.assessment_id))
            .where(table.c.key.in_(keys), table.c.dossier_id != dossier.id)
            .group_by(table.c.key, table.c.dossier_id))
    with database_errors(session):
        rows = session.execute(stmt).all()
    per_key: dict[str, int] = {}
    for key, _dossier_id, _aid in rows:
        per_key[key] = per_key.get(key, 0) + 1
    latest: dict[str, int] = {}
    for key, dossier_id, aid in rows:
        if per_key[key] <= settings.max_block:
            latest[dossier_id] = max(latest.get(dossier_id, 0), int(aid))
    if not latest:
        return []
    ids = sorted(latest.values())[-MAX_CANDIDATES:]
    with database_errors(session):
        assessed = session.execute(sa.select(AssessmentRow).where(
            AssessmentRow.id.in_(ids))).scalars().all()  # type: ignore[union-attr]
    candidates: list[Profile] = []
    rows_by_dossier: dict[str, AssessmentRow] = {}
    for row in assessed:
        if not row.dossier:
            continue
        try:
            candidates.append(profile_of_dossier(dossier_from_json(row.dossier)))
        except ValueError:
            continue
        rows_by_dossier[row.dossier_id] = row
    out = []
    for m in best_matches(profile, candidates, settings.threshold, k=settings.max_matches):
        row = rows_by_dossier[m.id]
        out.append(_match(m, "évaluations", assessment_id=row.id, title=(row.dossier or {}).get("title"),
                          received=(row.dossier or {}).get("received_at")))
    return out


def add_stored(session: Session, result: TriageResult, dossier: Dossier, settings: DuplicatesSettings) -> None:
    """Add the stored twins of ``dossier`` to its result (PV only; nothing when disabled)."""
    if applies(dossier, settings):
        merge(result, stored_matches(session, dossier, settings), settings.max_matches)


# --------------------------------------------------------------------------- indexed history and batch

def history_matches(resources: Resources, retriever: Retriever, dossier: Dossier,
                    settings: DuplicatesSettings) -> list[DuplicateMatch]:
    """Twins among the indexed case documents (the corpus history)."""
    from retrieval.duplicates import history_best_matches

    profile = profile_of_dossier(dossier)
    index = resources.duplicate_history(retriever)
    ids = sorted(index.candidates(profile, max_block=settings.max_block))[:MAX_CANDIDATES]
    if not ids:
        return []
    found = history_best_matches(profile, retriever.store, ids, settings.threshold, k=settings.max_matches)
    docs = retriever.store.get_many([m.id for m in found])
    return [_match(m, "historique", title=docs[m.id].title if m.id in docs else None,
                   received=docs[m.id].received_at if m.id in docs else None) for m in found]


class BatchTwins:
    """Earlier reports of the same call (a batch), for twins within it."""

    def __init__(self, settings: DuplicatesSettings) -> None:
        self.settings = settings
        self.index = BlockIndex()
        self.profiles: dict[str, tuple[Profile, Dossier]] = {}

    def add(self, dossier: Dossier, result: TriageResult) -> None:
        """Look ``dossier`` up among the earlier ones, then remember it."""
        if not applies(dossier, self.settings):
            return
        profile = profile_of_dossier(dossier)
        ids = self.index.candidates(profile, max_block=self.settings.max_block)
        found = best_matches(profile, (self.profiles[i][0] for i in sorted(ids) if i in self.profiles),
                             self.settings.threshold, k=self.settings.max_matches)
        merge(result, [_match(m, "lot", title=self.profiles[m.id][1].title,
                              received=self.profiles[m.id][1].received_at) for m in found],
              self.settings.max_matches)
        if dossier.id not in self.profiles:
            self.index.add(profile)
            self.profiles[dossier.id] = (profile, dossier)


def summary_lines(duplicates: Sequence[DuplicateMatch] | None) -> list[str]:
    """French lines of ``gdr triage`` for the likely twins."""
    where = {"évaluations": "dossier déjà évalué", "historique": "historique indexé", "lot": "même lot"}
    lines = []
    for d in duplicates or []:
        extra = f" n° {d.assessment_id}" if d.assessment_id is not None else ""
        agree = f" ; concordent : {', '.join(d.agreeing)}" if d.agreeing else ""
        lines.append(f"  Doublon probable : {d.id} ({where.get(d.source, d.source)}{extra}), score {d.score:.2f}"
                     f"{agree}")
    return lines


# --------------------------------------------------------------------------- evaluation

def run_evaluation(settings: Settings, *, dev_year: int | None = None, test_year: int | None = None,
                   pairs: int | None = None, log: Callable[[str], None] | None = None) -> tuple[Path, dict[str, Any]]:
    """``gdr eval duplicates``: pairs built from VAERS, threshold on the dev year, figures on the test year.

    Writes ``reports/duplicates_eval.md`` (and ``.json``) under the data dir; returns its path and the figures.
    """
    import json

    from corpora.errors import InputError
    from corpora.io import atomic_writer
    from retrieval import duplicates_eval as ev

    if not settings.uses_real_corpora:
        raise InputError("L'évaluation des doublons demande les signalements VAERS réels : définissez "
                         "GDR_CORPORA_DIR (ex. GDR_CORPORA_DIR=../shared/corpora).")
    dev, test = dev_year or ev.DEFAULT_DEV_YEAR, test_year or ev.DEFAULT_TEST_YEAR
    if dev == test:
        raise InputError("Les années de développement et de test doivent différer.")
    n = pairs or ev.DEFAULT_PAIRS
    if not 10 <= n <= 20000:
        raise InputError(f"--pairs doit être compris entre 10 et 20000 (reçu : {n}).")
    result = ev.evaluate(Path(settings.corpora_dir or "."), dev_year=dev, test_year=test, n=n, log=log)
    command = "gdr eval duplicates" + (f" --dev-year {dev}" if dev_year else "") + \
        (f" --test-year {test}" if test_year else "") + (f" --pairs {n}" if pairs else "")
    path = settings.reports_dir / "duplicates_eval.md"
    with atomic_writer(path) as fh:
        fh.write(ev.markdown(result, command))
    with atomic_writer(path.with_suffix(".json")) as fh:
        fh.write(json.dumps(result, ensure_ascii=False, indent=1))
    return path, result
