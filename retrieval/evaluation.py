"""Retrieval evaluation on labelled sets derived from the real corpora (reproducible, bounded).

Three sets, each with its own small index under ``<data_dir>/eval/<set>`` (every document gets a
vector so that dense and hybrid are compared fairly; vectors are cached by content hash):

(a) ``vaers``: queries are reports of a later year (2004) than the indexed ones: the whole VAERS history
    before it (1990–2003, as ``gdr index`` holds it; only the first 800 get vectors). Plain text
    search is scored with relevant = shares a vaccine type and a coded symptom (strict: two). The
    precedent search (:meth:`Retriever.find_precedents`, which narrows on the vaccine type, the age
    band, the seriousness known at intake and a coded symptom) is scored on labels the narrowing
    does not decide: (i) P@5 where relevant = shares at least two coded symptoms (whatever the
    vaccine); (ii) agreement of the precedents' recorded seriousness with the query's recorded
    seriousness (read for scoring only, never given to the search) and share of precedents in the
    query's age group; (iii) P@5 on the clinical picture written by the project from the
    narratives (``retrieval/data/clinical_pictures.tsv``). Baseline in the same run: BM25 on the
    narrative restricted to the same vaccine type(s). Two ceiling rows give the share of the top 5 that
    could share two coded symptoms with the query at all (among its vaccine type's reports, and in the
    whole index). Queries are scored without the header of
    vaccine types and symptoms (``sans en-tête``: the title is replaced by a neutral one) and with it.
(b) ``has``: the query is a product's name and active substances (BDPM); relevant = that
    product's HAS SMR/ASMR opinions.
(c) ``crosslingual``: the query is a French BDPM product text; relevant = English EMA EPARs with
    the same active substance or ATC code.

Queries are split deterministically (SHA-1 of the query id) into a dev half (for tuning) and a
test half (reported). Metrics: P@5, nDCG@10, MRR (over the top 10).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from corpora.model import Document, Dossier
from corpora.normalise import bar_split, normalise_substance
from retrieval.config import PRECEDENTS_K, RetrievalConfig
from retrieval.embeddings import CachingEmbedder, EmbeddingCache, get_embedder
from retrieval.facets import document_facets, norm_code, norm_word
from retrieval.indexing import build_index
from retrieval.search import METHODS, Retriever

VAERS_QUERY_YEAR = 2004
VAERS_INDEX_DOCS: int | None = None  # every report of the years before the query year (the scale users run)
VAERS_DENSE_DOCS = 800  # the first 800 indexed reports get vectors; the others are lexical + metadata only
HAS_DISTRACTOR_PRODUCTS = 60
EMA_INDEX_DOCS = 400
DEFAULT_QUERIES = 50  # per split and per set
PICTURES_FILE = Path(__file__).parent / "data" / "clinical_pictures.tsv"


def split_of(query_id: str) -> str:
    """Deterministic dev/test half of a query."""
    return "dev" if int(hashlib.sha1(query_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


def _order(key: str) -> str:
    return hashlib.sha1(f"gdr-eval:{key}".encode()).hexdigest()


@dataclass
class EvalQuery:
    id: str
    text: str
    relevant: frozenset[str]
    strict: frozenset[str] | None = None
    dossier: Dossier | None = None
    # precedent labels of the query (recorded seriousness, age band, coded symptoms, clinical picture)
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalSet:
    name: str
    description: str
    documents: list[Document]
    queries: dict[str, list[EvalQuery]]  # split → queries
    precedents: bool = False
    filters: dict[str, Any] | None = None
    doc_labels: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class EvalResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    markdown: str = ""
    path: Path | None = None
    winner: str | None = None


# --------------------------------------------------------------------------- metrics (pure)

def precision_at(ranked: Sequence[str], relevant: Iterable[str], k: int = 5) -> float:
    rel = set(relevant)
    return sum(1 for d in ranked[:k] if d in rel) / k


def ndcg_at(ranked: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    rel = set(relevant)
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), k)))
    return dcg / ideal if ideal > 0 else 0.0


def mrr_at(ranked: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    rel = set(relevant)
    for i, d in enumerate(ranked[:k], start=1):
        if d in rel:
            return 1.0 / i
    return 0.0


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# --------------------------------------------------------------------------- labelled sets

def _take(candidates: list[tuple[str, Any]], limit: int) -> dict[str, list[Any]]:
    """Deterministic order (hash), split by query id, at most ``limit`` per split."""
    out: dict[str, list[Any]] = {"dev": [], "test": []}
    for qid, item in sorted(candidates, key=lambda c: _order(c[0])):
        bucket = out[split_of(qid)]
        if len(bucket) < limit:
            bucket.append(item)
    return out


def load_pictures(path: Path = PICTURES_FILE) -> list[tuple[str, str, re.Pattern[str]]]:
    """The clinical pictures (code, label, pattern), most specific first."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, label, pattern = line.split("\t")
            out.append((code, label, re.compile(pattern, re.IGNORECASE)))
    return out


def picture_of(text: str, pictures: Sequence[tuple[str, str, re.Pattern[str]]]) -> str | None:
    """The first clinical picture whose pattern matches the narrative, else None."""
    for code, _, pattern in pictures:
        if pattern.search(text or ""):
            return code
    return None


def neutral_title(dossier: Dossier) -> Dossier:
    """The dossier without its header of vaccine types and symptoms (title replaced by its id)."""
    return dossier.model_copy(update={"title": f"Signalement {dossier.id.split(':')[-1]}"})


def vaers_set(corpora_dir: Path, limit: int) -> EvalSet:
    from corpora.catalog import iter_documents, iter_records
    from corpora.loaders.cases import is_serious
    from retrieval.facets import age_band

    pictures = load_pictures()
    docs = list(iter_documents(corpora_dir, ["vaers"], VAERS_INDEX_DOCS,
                               vaers_years=list(range(1980, VAERS_QUERY_YEAR))))
    facets = {d.id: document_facets(d.source, d.kind, d.language, d.received_at, d.metadata, d.outcome)
              for d in docs}
    doc_labels = {d.id: {"serious": facets[d.id]["serious"], "age_band": facets[d.id]["age_band"],
                         "symptoms": frozenset(facets[d.id]["symptom"]), "picture": picture_of(d.text, pictures)}
                  for d in docs}
    candidates: list[tuple[str, Any]] = []
    for rec in iter_records(corpora_dir, types=["pv"], limit=limit * 12, vaers_years=[VAERS_QUERY_YEAR]):
        f = rec.dossier.fields
        if f.vaccine_types and f.symptoms:
            candidates.append((rec.dossier.id, rec))
    queries: dict[str, list[EvalQuery]] = {}
    for split, records in _take(candidates, limit).items():
        out = []
        for rec in records:
            dossier = rec.dossier
            vt = {norm_code(v) for v in dossier.fields.vaccine_types or []}
            sy = {norm_word(s) for s in dossier.fields.symptoms or []}
            rel, strict = set(), set()
            any2 = 0  # documents sharing ≥ 2 coded symptoms, whatever the vaccine: the ceiling without filter
            for doc_id, fc in facets.items():
                shared = len(sy & set(fc["symptom"]))
                any2 += shared >= 2
                if shared and vt & set(fc["vaccine_type"]):
                    rel.add(doc_id)
                    if shared >= 2:
                        strict.add(doc_id)
            labels = {"serious": is_serious(rec.outcome or {}), "age_band": age_band(dossier.fields.patient_age),
                      "symptoms": frozenset(sy), "picture": picture_of(dossier.text, pictures),
                      "sym2_vaccine": len(strict), "sym2_any": any2}
            out.append(EvalQuery(dossier.id, f"{dossier.title}\n{dossier.text}", frozenset(rel),
                                 frozenset(strict), dossier, labels))
        queries[split] = out
    return EvalSet("vaers", f"VAERS : {len(docs)} signalements antérieurs à {VAERS_QUERY_YEAR} indexés, requêtes = "
                   f"signalements {VAERS_QUERY_YEAR}", docs, queries, precedents=True, filters={"type": "pv"},
                   doc_labels=doc_labels)


def precedent_scores(ranked: Sequence[str], q: EvalQuery, doc_labels: dict[str, dict[str, Any]],
                     k: int = 5) -> dict[str, float | None]:
    """Precedent metrics of one query on its top ``k``: P@k on ≥ 2 shared coded symptoms, recorded
    seriousness agreement, same age group, P@k on the clinical picture (None where undefined)."""
    top = [doc_labels[d] for d in ranked[:k] if d in doc_labels]
    lab = q.labels
    sym2 = sum(1 for t in top if len(lab["symptoms"] & t["symptoms"]) >= 2) / k
    serious = [t["serious"] == lab["serious"] for t in top if t["serious"] is not None]
    ages = [t["age_band"] == lab["age_band"] for t in top] if lab["age_band"] else []
    picture = sum(1 for t in top if t["picture"] == lab["picture"]) / k if lab["picture"] else None
    return {"p@5_sym2": sym2, "serious_agree": mean([float(x) for x in serious]) if serious else None,
            "age_agree": mean([float(x) for x in ages]) if ages else None, "p@5_picture": picture}


def has_set(corpora_dir: Path, limit: int) -> EvalSet:
    from corpora.catalog import iter_documents

    opinions: dict[str, list[Document]] = {}
    for d in iter_documents(corpora_dir, ["has-smr", "has-asmr"]):
        cis = str(d.metadata.get("cis") or "")
        if cis:
            opinions.setdefault(cis, []).append(d)
    products: dict[str, Document] = {}
    for d in iter_documents(corpora_dir, ["bdpm"]):
        cis = str(d.metadata.get("cis") or "")
        if cis in opinions and bar_split(d.metadata.get("substance_names")):
            products[cis] = d
    candidates = [(cis, cis) for cis in products]
    chosen = _take(candidates, limit)
    chosen_set = {c for v in chosen.values() for c in v}
    others = sorted((c for c in products if c not in chosen_set), key=_order)[:HAS_DISTRACTOR_PRODUCTS]
    docs = [o for cis in sorted(chosen_set | set(others)) for o in opinions[cis]]
    def query_text(cis: str) -> str:
        return f"{products[cis].title} {' '.join(bar_split(products[cis].metadata.get('substance_names')))}"

    queries = {
        split: [EvalQuery(f"has:{cis}", query_text(cis), frozenset(o.id for o in opinions[cis])) for cis in cis_list]
        for split, cis_list in chosen.items()
    }
    return EvalSet("has", f"HAS : {len(docs)} avis SMR/ASMR, requête = nom du produit + substance(s)",
                   docs, queries)


def crosslingual_set(corpora_dir: Path, limit: int) -> EvalSet:
    from corpora.catalog import iter_documents

    epars = list(iter_documents(corpora_dir, ["ema-epar"]))

    def keys(d: Document) -> set[str]:
        return {normalise_substance(s) for s in bar_split(d.metadata.get("substances"))} - {""}

    def atcs(d: Document) -> set[str]:
        return {norm_code(a) for a in bar_split(d.metadata.get("atc_codes"))} - {""}

    by_key: dict[str, set[str]] = {}
    for e in epars:
        for k in keys(e):
            by_key.setdefault(k, set()).add(e.id)
    per_substance: dict[str, Document] = {}
    for d in iter_documents(corpora_dir, ["bdpm"]):
        ks = keys(d)
        if len(ks) == 1:
            k = next(iter(ks))
            if k in by_key and (k not in per_substance or _order(d.id) < _order(per_substance[k].id)):
                per_substance[k] = d
    chosen = _take([(f"xl:{k}", (k, d)) for k, d in per_substance.items()], limit)
    needed = {e for v in chosen.values() for k, _ in v for e in by_key[k]}
    rest = sorted((e.id for e in epars if e.id not in needed), key=_order)
    keep = needed | set(rest[: max(0, EMA_INDEX_DOCS - len(needed))])
    docs = [e for e in epars if e.id in keep]
    epar_keys = {e.id: (keys(e), atcs(e)) for e in docs}
    queries: dict[str, list[EvalQuery]] = {}
    for split, items in chosen.items():
        out = []
        for k, d in items:
            d_atc = atcs(d)
            rel = {eid for eid, (ks, ac) in epar_keys.items() if k in ks or (d_atc & ac)}
            out.append(EvalQuery(f"xl:{k}", d.text[:1000], frozenset(rel)))
        queries[split] = out
    return EvalSet("crosslingual", f"Interlingue : {len(docs)} EPAR EMA (anglais), requête = fiche BDPM "
                   "(français) d'un produit de même substance", docs, queries)


# --------------------------------------------------------------------------- running

def _index(config: RetrievalConfig, eval_set: EvalSet, log: Callable[[str], None] | None) -> RetrievalConfig:
    cfg = replace(
        config, data_dir=config.eval_dir / eval_set.name,
        cache_root=config.cache_root or config.embeddings_cache_dir,
        dense_sources=tuple(sorted({d.source for d in eval_set.documents})),
        dense_max_per_source=VAERS_DENSE_DOCS if eval_set.name == "vaers" else 10**9, dense_vaers_since_year=0,
    )
    if log:
        log(f"Index d'évaluation « {eval_set.name} » : {len(eval_set.documents)} documents…")
    build_index(cfg, eval_set.documents, progress=log is not None)
    return cfg


SeriousHint = Callable[[Dossier], bool | None]
EVAL_SETS = ("vaers", "has", "crosslingual")


def run_set(cfg: RetrievalConfig, eval_set: EvalSet, split: str, retriever: Retriever,
            serious_hint: SeriousHint | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    queries = eval_set.queries[split]
    tasks: list[tuple[str, str, bool]] = [("recherche", m, True) for m in METHODS]
    if eval_set.precedents:
        for header in (False, True):
            tasks += [("BM25 + filtre vaccin", "lexical", header)] + [("précédents", m, header) for m in METHODS]

    def run(task: str, method: str, header: bool, q: EvalQuery) -> list[str]:
        dossier = q.dossier if (header or q.dossier is None) else neutral_title(q.dossier)
        text = q.text if dossier is None else f"{dossier.title}\n{dossier.text}"
        if task == "précédents":
            serious = serious_hint(q.dossier) if (serious_hint and q.dossier) else None
            hits = (retriever.find_precedents(dossier, k=PRECEDENTS_K, method=method, serious=serious)
                    if dossier else [])
        elif task == "BM25 + filtre vaccin":
            vaccines = list(q.dossier.fields.vaccine_types or []) if q.dossier else []
            hits = retriever.search(text[:10_000], k=10, method=method,
                                    filters={"type": "pv", "vaccine_type": vaccines} if vaccines else None)
        else:
            hits = retriever.search(q.text[:10_000], k=10, filters=eval_set.filters, method=method)
        return [h.document_id for h in hits]

    for task, method, header in tasks:
        p5, nd, mr, sp5, snd = [], [], [], [], []
        labelled: dict[str, list[float]] = {}
        latencies = []
        for q in queries:
            t0 = time.perf_counter()
            ranked = run(task, method, header, q)
            latencies.append(time.perf_counter() - t0)
            if eval_set.precedents and task != "recherche":
                for key, value in precedent_scores(ranked, q, eval_set.doc_labels).items():
                    if value is not None:
                        labelled.setdefault(key, []).append(value)
                continue
            p5.append(precision_at(ranked, q.relevant))
            nd.append(ndcg_at(ranked, q.relevant))
            mr.append(mrr_at(ranked, q.relevant))
            if q.strict is not None:
                sp5.append(precision_at(ranked, q.strict))
                snd.append(ndcg_at(ranked, q.strict))
        row: dict[str, Any] = {"set": eval_set.name, "split": split, "task": task, "method": method,
                               "queries": len(queries), "ms_per_query": round(1000 * mean(latencies), 1)}
        if labelled:
            row["header"] = header
            for key, values in labelled.items():
                row[key] = round(mean(values), 3)
                row[f"n_{key}"] = len(values)
        else:
            row.update({"p@5": round(mean(p5), 3), "ndcg@10": round(mean(nd), 3), "mrr": round(mean(mr), 3)})
            if sp5:
                row["p@5_strict"] = round(mean(sp5), 3)
                row["ndcg@10_strict"] = round(mean(snd), 3)
        rows.append(row)
    if eval_set.precedents and queries:
        # Ceilings of P@5 (≥ 2 shared symptoms): the share of the top 5 that could share two coded symptoms
        # with the query at all, in the whole index and among the documents of its vaccine type(s).
        for task, label in (("plafond, filtre vaccin", "sym2_vaccine"), ("plafond, sans filtre", "sym2_any")):
            values = [min(q.labels.get(label, 0), 5) / 5 for q in queries]
            rows.append({"set": eval_set.name, "split": split, "task": task, "method": "–", "header": False,
                         "queries": len(queries), "ms_per_query": 0.0, "p@5_sym2": round(mean(values), 3),
                         "n_p@5_sym2": len(values)})
    return rows


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    search = [r for r in rows if "p@5" in r]
    prec = [r for r in rows if "p@5_sym2" in r]
    head = "| jeu | moitié | tâche | méthode | requêtes | P@5 | nDCG@10 | MRR | P@5 (≥2 sympt.) | nDCG@10 (≥2) |"
    lines = [head, "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in search:
        lines.append(
            f"| {r['set']} | {r['split']} | {r['task']} | {r['method']} | {r['queries']} | {r['p@5']:.3f} | "
            f"{r['ndcg@10']:.3f} | {r['mrr']:.3f} | "
            + (f"{r['p@5_strict']:.3f} | {r['ndcg@10_strict']:.3f} |" if "p@5_strict" in r else "– | – |")
        )
    if prec:
        lines += ["", "Précédents VAERS (étiquettes que le filtre ne décide pas ; top 5) :", "",
                  "| moitié | requête | tâche | méthode | requêtes | P@5 (≥2 sympt. partagés) | gravité concordante "
                  "| même tranche d'âge | P@5 (même tableau clinique) |",
                  "|---|---|---|---|---:|---:|---:|---:|---:|"]

        def cell(r: dict[str, Any], key: str) -> str:
            return f"{r[key]:.3f} (n={r['n_' + key]})" if key in r else "–"

        for r in prec:
            lines.append(f"| {r['split']} | {'avec en-tête' if r['header'] else 'sans en-tête'} | {r['task']} | "
                         f"{r['method']} | {r['queries']} | {cell(r, 'p@5_sym2')} | {cell(r, 'serious_agree')} | "
                         f"{cell(r, 'age_agree')} | {cell(r, 'p@5_picture')} |")
    return "\n".join(lines)


def winner(rows: Sequence[dict[str, Any]]) -> str:
    """Method with the best mean nDCG@10 over the plain-search rows of every set."""
    scores = {m: mean([r["ndcg@10"] for r in rows if r["task"] == "recherche" and r["method"] == m])
              for m in METHODS}
    return max(METHODS, key=lambda m: (round(scores[m], 4), m == "hybrid"))


def precedent_winner(rows: Sequence[dict[str, Any]]) -> str | None:
    """Precedent method with the best mean of the three labels (queries without header)."""
    prec = [r for r in rows if r.get("task") == "précédents" and r.get("header") is False]
    if not prec:
        return None

    def score(r: dict[str, Any]) -> float:
        return mean([r.get(k, 0.0) for k in ("p@5_sym2", "serious_agree", "age_agree", "p@5_picture")])

    return max(prec, key=lambda r: (round(score(r), 4), r["method"] == "hybrid"))["method"]  # type: ignore[no-any-return]


def evaluate(config: RetrievalConfig, corpora_dir: Path, split: str = "test", limit: int | None = None,
             sets: Sequence[str] | None = None,
             log: Callable[[str], None] | None = None, serious_hint: SeriousHint | None = None) -> EvalResult:
    """Build the evaluation indexes (cached) and score lexical, dense and hybrid on one split."""
    from corpora.errors import InputError

    if split not in ("dev", "test"):
        raise InputError(f"Moitié inconnue : « {split} » (attendu : dev ou test).")
    sets = tuple(sets or EVAL_SETS)
    unknown = [s for s in sets if s not in EVAL_SETS]
    if unknown:
        raise InputError(f"Jeu d'évaluation inconnu : {', '.join(unknown)} (disponibles : {', '.join(EVAL_SETS)}).")
    limit = limit or DEFAULT_QUERIES
    if limit < 1:
        raise InputError("--limit doit être un entier positif.")
    builders = {"vaers": vaers_set, "has": has_set, "crosslingual": crosslingual_set}
    result = EvalResult()
    embedder = get_embedder(config.embedder, threads=config.threads)
    for name in sets:
        if log:
            log(f"Préparation du jeu « {name} »…")
        eval_set = builders[name](corpora_dir, limit)
        cfg = _index(config, eval_set, log)
        cache = EmbeddingCache(cfg.embedder_cache_dir, embedder)
        try:
            with Retriever.open(cfg, embedder=CachingEmbedder(cache)) as retriever:
                result.rows.extend(run_set(cfg, eval_set, split, retriever, serious_hint))
        finally:
            cache.close()
    result.winner = winner(result.rows)
    result.markdown = (
        f"## Évaluation de la recherche (moitié {split}, {limit} requêtes au plus par jeu)\n\n"
        + markdown_table(result.rows)
        + f"\n\nMéthode gagnante (nDCG@10 moyen, recherche) : **{result.winner}**.\n"
    )
    best = precedent_winner(result.rows)
    if best:
        result.markdown += (f"Précédents : meilleure méthode sur cette moitié (moyenne des quatre étiquettes, sans "
                            f"en-tête) : **{best}**.\n")
    return result
