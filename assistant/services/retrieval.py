"""Retrieval service: maps the application settings onto the retrieval library and feeds it documents.

CLI commands, the API and the chat call these functions with the application's
:class:`~assistant.services.resources.Resources` (the open index); the library itself
(``retrieval/``) never reads the settings.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.services.resources import Resources
from assistant.settings import Settings
from classifier.referentiel import referentiel_version
from corpora.catalog import iter_documents
from corpora.errors import InputError, StoreError, UnknownSource
from corpora.model import DOCUMENT_KINDS, DOSSIER_TYPES, SOURCES, Document, Dossier, Hit
from corpora.normalise import fr_decimal
from retrieval.config import DEFAULT_DENSE_SOURCES, RetrievalConfig
from retrieval.indexing import BuildReport, build_index

# Published record counts (corpora README): only used to show an ETA on the progress bar.
EXPECTED_COUNTS: dict[str, int] = {
    "vaers": 170_527, "bdpm": 15_788, "has-smr": 12_738, "has-asmr": 8_093, "ema-epar": 1_466,
    "ema-referral": 589, "ema-psusa": 2_515, "ema-dhpc": 160, "ema-postauth": 131, "ema-orphan": 3_138,
    "ema-shortage": 74, "ansm-interaction": 3_139, "ctgov": 28_852, "sample": 42,
}


def retrieval_config(settings: Settings, **overrides: Any) -> RetrievalConfig:
    """The library's plain configuration from the application settings."""
    r = settings.retrieval
    values: dict[str, Any] = {
        "data_dir": Path(settings.data_dir),
        "embedder": r.embedder,
        "vector_store": r.vector_store,
        "chroma_host": r.chroma_host,
        "chroma_port": r.chroma_port,
        "collection": r.collection,
        "default_method": r.default_method,
        "batch_size": r.batch_size,
        "threads": r.threads,
        "referentiel_version": str(referentiel_version()),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return RetrievalConfig(**values)


def check_sources(sources: Sequence[str] | None) -> list[str] | None:
    if not sources:
        return None
    out: list[str] = []
    for item in sources:
        for s in item.split(","):
            s = s.strip()
            if not s:
                continue
            if s not in SOURCES:
                raise UnknownSource(f"Source inconnue : « {s} ». Sources possibles : {', '.join(SOURCES)}.")
            out.append(s)
    return out or None


_FILTER_VALUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "source": ("Source inconnue", tuple(SOURCES)),
    "kind": ("Nature de document inconnue", DOCUMENT_KINDS),
    "type": ("Type de dossier inconnu", DOSSIER_TYPES),
}


def check_filter_values(filters: dict[str, list[str]]) -> dict[str, list[str]]:
    """Refuse an unknown source, document kind or dossier type in search filters (French, with the known
    values): a typo must not read as « Aucun résultat »."""
    for key, (label, allowed) in _FILTER_VALUES.items():
        for value in filters.get(key) or []:
            if value not in allowed:
                raise InputError(f"{label} : « {value} ». Valeurs possibles : {', '.join(allowed)}.")
    return filters


def referentiel_documents() -> list[Document]:
    """Guideline documents: the référentiel's criteria and the processing-mode policy (deadlines cited)."""
    from classifier.policy import policy_documents
    from classifier.referentiel import referentiel_documents as docs

    return [*docs(), *policy_documents()]


def iter_index_documents(settings: Settings, sources: Sequence[str] | None = None,
                         limit: int | None = None, vaers_years: Sequence[int] | None = None) -> Iterator[Document]:
    """Documents to index: every corpus present (via the catalog) plus the référentiel."""
    corpora_dir = settings.effective_corpora_dir
    if not corpora_dir.exists():
        raise InputError(f"Dossier des corpus introuvable : {corpora_dir}")
    corpus_sources = [s for s in sources if s != "referentiel"] if sources else None
    if sources is None or corpus_sources:
        yield from iter_documents(corpora_dir, corpus_sources, limit, vaers_years=vaers_years)
    if sources is None or "referentiel" in sources:
        yield from itertools.islice(referentiel_documents(), limit)


def expected_total(settings: Settings, sources: Sequence[str] | None, limit: int | None) -> int | None:
    if not settings.uses_real_corpora:
        return None
    names = sources or [s for s in EXPECTED_COUNTS if s != "sample"]
    return sum(min(EXPECTED_COUNTS.get(s, 0), limit or 10**9) for s in names) or None


def build(settings: Settings, sources: Sequence[str] | None = None, limit: int | None = None,
          dense_sources: Sequence[str] | None = None, dense_max: int | None = None, reset: bool = False,
          progress: bool = True, log: Any = None, vaers_years: Sequence[int] | None = None,
          on_progress: Callable[[int], None] | None = None) -> BuildReport:
    """``gdr index build``: index the corpora (a ``limit`` per source) into the data dir."""
    sources = check_sources(sources)
    dense = check_sources(dense_sources)
    overrides: dict[str, Any] = {}
    if dense is not None:
        overrides["dense_sources"] = tuple(dense)
    if dense_max is not None:
        if dense_max < 0:
            raise InputError("--dense-max doit être positif ou nul.")
        overrides["dense_max_per_source"] = dense_max
    elif limit is not None:
        # A --limit build is a quick subset: vectors for about 5 % of each source's documents.
        overrides["dense_max_per_source"] = default_dense_max(limit)
    config = retrieval_config(settings, **overrides)
    docs = iter_index_documents(settings, sources, limit, vaers_years)
    return build_index(config, docs, reset=reset, progress=progress,
                       expected_total=expected_total(settings, sources, limit), log=log, on_progress=on_progress)


def default_dense_max(limit: int | None) -> int:
    """Documents per source that get vectors: 3,000 for a full build, ~5 % of a ``--limit`` subset."""
    full = RetrievalConfig().dense_max_per_source
    return full if limit is None else min(full, max(20, limit // 20))


def index_counts(settings: Settings) -> dict[str, int] | None:
    """Documents, passages and vectorised passages of the index (None when none was built or it is unreadable)."""
    from retrieval.stores.docstore import DocStore

    path = settings.layout.docstore_path
    if not path.is_file():
        return None
    try:
        store = DocStore(path)
    except StoreError:
        return None
    try:
        return store.counts()
    finally:
        store.close()


def search(settings: Settings, query: str, k: int = 10, filters: dict[str, Any] | None = None,
           method: str | None = None, resources: Resources | None = None) -> list[Hit]:
    """Hybrid search (see :meth:`Retriever.search`); ``resources``: the application's, else opened for this call."""
    with _resources(settings, resources) as res, res.retriever() as retriever:
        return retriever.search(query, k=k, filters=filters, method=method)


# ICH E2A seriousness criteria of the référentiel: read at intake in the narrative and the fields.
SERIOUS_CRITERIA = frozenset({"PV-DECES", "PV-PRONOSTIC-VITAL", "PV-HOSPITALISATION", "PV-SOINS-INTENSIFS",
                              "PV-INVALIDITE", "PV-ANOMALIE-CONGENITALE", "PV-CAS-DECLARE-GRAVE"})


def intake_seriousness(dossier: Dossier, fired: Iterable[str] | None = None) -> bool | None:
    """Seriousness known at intake, for precedents: a PV dossier is serious when one of the ICH E2A
    criteria fires on its narrative or fields (declared serious, death, hospitalisation…). Never the
    recorded outcome. ``fired``: the codes already fired (triage), else the criteria are evaluated."""
    if dossier.type != "pv":
        return None
    if fired is None:
        from classifier.assess import analyse

        fired = [c.code for c in analyse(dossier).fired]
    return bool(SERIOUS_CRITERIA & set(fired))


# Below this calibrated probability of a serious case (``grave`` head), the model does not call a dossier
# serious for its precedents: 0.5 is "more likely serious than not", no tuning.
SERIOUS_PROBABILITY = 0.5


def seriousness_hint(dossier: Dossier, fired: Iterable[str] | None = None,
                     probabilities: dict[str, float] | None = None) -> bool | None:
    """Seriousness the precedents are narrowed on, from what is known at intake: serious when an ICH E2A
    criterion fires (:func:`intake_seriousness`) or, with a trained PV model, when its calibrated
    probability of a serious case (``probabilities["grave"]``) is at least :data:`SERIOUS_PROBABILITY`.
    Never the recorded outcome."""
    serious = intake_seriousness(dossier, fired)
    if serious is None or serious:
        return serious
    p = (probabilities or {}).get("grave")
    # Rounded as the triage result shows it (4 decimals), so that gdr triage (which reads the result) and
    # the API and the evaluation (which read the unrounded assessment) agree at the edge.
    return p is not None and round(p, 4) >= SERIOUS_PROBABILITY


def precedents_of(retriever: Any, dossier: Dossier, k: int, fired: Iterable[str] | None = None,
                  probabilities: dict[str, float] | None = None) -> list[Hit]:
    """The precedents users get (``gdr triage``, the API, the evaluation): narrowed on the seriousness
    known at intake (:func:`seriousness_hint`)."""
    return list(retriever.find_precedents(dossier, k=k, serious=seriousness_hint(dossier, fired, probabilities)))


def find_precedents(settings: Settings, dossier: Dossier, k: int = 5, resources: Resources | None = None) -> list[Hit]:
    """Past dossiers of the same type most similar to ``dossier``, with their recorded outcome."""
    with _resources(settings, resources) as res:
        fired, probabilities = _intake_reading(res.models(), dossier)
        with res.retriever() as retriever:
            return precedents_of(retriever, dossier, k, fired, probabilities)


def _intake_reading(models: dict[str, Any], dossier: Dossier) -> tuple[list[str] | None, dict[str, float]]:
    """Criteria fired and calibrated model probabilities of a PV dossier, as ``gdr triage`` computes them
    (nothing for other types: their precedents are not narrowed on seriousness)."""
    from classifier.assess import assess

    if dossier.type != "pv":
        return None, {}
    a = assess(dossier, models)
    return [c.code for c in a.fired], a.probabilities


def model_seriousness(resources: Resources) -> Callable[[Dossier], bool | None]:
    """:func:`seriousness_hint` of a dossier as ``gdr triage`` computes it: criteria, then the trained PV
    model's calibrated probability (no model: criteria only). Models are loaded once, here."""
    models = resources.models()
    return lambda dossier: seriousness_hint(dossier, *_intake_reading(models, dossier))


def get_document(settings: Settings, document_id: str, resources: Resources | None = None) -> Document:
    """The stored document of an id (NotFound otherwise)."""
    with _resources(settings, resources) as res, res.retriever() as retriever:
        return retriever.get_document(document_id)


@contextmanager
def _resources(settings: Settings, resources: Resources | None) -> Iterator[Resources]:
    """The caller's resources, or ones opened for this call only."""
    if resources is not None:
        yield resources
        return
    with Resources(settings) as own:
        yield own


def summary_fr(report: BuildReport, config_dense: Iterable[str] = DEFAULT_DENSE_SOURCES) -> str:
    """What the build did, in French, for the user."""
    t = report.totals
    lines = [
        f"Indexation terminée en {fr_decimal(report.seconds)} s : {report.seen} documents lus, "
        f"{report.written} écrits ou mis à jour, {report.unchanged} inchangés"
        + (f", {report.duplicates} doublons ignorés" if report.duplicates else "") + ".",
        f"Passages écrits : {report.chunks_written} (dont {report.dense_chunks_written} vectorisés ; "
        f"{report.encoded} textes encodés en {fr_decimal(report.encode_seconds)} s, "
        f"{report.cache_hits} repris du cache).",
        f"Index : {t.get('documents', 0)} documents, {t.get('chunks', 0)} passages, "
        f"{t.get('dense_chunks', 0)} vectorisés (dense + lexical), "
        f"{t.get('chunks', 0) - t.get('dense_chunks', 0)} lexicaux seulement ; "
        f"index lexical reconstruit en {fr_decimal(report.lexical_seconds)} s.",
    ]
    for source, (n_docs, n_dense) in sorted(report.totals_by_source.items()):
        lines.append(f"  {source:<17} {n_docs:>7} documents, {n_dense:>6} vectorisés")
    return "\n".join(lines)


def run_evaluation(settings: Settings, split: str = "test", limit: int | None = None, log: Any = None,
                   sets: Sequence[str] | None = None) -> Any:
    """``gdr eval retrieval``: score lexical, dense and hybrid on the real corpora; write the report.

    Precedents are narrowed as ``gdr triage`` narrows them (:func:`model_seriousness`: criteria, then the
    trained PV model of ``models_dir`` when there is one)."""
    from corpora.io import atomic_writer
    from retrieval.evaluation import evaluate

    if not settings.uses_real_corpora:
        raise InputError(
            "L'évaluation de la recherche demande les corpus réels : définissez GDR_CORPORA_DIR "
            "(ex. GDR_CORPORA_DIR=../shared/corpora)."
        )
    config = retrieval_config(settings)
    with Resources(settings) as res:
        hint = model_seriousness(res)
        result = evaluate(config, Path(settings.corpora_dir or "."), split=split, limit=limit, log=log,
                          serious_hint=hint, sets=sets)
    path = settings.reports_dir / ("retrieval_eval.md" if split == "test" else f"retrieval_eval_{split}.md")
    with atomic_writer(path) as fh:
        fh.write(result.markdown)
    result.path = path
    return result
