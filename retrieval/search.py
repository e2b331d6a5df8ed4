"""Hybrid search, precedents and guidelines over a built index.

``Retriever.open(config)`` loads the lexical index and the facets, opens the document store and
(lazily) Chroma and the embedder. Every result is a :class:`corpora.model.Hit` whose ``excerpt``
is exactly ``text[start:end]`` of the stored document.

Scores: ``score`` is higher-is-better (RRF for hybrid, cosine for dense, BM25 for lexical).
``similarity`` is in [0, 1]: the cosine similarity when the passage has a vector, else the BM25
score squashed as ``s / (s + 10)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from corpora.errors import GdrError, InputError, InputTooLarge, NotFound, StoreError
from corpora.model import Document, Dossier, Hit
from corpora.normalise import fr_int
from retrieval.analysis import analyze, analyze_query
from retrieval.config import MAX_QUERY_CHARS, RetrievalConfig
from retrieval.embeddings import Embedder, embed_queries, get_embedder
from retrieval.facets import FACET_ALIASES, FACETS, _bool, document_facets, fingerprint, norm_code, norm_word
from retrieval.fusion import collapse, jaccard, rrf, rrf_impute
from retrieval.stores.docstore import DocStore, StoredDocument
from retrieval.stores.lexical import LexicalIndex, code_tokens
from retrieval.stores.vector import VectorStore, check_compatible, open_vector_store

METHODS = ("hybrid", "dense", "lexical")
MAX_K = 100
CANDIDATES = 200
LEXICAL_REL_FLOOR = 0.05

# Which documents can be precedents of a dossier of each type.
PRECEDENT_KINDS = ("case", "trial", "opinion")


@dataclass
class PrecedentWeights:
    """Weights of the rankings fused for precedents (tuned on the dev half of the evaluation)."""

    codes: float = 3.0
    text: float = 1.0
    dense: float = 1.0
    # Code ranking: each coded reaction shared with the dossier adds this many times the best code
    # score, so that precedents with the same reactions come first (tuned on the dev half).
    shared_symptom: float = 1.0
    # The narrowing steps, in order, each kept only while at least k candidates remain (a step left out is
    # never applied; "substance" is available, off by default). "symptoms2" keeps the documents sharing
    # at least two coded reactions with the dossier: a same-vaccine, same-seriousness
    # precedent with the same reactions beats one of the same age band with one reaction in common.
    # Chosen on 500 dev queries, k = 5 (P@5 on ≥ 2 shared symptoms / seriousness agreement / same age
    # band): vaccine, age, seriousness, one reaction (the previous order) 0.651 / 0.952 / 0.998; this
    # order 0.707 / 0.952 / 0.946 (the largest smallest margin over the targets 0.65 / 0.95 / 0.90).
    order: tuple[str, ...] = ("vaccine_type", "serious", "symptoms2", "age_band", "symptom")


@dataclass
class _Candidate:
    rows: list[int] = field(default_factory=list)
    lexical: dict[int, float] = field(default_factory=dict)
    dense: dict[int, float] = field(default_factory=dict)


def check_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise InputError("La requête est vide : donnez quelques mots à rechercher.")
    if len(query) > MAX_QUERY_CHARS:
        raise InputTooLarge(
            f"Requête trop longue : {fr_int(len(query))} caractères (maximum {fr_int(MAX_QUERY_CHARS)}). "
            "Raccourcissez-la ou résumez le dossier."
        )
    return query.strip()


def normalise_filters(filters: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Filter keys checked and canonicalised (French aliases accepted), values as lists of strings."""
    out: dict[str, list[str]] = {}
    for raw_key, value in (filters or {}).items():
        key = FACET_ALIASES.get(raw_key.strip().lower(), raw_key.strip().lower())
        if key not in FACETS:
            raise InputError(
                f"Filtre inconnu : « {raw_key} ». Filtres possibles : {', '.join(sorted(FACETS))}."
            )
        values = value if isinstance(value, list | tuple | set) else [value]
        cleaned = [str(v).strip() for v in values if v is not None and str(v).strip()]
        if not cleaned:
            raise InputError(f"Le filtre « {raw_key} » n'a pas de valeur.")
        out.setdefault(key, []).extend(cleaned)
    return out


def parse_where(items: Sequence[str]) -> dict[str, list[str]]:
    """``["key=value", ...]`` → filters; malformed items and unknown keys are refused in French."""
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"Filtre mal formé : « {item} ». Utilisez --where clé=valeur (ex. --where year=2004).")
        filters.setdefault(key.strip(), []).append(value.strip())
    return normalise_filters(filters)


def doc_mask(lex: LexicalIndex, filters: Mapping[str, list[str]]) -> np.ndarray | None:
    """Boolean mask over documents for the filters (values of one key are OR-ed, keys AND-ed)."""
    if not filters:
        return None
    mask = np.ones(lex.n_docs, dtype=bool)
    for key, values in filters.items():
        kind = FACETS[key]
        col = lex.table.columns[key]
        m = np.zeros(lex.n_docs, dtype=bool)
        for value in values:
            if kind == "list":
                rows = col.get(norm_word(value)) if key != "vaccine_type" else col.get(norm_code(value))
                if key == "substance" and rows is None:
                    from corpora.normalise import normalise_substance

                    rows = col.get(normalise_substance(value))
                if rows is not None:
                    m[rows] = True
            elif kind == "code":
                prefix = norm_code(value)
                for code, rows in col.items():
                    if code.startswith(prefix):
                        m[rows] = True
            elif kind == "str":
                codes, cats = col
                wanted = norm_word(value) if key == "status" else value.strip()
                for i, cat in enumerate(cats):
                    if cat.lower() == wanted.lower():
                        m |= codes == i
            elif kind == "bool":
                b = _bool(value)
                if b is None:
                    raise InputError(f"Valeur invalide pour « {key} » : « {value} » (attendu : oui ou non).")
                m |= col == int(b)
            else:
                try:
                    m |= col == int(value)
                except ValueError:
                    raise InputError(f"Valeur invalide pour « {key} » : « {value} » (attendu : un nombre).") from None
        mask &= m
    return mask


def _squash(score: float) -> float:
    return float(score / (score + 10.0)) if score > 0 else 0.0


def _top(scores: np.ndarray, n: int) -> list[int]:
    positive = np.flatnonzero(scores > 0)
    if positive.size == 0:
        return []
    if positive.size > n:
        part = np.argpartition(-scores[positive], n - 1)[:n]
        positive = positive[part]
    order = np.lexsort((positive, -scores[positive]))
    return [int(i) for i in positive[order]]


def precedent_query(dossier: Dossier) -> str:
    """The text a dossier's precedents are searched with."""
    return f"{dossier.title}\n{dossier.text}"[:MAX_QUERY_CHARS]


class Retriever:
    """Search over an index built by :func:`retrieval.indexing.build_index`."""

    def __init__(self, config: RetrievalConfig, lexical: LexicalIndex, store: DocStore,
                 embedder: Embedder | None = None) -> None:
        self.config = config
        self.lexical = lexical
        self.store = store
        self._embedder = embedder
        self._vectors: VectorStore | None = None
        self._vectors_checked = False
        self.precedent_weights = PrecedentWeights()

    # -- lifecycle
    @classmethod
    def open(cls, config: RetrievalConfig, embedder: Embedder | None = None) -> Retriever:
        """Open the index under ``config.data_dir``; a missing or corrupted index is a StoreError."""
        if not config.index_dir.exists():
            raise StoreError(
                f"Index introuvable : {config.index_dir}. Construisez-le d'abord avec « gdr index build »."
            )
        store = DocStore(config.docstore_path)
        try:
            meta = store.get_meta()
            name = embedder.name if embedder is not None else config.embedder
            check_compatible({"embedder": meta.get("embedder"), "dim": None}, name, 0, f"({config.index_dir})")
            lexical = LexicalIndex.load(config.lexical_dir)
        except BaseException:
            store.close()
            raise
        return cls(config, lexical, store, embedder)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Retriever:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.config.embedder, threads=self.config.threads)
        return self._embedder

    @property
    def has_vectors(self) -> bool:
        return bool(self.lexical.chunk_dense.any())

    def vectors(self) -> VectorStore:
        if self._vectors is None:
            self._vectors = open_vector_store(self.config, self.embedder.name, self.embedder.dim, create=False)
        return self._vectors

    # -- building blocks
    def _lexical(self, tokens: list[str], chunk_mask: np.ndarray | None, n: int) -> dict[int, float]:
        scores = self.lexical.text_scores(tokens)
        if chunk_mask is not None:
            scores = np.where(chunk_mask, scores, 0.0)
        top = _top(scores, n)
        if not top:
            return {}
        # Drop passages matched only by near-ubiquitous words (a tiny fraction of the best score).
        floor = LEXICAL_REL_FLOOR * float(scores[top[0]])
        return {row: float(scores[row]) for row in top if scores[row] >= floor}

    def _dense(self, query: str, chunk_mask: np.ndarray | None, n: int,
               vector: np.ndarray | None = None) -> dict[int, float]:
        if not self.has_vectors:
            return {}
        qv = vector if vector is not None else self.embedder.embed_query(query)
        return self._dense_vec(qv, chunk_mask, n)

    def _dense_vec(self, qv: np.ndarray, chunk_mask: np.ndarray | None, n: int) -> dict[int, float]:
        store = self.vectors()
        if chunk_mask is None:
            found = store.query(qv, n)
        else:
            allowed = np.flatnonzero(chunk_mask & self.lexical.chunk_dense)
            if allowed.size == 0:
                return {}
            found = store.query(qv, n, ids=[self.lexical.chunk_id(int(r)) for r in allowed])
        out: dict[int, float] = {}
        for cid, sim in found:
            row = self.lexical.chunk_row(cid)
            if row is not None and (chunk_mask is None or chunk_mask[row]):
                out[row] = sim
        return out

    def _fuse(self, lexical: dict[int, float], dense: dict[int, float], method: str,
              weights: tuple[float, float] = (1.0, 1.0)) -> list[tuple[int, float]]:
        if method == "lexical":
            return sorted(lexical.items(), key=lambda kv: (-kv[1], kv[0]))
        if method == "dense":
            return sorted(dense.items(), key=lambda kv: (-kv[1], kv[0]))
        fused = rrf_impute(list(lexical), list(dense), self.lexical.chunk_dense, k=self.config.rrf_k,
                           weights=weights)
        return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))

    def _hits(self, ranked_rows: list[tuple[int, float]], k: int, lexical: dict[int, float],
              dense: dict[int, float], exclude: set[str] | None = None,
              exclude_tokens: frozenset[str] | None = None, exclude_print: str | None = None) -> list[Hit]:
        """Resolve rows to hits: one per document, near-duplicates collapsed."""
        pool = ranked_rows[: max(k * 4, 40)]
        doc_ids = list(dict.fromkeys(self.lexical.table.doc_ids[self.lexical.chunk_doc[r]] for r, _ in pool))
        docs = self.store.get_many(doc_ids)
        tokens: dict[int, frozenset[str]] = {}
        group: dict[int, str] = {}
        prints: dict[int, str] = {}
        for r, _ in pool:
            d = docs.get(self.lexical.table.doc_ids[self.lexical.chunk_doc[r]])
            if d is None:
                continue
            group[r] = d.id
            prints[r] = d.fingerprint
            tokens[r] = frozenset(analyze(d.text, d.language))
        rows = [r for r, _ in pool if r in group]
        if exclude or exclude_tokens is not None or exclude_print:
            rows = [r for r in rows
                    if group[r] not in (exclude or set())
                    and prints[r] != exclude_print
                    and not (exclude_tokens is not None and len(exclude_tokens) >= 5 and len(tokens[r]) >= 5
                             and jaccard(tokens[r], exclude_tokens) >= 0.9)]
        kept = collapse(rows, group, prints, tokens)[:k]
        scores = dict(pool)
        hits = []
        for r in kept:
            d = docs[group[r]]
            n = int(self.lexical.chunk_n[r])
            start, end = self._offsets(d, n)
            sim = dense.get(r)
            similarity = min(1.0, max(0.0, sim)) if sim is not None else _squash(lexical.get(r, 0.0))
            hits.append(Hit(
                id=f"{d.id}#{n}", document_id=d.id, source=d.source, kind=d.kind, title=d.title,
                score=float(scores[r]), similarity=similarity, start=start, end=end,
                excerpt=d.text[start:end], outcome=d.outcome,
            ))
        return hits

    def _offsets(self, d: StoredDocument, n: int) -> tuple[int, int]:
        row = self.store.db.execute('SELECT start, "end" FROM chunks WHERE id = ?', (f"{d.id}#{n}",)).fetchone()
        if row is None:
            raise StoreError(f"Passage {d.id}#{n} absent de l'index : reconstruisez-le avec « gdr index build ».")
        return int(row[0]), int(row[1])

    def _method(self, method: str | None) -> str:
        method = method or self.config.default_method
        if method not in METHODS:
            raise InputError(f"Méthode inconnue : « {method} ». Méthodes possibles : {', '.join(METHODS)}.")
        if method == "dense" and not self.has_vectors:
            raise StoreError("L'index ne contient aucun vecteur : utilisez --method lexical ou reconstruisez-le.")
        return method

    # -- public API
    def search(self, query: str, k: int = 10, filters: Mapping[str, Any] | None = None,
               method: str | None = None, vector: np.ndarray | None = None) -> list[Hit]:
        """Hybrid (or dense, lexical) search with metadata filters; one hit per document.

        ``vector``: the query's vector when the caller already has it (batched lookups).
        """
        query = check_query(query)
        if not 1 <= k <= MAX_K:
            raise InputError(f"Le nombre de résultats (k) doit être compris entre 1 et {MAX_K} (reçu : {k}).")
        method = self._method(method)
        mask = doc_mask(self.lexical, normalise_filters(filters))
        chunk_mask = None if mask is None else mask[self.lexical.chunk_doc]
        n = max(CANDIDATES, k * 10)
        lexical = self._lexical(analyze_query(query), chunk_mask, n) if method != "dense" else {}
        dense = self._dense(query, chunk_mask, n, vector) if method != "lexical" else {}
        return self._hits(self._fuse(lexical, dense, method), k, lexical, dense)

    def find_guidelines(self, text: str, dossier_type: str | None = None, k: int = 3,
                        method: str | None = None, vector: np.ndarray | None = None) -> list[Hit]:
        """Passages of the référentiel (kind ``guideline``) closest to ``text``."""
        text = check_query(text[:MAX_QUERY_CHARS])
        if vector is None and self.has_vectors and self._method(method) != "lexical":
            vector = self.embedder.embed_query(text)  # one encoding for both searches below
        filters: dict[str, Any] = {"kind": "guideline"}
        hits: list[Hit] = []
        if dossier_type:
            hits = self.search(text, k=k, filters={**filters, "type": dossier_type}, method=method, vector=vector)
        if len(hits) < k:
            seen = {h.document_id for h in hits}
            more = self.search(text, k=k + len(hits), filters=filters, method=method, vector=vector)
            hits += [h for h in more if h.document_id not in seen][: k - len(hits)]
        return hits

    def get_document(self, document_id: str) -> Document:
        """The stored document (text, metadata, recorded outcome) of an id; NotFound otherwise."""
        d = self.store.get(document_id)
        if d is None:
            raise NotFound(f"Document introuvable dans l'index : « {document_id} ».")
        return Document(
            id=d.id, source=d.source, kind=d.kind, title=d.title, text=d.text, metadata=d.metadata,
            language=d.language, received_at=date.fromisoformat(d.received_at) if d.received_at else None,
            outcome=d.outcome,
        )

    def lookup_many(self, dossiers: Sequence[Dossier], k_precedents: int, k_guidelines: int,
                    serious: Sequence[bool | None] | None = None,
                    ) -> list[tuple[list[Hit], list[Hit]] | GdrError]:
        """Precedents and guidelines of several dossiers, their query vectors encoded in one batch.

        Same hits as :meth:`find_precedents` and :meth:`find_guidelines` one by one (``serious``: the
        seriousness known at intake of each dossier, see :meth:`find_precedents`); a dossier whose
        lookup fails gets its domain error in its place.
        """
        precedent_texts = [precedent_query(d) for d in dossiers]
        guideline_texts = [(d.text or d.title)[:MAX_QUERY_CHARS].strip() for d in dossiers]
        # Encode only the queries a dense ranking will read: lexical precedents (the default) need no vector,
        # which halves the encoder's work per dossier.
        dense_precedents = self.has_vectors and self.config.precedent_method != "lexical"
        dense_guidelines = self.has_vectors and self.config.default_method != "lexical"
        queries = ([t if dense_precedents else "" for t in precedent_texts]
                   + [t if dense_guidelines else "" for t in guideline_texts])
        vectors: np.ndarray | None = None
        texts = [t for t in queries if t.strip()]
        if texts:
            encoded = iter(embed_queries(self.embedder, texts))
            vectors = np.stack([next(encoded) if t.strip() else np.zeros(self.embedder.dim, dtype=np.float32)
                                for t in queries])
        out: list[tuple[list[Hit], list[Hit]] | GdrError] = []
        for i, d in enumerate(dossiers):
            try:
                pv = vectors[i] if vectors is not None and queries[i].strip() else None
                gv = vectors[len(dossiers) + i] if vectors is not None and queries[len(dossiers) + i].strip() else None
                out.append((self.find_precedents(d, k=k_precedents, vector=pv,
                                                 serious=serious[i] if serious is not None else None),
                            self.find_guidelines(guideline_texts[i], dossier_type=d.type, k=k_guidelines,
                                                 vector=gv)))
            except GdrError as exc:
                out.append(exc)
        return out

    def find_precedents(self, dossier: Dossier, k: int = 5, method: str | None = None,
                        weights: PrecedentWeights | None = None, serious: bool | None = None,
                        vector: np.ndarray | None = None) -> list[Hit]:
        """Past dossiers of the same type most similar to ``dossier``, with their recorded outcome.

        Similarity fuses (weighted RRF) three rankings: BM25 over structured codes (vaccine types,
        coded symptoms, substances, ATC levels, age band, sex), BM25 over words, and (for documents
        with vectors) dense similarity. Candidates share the dossier's type and were received strictly
        before it; then, in the order of ``weights.order`` and as long as at least ``k`` remain: a
        vaccine type, the seriousness known at intake (``serious``: declared by the reporter or read in
        the narrative by the caller, never the dossier's recorded outcome), two coded reactions, the
        age band, a coded reaction. A PV dossier without structured vaccine types is narrowed to the
        vaccines its text names (:mod:`retrieval.vaccines`). The dossier itself and its near-duplicates
        are never returned.
        """
        if not 1 <= k <= MAX_K:
            raise InputError(f"Le nombre de résultats (k) doit être compris entre 1 et {MAX_K} (reçu : {k}).")
        w = weights or self.precedent_weights
        method = self._method(method or self.config.precedent_method)
        lex = self.lexical
        f = dossier.fields
        products = [p.model_dump() for p in (f.products or [])]
        facets = document_facets(
            dossier.source, "case", dossier.language, dossier.received_at,
            {"vaccine_types": f.vaccine_types, "symptoms": f.symptoms, "substances": f.substances,
             "atc_codes": f.atc_codes, "age": f.patient_age, "sex": f.patient_sex, "products": products,
             "inn": f.inn},
            None,
        )
        mask = doc_mask(lex, {"type": [dossier.type]})
        assert mask is not None
        kinds = doc_mask(lex, {"kind": list(PRECEDENT_KINDS)})
        assert kinds is not None
        mask &= kinds
        if dossier.received_at is not None:
            mask &= (lex.table.received >= 0) & (lex.table.received < dossier.received_at.toordinal())
        self_row = lex.doc_row.get(dossier.id)
        if self_row is not None:
            mask[self_row] = False
        # Narrow to documents sharing a vaccine type, the seriousness, two coded reactions… as long as
        # enough candidates remain: a precedent of the same product and reactions comes first.
        facets["serious"] = [] if serious is None else ["oui" if serious else "non"]
        narrowing = facets
        if not facets.get("vaccine_type") and dossier.type == "pv":
            # a narrative without structured vaccine types: the vaccines its text names (« vaccin contre la
            # grippe »), as the index's codes, narrow the candidates; they stay out of the code ranking,
            # which on the vaccine alone would rank documents by how few codes they carry
            from retrieval.vaccines import vaccine_codes_named

            named = vaccine_codes_named(f"{dossier.title}\n{dossier.text}", lex.table.columns["vaccine_type"])
            if named:
                narrowing = {**facets, "vaccine_type": named}
        shared = np.zeros(lex.n_docs, dtype=np.float32)  # coded reactions shared with the dossier
        column = lex.table.columns["symptom"]
        for symptom in facets.get("symptom") or []:
            rows = column.get(symptom)
            if rows is not None:
                shared[rows] += 1.0
        for key in w.order:
            if key == "symptoms2":
                restricted = mask & (shared >= 2)
            else:
                values = narrowing.get(key) or []
                if isinstance(values, str):
                    values = [values]
                if not values:
                    continue
                restricted = mask & doc_mask(lex, {key: values})  # type: ignore[operator]
            if int(restricted.sum()) >= k:
                mask = restricted
        query_text = precedent_query(dossier)
        codes = code_tokens(facets)
        codes += [t for t in codes if t.startswith("v:")]  # vaccine types count twice
        code_scores = lex.code_scores(codes) if codes else np.zeros(lex.n_docs, dtype=np.float32)
        if w.shared_symptom and facets.get("symptom"):
            code_scores = code_scores + w.shared_symptom * float(code_scores.max() or 1.0) * shared
        code_scores = np.where(mask, code_scores, 0.0)
        chunk_mask = mask[lex.chunk_doc]
        n = max(CANDIDATES, k * 20)
        # Document-level code ranking, expressed on each document's first chunk.
        code_rank = [int(lex.doc_first_chunk[d]) for d in _top(code_scores, n)]
        lexical = self._lexical(analyze_query(query_text), chunk_mask, n) if method != "dense" else {}
        dense = {}
        if method != "lexical" and self.has_vectors and query_text.strip():
            dense = self._dense(query_text, chunk_mask, n, vector)
        rankings: list[list[int]] = [code_rank]
        wts = [w.codes]
        if lexical:
            rankings.append(list(lexical))
            wts.append(w.text)
        if dense:
            rankings.append(list(dense))
            wts.append(w.dense)
        fused = sorted(rrf(rankings, k=self.config.rrf_k, weights=wts).items(), key=lambda kv: (-kv[1], kv[0]))
        if not fused:
            return []
        own_tokens = frozenset(analyze(dossier.text, dossier.language)) if dossier.text else None
        return self._hits(fused, k, lexical, dense, exclude={dossier.id}, exclude_tokens=own_tokens,
                          exclude_print=fingerprint(dossier.title, dossier.text) if dossier.text else None)
