"""Triage service: assess dossiers, add context, precedents and guidelines; store what the API triages.

``triage_dossiers(settings, dossiers)`` yields one :class:`~classifier.result.TriageResult` per
dossier (its JSON is the line of ``gdr triage --json``). Batches stream in chunks; with
``workers > 1`` each chunk is assessed and its precedents and guidelines are searched in a process
pool (models, knowledge base and index opened once per process). Lookups of a chunk take one turn
on the retriever and encode their query vectors in one batch.
``triage_and_store`` is what ``POST /triage`` does: triage the uploaded dossiers and store each
result as an assessment, all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.services.resources import Resources
from assistant.settings import Settings
from classifier.result import TextEvidence, TriageResult
from corpora.errors import Conflict, GdrError, InputError
from corpora.model import DOSSIER_TYPES, Dossier, dossier_from_json
from corpora.normalise import fr_decimal
from retrieval.config import PRECEDENTS_K

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from assistant.services.audit import Actor, HasLogin
    from classifier.assess import Assessment
    from classifier.knowledge_base import KnowledgeBase
    from classifier.signal_counts import SignalCounts
    from corpora.model import Hit, IntakeItem

NO_INDEX_WARNING = "index de recherche absent : précédents non disponibles"
EXIT_SKIPPED = 3
GUIDELINES_K = 3


# --------------------------------------------------------------------------- input

@dataclass
class Skipped:
    where: str
    reason: str

    def message(self) -> str:
        return f"{self.where} : {self.reason} — ignoré."


def _validation_reason(exc: Exception) -> str:
    text = str(exc)
    if "type" in text and ("'pv'" in text or "pv" in text) and "literal" in text.lower():
        return "type de dossier inconnu (attendu : pv, amm ou aec)"
    first = [line for line in text.splitlines() if line.strip()]
    detail = first[1].strip() if len(first) > 1 else (first[0] if first else "")
    return f"dossier invalide ({detail})"


#: Reception dates before this one are typing errors (the oldest corpus, VAERS, starts in 1990).
EARLIEST_RECEPTION = date(1950, 1, 1)


def implausible_reception(dossier: Dossier, today: date | None = None) -> str | None:
    """A French warning when the reception date cannot be right (the regulatory clock starts there)."""
    received = dossier.received_at
    today = today or date.today()
    if received is None or EARLIEST_RECEPTION <= received <= today + timedelta(days=1):
        return None
    when = "postérieure à aujourd'hui" if received > today else f"antérieure à {EARLIEST_RECEPTION.year}"
    return (f"date de réception {when} ({received.isoformat()}) : vérifiez-la, le délai réglementaire "
            "en dépend")


def check_language(dossier: Dossier) -> str | None:
    from classifier.features import detect_language

    if dossier.text.strip() and detect_language(dossier.text) is None:
        return "texte ni en français ni en anglais"
    return None


def read_inputs(paths: Sequence[Path], default_type: str = "pv") -> Iterator[Dossier | Skipped]:
    """Dossiers from JSON Lines files (``outcome`` ignored), each bad line skipped with its reason.

    Single files (.txt, .md, .json) are read by intake instead (:mod:`assistant.services.batch`), as
    ``POST /triage`` reads them. JSON lines carry their own type (``default_type`` is only checked);
    the caller bounds each narrative's length.
    """
    from corpora.io import iter_jsonl

    if default_type not in DOSSIER_TYPES:
        raise InputError(f"Type de dossier inconnu : « {default_type} » (attendu : pv, amm ou aec).")
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise InputError(f"Fichier introuvable : {path}")
        if path.suffix.lower() not in (".jsonl", ".ndjson"):
            raise InputError(f"{path} : format non reconnu (attendu : .jsonl de dossiers).")
        for n, obj, error in iter_jsonl(path):
            where = f"{path}, ligne {n}"
            if obj is None:
                yield Skipped(where, error or "ligne illisible")
                continue
            if obj.get("type") is not None and obj.get("type") not in DOSSIER_TYPES:
                yield Skipped(where, f"type de dossier inconnu « {obj.get('type')} » (attendu : pv, amm ou aec)")
                continue
            try:
                d = dossier_from_json(obj)
            except ValueError as exc:
                yield Skipped(where, _validation_reason(exc))
                continue
            reason = check_language(d)
            yield Skipped(where, reason) if reason else d


# --------------------------------------------------------------------------- assessment

@dataclass(frozen=True)
class Assessor:
    """Assesses dossiers with loaded risk models and, when the databases are crossed, the knowledge base
    and the report counts of the signal context (disproportionality)."""

    models: dict[str, Any]
    knowledge_base: KnowledgeBase | None
    signal_counts: SignalCounts | None = None

    @classmethod
    def load(cls, resources: Resources, with_context: bool) -> Assessor:
        if not with_context:
            return cls(resources.models(), None, None)
        return cls(resources.models(), resources.knowledge_base(), resources.signal_counts())

    def assess(self, dossiers: Sequence[Dossier], masked: bool = False, explain: bool = True,
               contexts: Sequence[Any] | None = None) -> list[Assessment]:
        """The assessments of ``dossiers``: what ``gdr triage`` shows and ``gdr eval classifier`` scores.

        ``masked`` (evaluation only): outcome words masked; ``explain=False`` skips the contributions.
        """
        from classifier.assess import assess_batch
        from classifier.context import gather_context

        kb = self.knowledge_base
        if contexts is None:
            contexts = [gather_context(d, kb) if kb is not None else None for d in dossiers]
        return assess_batch(dossiers, self.models, [c.facts if c else [] for c in contexts], masked=masked,
                            explain=explain)

    def __call__(self, dossiers: Sequence[Dossier], referentiel_version: str | None) -> list[TriageResult]:
        """Results without precedents and guidelines (looked up apart, see :class:`_Lookup`)."""
        from classifier.context import gather_context
        from classifier.result import triage_result

        kb = self.knowledge_base
        contexts = [gather_context(d, kb) if kb is not None else None for d in dossiers]
        assessments = self.assess(dossiers, contexts=contexts)
        results = [triage_result(d, a, c, referentiel_version)
                   for d, a, c in zip(dossiers, assessments, contexts, strict=True)]
        for d, r in zip(dossiers, results, strict=True):
            if (why := implausible_reception(d)) is not None:
                r.warnings.append(why)
        if self.signal_counts is not None:
            from classifier.signal import signal_context

            for d, r in zip(dossiers, results, strict=True):
                if d.type == "pv":
                    r.signal = signal_context(d, self.signal_counts)
        return results


# ProcessPoolExecutor only runs module-level functions in its workers and gives them no other place
# to keep an object between tasks: the initializer loads this worker process's Assessor here. Only
# worker processes set it; the main process passes its own Assessor around.
_worker_assessor: Assessor | None = None
_worker_lookup: _Lookup | None = None


def _init_worker(settings_json: str, with_context: bool, with_precedents: bool = False) -> None:
    global _worker_assessor, _worker_lookup
    resources = Resources(Settings.model_validate_json(settings_json))
    _worker_assessor = Assessor.load(resources, with_context)
    _worker_lookup = _Lookup(resources, with_precedents)


def _assess_in_worker(dossiers: list[Dossier], referentiel_version: str | None) -> list[TriageResult]:
    """Assessment, then precedents and guidelines, in this worker (each worker searches its own copy)."""
    assert _worker_assessor is not None and _worker_lookup is not None, "worker started without _init_worker"
    results = _worker_assessor(dossiers, referentiel_version)
    _worker_lookup.add_many(dossiers, results)
    return results


# --------------------------------------------------------------------------- orchestration

def _chunks(items: Iterable[Dossier], size: int) -> Iterator[list[Dossier]]:
    buf: list[Dossier] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


class _Lookup:
    """Precedents and guidelines from the index, or a warning in every result when there is none."""

    def __init__(self, resources: Resources, enabled: bool) -> None:
        from assistant.services.duplicates import BatchTwins

        self.resources = resources
        self.enabled = enabled
        self.warning: str | None = None
        self.twins = BatchTwins(resources.settings.duplicates)
        if enabled:
            try:
                with resources.retriever():
                    pass
            except (GdrError, OSError):
                self.warning = NO_INDEX_WARNING

    def add_twins(self, dossiers: Sequence[Dossier], results: Sequence[TriageResult]) -> None:
        """Likely duplicates among the earlier reports of this call (kept by the calling process)."""
        for dossier, result in zip(dossiers, results, strict=True):
            self.twins.add(dossier, result)

    def add_many(self, dossiers: Sequence[Dossier], results: Sequence[TriageResult]) -> None:
        """Precedents, guidelines and likely duplicates in the indexed history of a chunk: one turn on the
        retriever, query vectors encoded together."""
        from assistant.services import duplicates
        from assistant.services.retrieval import seriousness_hint

        if self.warning:
            for result in results:
                result.warnings.append(self.warning)
            return
        if not self.enabled or not dossiers:
            return
        serious = [seriousness_hint(d, [c.code for c in r.criteria], r.explanation.probabilites)
                   for d, r in zip(dossiers, results, strict=True)]
        dup = self.resources.settings.duplicates
        found: list[tuple[list[Hit], list[Hit]] | GdrError]
        try:
            with self.resources.retriever() as retriever:
                found = retriever.lookup_many(dossiers, PRECEDENTS_K, GUIDELINES_K, serious=serious)
                for dossier, result in zip(dossiers, results, strict=True):
                    if duplicates.applies(dossier, dup):
                        duplicates.merge(result, duplicates.history_matches(self.resources, retriever, dossier, dup),
                                         dup.max_matches)
        except GdrError as exc:
            found = [exc] * len(dossiers)
        for result, hits in zip(results, found, strict=True):
            if isinstance(hits, GdrError):
                result.warnings.append(f"précédents non disponibles : {hits.message}")
            else:
                result.precedents, result.guidelines = hits


def triage_dossiers(settings: Settings, dossiers: Iterable[Dossier], with_precedents: bool = True,
                    workers: int = 1, chunk_size: int = 256, with_context: bool = True,
                    resources: Resources | None = None) -> Iterator[TriageResult]:
    """Triage dossiers as a stream (see module docstring). Outcomes are never read: only Dossiers come in.

    ``resources`` is the application's (API, chat, CLI command); without it, models and index are
    opened for this call only.
    """
    from classifier.referentiel import referentiel_version

    if resources is not None and resources.settings != settings:
        raise ValueError("resources were opened for other settings")
    own = resources or Resources(settings)
    ref_version = str(referentiel_version())
    lookup = _Lookup(own, with_precedents)
    try:
        if workers <= 1:
            assessor = Assessor.load(own, with_context)
            for chunk in _chunks(dossiers, chunk_size):
                results = assessor(chunk, ref_version)
                lookup.add_many(chunk, results)
                lookup.add_twins(chunk, results)
                yield from results
            return
        if with_context:  # built once here, not by each worker at once
            own.signal_counts()
        # Workers search precedents themselves (the index is read-only): only a missing index is
        # settled here, once, so that no worker opens what is not there.
        in_workers = with_precedents and lookup.warning is None
        if in_workers and resources is None:
            own.close()  # this call's open index is not needed while the workers search
        # spawn when workers open the index: a forked child would inherit the vector store's threads and locks.
        context = get_context("spawn") if in_workers else None
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, mp_context=context,
                                 initargs=(_worker_settings(settings), with_context, in_workers)) as pool:
            pending: list[tuple[list[Dossier], Future[list[TriageResult]]]] = []
            for chunk in _chunks(dossiers, chunk_size):
                pending.append((chunk, pool.submit(_assess_in_worker, chunk, ref_version)))
                while len(pending) > workers * 2:
                    done, future = pending.pop(0)
                    yield from _finish(done, future.result(), lookup, in_workers)
            for done, future in pending:
                yield from _finish(done, future.result(), lookup, in_workers)
    finally:
        if resources is None:
            own.close()


def _worker_settings(settings: Settings) -> str:
    """Settings for worker processes, secrets left out (a placeholder would be refused there)."""
    return settings.model_dump_json(exclude={"auth": {"secret_key"}, "admin_password": True})


def _finish(chunk: list[Dossier], results: list[TriageResult], lookup: _Lookup,
            searched: bool) -> Iterator[TriageResult]:
    if not searched:
        lookup.add_many(chunk, results)
    lookup.add_twins(chunk, results)
    yield from results


def triage_and_store(settings: Settings, session: Session, items: Sequence[IntakeItem],
                     with_precedents: bool = True, resources: Resources | None = None,
                     actor: HasLogin | Actor | None = None) -> list[TriageResult]:
    """Triage uploaded dossiers and store each result as an assessment (``assessment_id``), all or nothing.

    Each result gets what intake read (:func:`assistant.services.intake.annotate`); ``actor`` (who
    asked, ``None``: the system) is recorded in the audit log. The caller owns the session.
    """
    from assistant.services.assessments import store_assessment
    from assistant.services.dossiers import taken_id
    from assistant.services.intake import annotate
    from assistant.services.pseudonyms import pseudonymise_item, store_mapping

    with session.begin():
        for it in items:
            if (why := taken_id(session=session, dossier=it.dossier)) is not None:
                raise Conflict(why, code="id_taken")
    # Personal data out first: the triage, its offsets and everything stored see the pseudonymised text.
    done = [pseudonymise_item(settings, it) for it in items]
    results = list(triage_dossiers(settings, [p.item.dossier for p in done], with_precedents=with_precedents,
                                   resources=resources))
    if len(results) != len(items):  # one result per dossier, always
        raise InputError("Triage incomplet : relancez la demande.")
    with session.begin():
        for pseudo, result in zip(done, results, strict=True):
            annotate(result, pseudo.item)
            result.assessment_id = store_assessment(session=session, result=result, dossier=pseudo.item.dossier,
                                                    actor=actor, duplicates=settings.duplicates)
            store_mapping(settings, session, assessment_id=result.assessment_id, dossier_id=result.id,
                          mapping=pseudo.mapping)
    return results


def summary_fr(result: TriageResult) -> str:
    """A readable French summary of one triage result."""
    mode = result.processing_mode
    review = " — à revoir par un évaluateur" if result.needs_review else ""
    lines = [f"Dossier {result.id} ({result.type.upper()}) — niveau de risque : {result.risk_level} "
             f"(score {fr_decimal(result.risk_score, 2)}){review}",
             f"  Mode de traitement : {mode.label or '–'}"
             + (f", délai {mode.deadline_days} jours" if mode.deadline_days else "")
             + (f" ({mode.reference})" if mode.reference else "")]
    if mode.expertises:
        lines.append(f"  Expertises : {', '.join(mode.expertises)}")
    for c in result.criteria:
        ev = "; ".join(e.text if isinstance(e, TextEvidence) else e.text_fr() for e in c.evidence[:2])
        lines.append(f"  Critère {c.code} : {c.label}" + (f" — « {ev} »" if ev else ""))
    if result.signal is not None:
        from classifier.signal import summary_lines as signal_lines

        lines.extend("  " + line for line in signal_lines(result.signal))
    for p in result.precedents[:3]:
        lines.append(f"  Précédent : {p.title} ({p.document_id})")
    from assistant.services.duplicates import summary_lines as duplicate_lines

    lines += duplicate_lines(result.duplicates)
    for w in result.warnings:
        lines.append(f"  Avertissement : {w}")
    lines.append(f"  Modèle : {result.model_version} ; référentiel : {result.referentiel_version or '–'}")
    return "\n".join(lines)
