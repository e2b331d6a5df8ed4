"""Structured facts of the document store, for answers whose categorical values come from data fields.

:class:`FactBase` is read once from the document store behind ``gdr index show`` (metadata only:
BDPM products, HAS SMR/ASMR opinions, ANSM thesaurus interactions, EMA referrals, DHPCs, PSUSAs…),
so every fact it gives can be cited by a stored passage. :meth:`FactBase.link` finds product
(brand) and substance names in a question, accents and case ignored, French or English INN.
:func:`cite` turns a document id and the words of the fact into a verified :class:`Hit`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from corpora.model import Hit
from corpora.normalise import fold, normalise_substance
from retrieval.stores.docstore import DocStore

PRODUCT_SOURCES = ("bdpm",)
OPINION_SOURCES = ("has-smr", "has-asmr")
INTERACTION_SOURCES = ("ansm-interaction",)
EMA_SOURCES = ("ema-referral", "ema-dhpc", "ema-psusa", "ema-postauth", "ema-orphan", "ema-shortage", "ema-epar")
FACT_SOURCES = PRODUCT_SOURCES + OPINION_SOURCES + INTERACTION_SOURCES + EMA_SOURCES

_WORD = re.compile(r"[a-z0-9]+(?:[-/][a-z0-9]+)*")
MAX_NGRAM = 4
MIN_NAME = 4


@dataclass(frozen=True, slots=True)
class Product:
    cis: str
    name: str
    doc_id: str
    brand: str
    substances: tuple[str, ...]
    keys: tuple[str, ...]
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Opinion:
    doc_id: str
    kind: str  # smr | asmr
    cis: str
    level: str | None
    date: str
    motif: str | None
    product: str | None


@dataclass(frozen=True, slots=True)
class Item:
    """A document of another fact source (interaction, EMA procedure) with its metadata."""

    doc_id: str
    source: str
    title: str
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Entity:
    """A product (brand) or substance named in a message."""

    kind: str  # product | substance
    label: str
    start: int
    end: int
    cis: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # substance keys (normalise_substance)


def fold_same_length(text: str) -> str:
    """Lowercase, accents stripped, one character for one character (offsets stay valid)."""
    out = []
    for c in text:
        base = unicodedata.normalize("NFKD", c)[:1] or c
        low = base.lower()
        out.append(low[0] if len(low) == 1 else base)
    return "".join(out).replace("’", "'")


def xkey(name: str) -> str:
    """Cross-language key of a substance (``acide tranexamique`` ~ ``tranexamic acid``)."""
    from classifier.knowledge_base import match_key

    return match_key(name)


def brand_of(name: str) -> str:
    """``"DOLIPRANE 1000 mg, comprimé"`` → ``"doliprane"``: the name before its dose and form, folded."""
    head = fold(name).split(",")[0]
    words = []
    for w in head.split():
        if any(c.isdigit() for c in w):
            break
        words.append(w)
    return " ".join(words).strip(" -/")


def _split_bar(value: Any) -> list[str]:
    return [v for v in str(value or "").strip("|").split("|") if v]


@dataclass
class FactBase:
    """Facts indexed by product and substance; built by :meth:`load` from a document store."""

    products: dict[str, Product] = field(default_factory=dict)
    brands: dict[str, list[str]] = field(default_factory=dict)  # folded brand → CIS
    by_key: dict[str, list[str]] = field(default_factory=dict)  # substance key → CIS
    substance_names: dict[str, str] = field(default_factory=dict)  # key → display
    xkeys: dict[str, set[str]] = field(default_factory=dict)  # cross-language key → substance keys
    opinions: dict[str, list[Opinion]] = field(default_factory=dict)  # CIS → opinions, latest first
    interactions: list[Item] = field(default_factory=list)
    ema: dict[str, list[Item]] = field(default_factory=dict)  # cross-language key → EMA documents
    stopwords: frozenset[str] = frozenset()
    # True once one product carries an availability status: the BDPM availability file was loaded, so
    # a product without one is not reported in shortage (without the file, nothing can be said)
    shortage_known: bool = False
    _ansm: Any = None

    @property
    def empty(self) -> bool:
        return not (self.products or self.interactions or self.ema)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, store: DocStore, stopwords: Iterable[str] = (), classes: dict[str, tuple[str, ...]] | None = None
             ) -> FactBase:
        fb = cls(stopwords=frozenset(fold(w) for w in stopwords))
        for doc_id, source, title, meta in store.iter_metadata(FACT_SOURCES):
            if source == "bdpm":
                fb._add_product(doc_id, title, meta)
            elif source in OPINION_SOURCES:
                cis = str(meta.get("cis") or "")
                fb.opinions.setdefault(cis, []).append(Opinion(
                    doc_id=doc_id, kind="smr" if source == "has-smr" else "asmr", cis=cis, level=meta.get("level"),
                    date=str(meta.get("date") or ""), motif=meta.get("motif"), product=meta.get("product_name")))
            elif source in INTERACTION_SOURCES:
                item = Item(doc_id, source, title, meta)
                fb.interactions.append(item)
                for name in (meta.get("main"), meta.get("plus")):
                    if name:
                        fb._add_substance(str(name))
            else:
                item = Item(doc_id, source, title, meta)
                for name in _split_bar(meta.get("substances")):
                    fb.ema.setdefault(xkey(name), []).append(item)
                    fb._add_substance(name)
        fb._add_first_words()
        for ops in fb.opinions.values():
            ops.sort(key=lambda o: (o.date, o.doc_id), reverse=True)
        fb._classes = classes or {}
        return fb

    _classes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def _add_substance(self, name: str) -> str:
        key = normalise_substance(name)
        if key:
            self.substance_names.setdefault(key, name.lower())
            self.xkeys.setdefault(xkey(name), set()).add(key)
        return key

    def _add_product(self, doc_id: str, title: str, meta: dict[str, Any]) -> None:
        cis = str(meta.get("cis") or doc_id.split(":", 1)[-1])
        names = _split_bar(meta.get("substance_names"))
        keys = tuple(k for k in (self._add_substance(n) for n in names) if k)
        brand = brand_of(title)
        product = Product(cis, title, doc_id, brand, tuple(names), keys, meta)
        self.products[cis] = product
        self.shortage_known = self.shortage_known or bool(meta.get("shortage_status"))
        for key in keys:
            self.by_key.setdefault(key, []).append(cis)
        if len(brand) >= MIN_NAME and brand not in self.stopwords:
            self.brands.setdefault(brand, []).append(cis)

    def _add_first_words(self) -> None:
        """A brand's first word names it too (« DOLIPRANE » for « DOLIPRANE CODEINE »), unless it is a
        substance or a word of the pharmaceutical forms (« SUPPOSITOIRE A LA GLYCERINE »: « suppositoire »),
        the words after the comma of the product names. Run once every product is loaded."""
        forms = {w for p in self.products.values() for w in _WORD.findall(fold(p.name).partition(",")[2])}
        for cis, p in self.products.items():
            first = p.brand.split()[0] if p.brand else ""
            if (first != p.brand and len(first) >= MIN_NAME and p.brand in self.brands
                    and normalise_substance(first) not in self.by_key and first not in forms):
                self.brands.setdefault(first, []).append(cis)

    # ------------------------------------------------------------------ entity linking
    def link(self, text: str) -> list[Entity]:
        """Products and substances named in ``text`` (longest match first, no overlap)."""
        folded = fold_same_length(text)
        words = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(folded)]
        taken = [False] * len(words)
        found: list[Entity] = []
        for n in range(MAX_NGRAM, 0, -1):
            for i in range(len(words) - n + 1):
                if any(taken[i:i + n]):
                    continue
                part = words[i:i + n]
                phrase = " ".join(w for w, _, _ in part)
                if len(phrase) < 3 or part[0][0] in self.stopwords or part[-1][0] in self.stopwords:
                    continue
                entity = self._entity(phrase, text, part[0][1], part[-1][2])
                if entity is not None:
                    found.append(entity)
                    for j in range(i, i + n):
                        taken[j] = True
        found.sort(key=lambda e: e.start)
        return found

    def _entity(self, phrase: str, text: str, start: int, end: int) -> Entity | None:
        label = text[start:end]
        key = normalise_substance(phrase)
        if len(phrase) < MIN_NAME and key not in self.by_key:  # short names: exact BDPM substances only ("fer")
            return None
        if key in self.substance_names and phrase not in self.stopwords:
            keys = tuple(sorted(self.xkeys.get(xkey(phrase), set()) | {key}))
            return Entity("substance", label, start, end, tuple(c for k in keys for c in self.by_key.get(k, [])), keys)
        if phrase in self.brands:
            cis = tuple(self.brands[phrase])
            keys = tuple(dict.fromkeys(k for c in cis for k in self.products[c].keys))
            return Entity("product", label, start, end, cis, keys)
        xk = xkey(phrase)
        if len(xk) >= MIN_NAME and xk in self.xkeys and phrase not in self.stopwords:
            keys = tuple(sorted(self.xkeys[xk]))
            return Entity("substance", label, start, end, tuple(c for k in keys for c in self.by_key.get(k, [])), keys)
        return None

    def narrowed(self, entity: Entity, text: str, named: Sequence[Entity] = ()) -> Entity:
        """The entity kept to its products whose names share the most words of ``text`` besides the names
        themselves (dosage, form: « Doliprane 1000 mg comprimé »); unchanged when no product name shares one."""
        taken = {w for e in (entity, *named) for w in _WORD.findall(fold(e.label))}
        asked = {w for w in _WORD.findall(fold(text))
                 if w not in taken and w not in self.stopwords and (w.isdigit() or len(w) >= 3)}
        scores = {c: len(asked & set(_WORD.findall(fold(self.products[c].name))))
                  for c in entity.cis if c in self.products}
        best = max(scores.values(), default=0)
        if best == 0:
            return entity
        return replace(entity, cis=tuple(c for c in entity.cis if scores.get(c) == best))

    def display(self, entity: Entity) -> str:
        """The name to write in an answer: the brand in capitals, or the substance as in the sources."""
        if entity.kind == "product" and entity.cis:
            return self.products[entity.cis[0]].brand.upper()
        return self.substance_names.get(entity.keys[0], entity.label) if entity.keys else entity.label

    # ------------------------------------------------------------------ lookups
    def opinions_for(self, entity: Entity, kind: str) -> list[Opinion]:
        """HAS opinions of ``kind`` for the entity's products, latest first."""
        out = [op for cis in dict.fromkeys(entity.cis) for op in self.opinions.get(cis, []) if op.kind == kind]
        return sorted(out, key=lambda o: (o.date, o.doc_id), reverse=True)

    def products_for(self, entity: Entity) -> list[Product]:
        return [self.products[c] for c in dict.fromkeys(entity.cis) if c in self.products]

    def ema_for(self, entity: Entity, sources: Sequence[str]) -> list[Item]:
        keys = {xkey(self.substance_names.get(k, k)) for k in entity.keys} | {xkey(entity.label)}
        seen: dict[str, Item] = {}
        for k in keys:
            for item in self.ema.get(k, []):
                if item.source in sources:
                    seen.setdefault(item.doc_id, item)
        return sorted(seen.values(), key=lambda it: (str(it.meta.get("received_at") or ""), it.doc_id), reverse=True)

    def ema_named_in(self, text: str, sources: Sequence[str]) -> list[Item]:
        """EMA documents whose whole substance name is written in ``text`` (long names, no linking)."""
        folded = fold_same_length(text)
        found: dict[str, Item] = {}
        for items in self.ema.values():
            for item in items:
                if item.source not in sources:
                    continue
                for name in _split_bar(item.meta.get("substances")):
                    if len(name) >= 12 and fold_same_length(name) in folded:
                        found.setdefault(item.doc_id, item)
        return sorted(found.values(), key=lambda it: (str(it.meta.get("received_at") or ""), it.doc_id), reverse=True)

    def interaction_index(self) -> Any:
        if self._ansm is None:
            from corpora.loaders.ansm import Interaction, InteractionIndex, level_key

            items = []
            for it in self.interactions:
                main, plus = str(it.meta.get("main") or ""), str(it.meta.get("plus") or "")
                levels = tuple((k, None) for k in (level_key(x) for x in _split_bar(it.meta.get("levels"))) if k)
                if not levels:
                    k = level_key(str(it.meta.get("level") or ""))
                    levels = ((k, None),) if k else ()
                if main and plus and levels:
                    items.append(Interaction(native_id=it.doc_id.split(":", 1)[1], main=main, plus=plus,
                                             main_key=normalise_substance(main), plus_key=normalise_substance(plus),
                                             note=None, levels=levels, mechanism=None))
            self._ansm = InteractionIndex(items, self._classes)
        return self._ansm

    def names_for(self, entity: Entity) -> list[str]:
        """Substance names under which the thesaurus may list the entity."""
        return [self.substance_names.get(k, k) for k in entity.keys] or [entity.label]

    def interactions_between(self, a: Entity, b: Entity) -> list[Any]:
        """Thesaurus entries between the two entities (their substances or classes), one per pair."""
        index = self.interaction_index()
        found: dict[frozenset[str], Any] = {}
        for x in self.names_for(a):
            for y in self.names_for(b):
                for it in index.interactions_between(x, y):
                    found.setdefault(frozenset((it.main_key, it.plus_key)), it)
        return list(found.values())

    def interactions_of(self, a: Entity) -> list[Any]:
        """Every thesaurus entry naming the entity's substances or classes, one per pair."""
        index = self.interaction_index()
        found: dict[frozenset[str], Any] = {}
        for x in self.names_for(a):
            for key in index.keys_for(x):
                for it in index._by_key.get(key, []):
                    found.setdefault(frozenset((it.main_key, it.plus_key)), it)
        return list(found.values())


# ---------------------------------------------------------------------- citations

def _line_span(text: str, needles: Sequence[str]) -> tuple[int, int] | None:
    """Span of the line (or sentence, for one-line documents) of ``text`` holding every needle, else the first."""
    folded = fold_same_length(text)
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if len(line) > 400:
            # one long line: split into sentences ". "
            s = start
            for m in re.finditer(r"\. (?=[A-Z0-9])", line):
                spans.append((s, start + m.start() + 1))
                s = start + m.end()
            spans.append((s, end))
        elif line.strip():
            spans.append((start, end))
    wanted = [fold_same_length(n) for n in needles if n]
    for require_all in (True, False):
        for s, e in spans:
            chunk = folded[s:e]
            hits = [n in chunk for n in wanted]
            if wanted and (all(hits) if require_all else any(hits)):
                return s, e
    return None


def cite(store: DocStore, doc_id: str, needles: Sequence[str], whole: bool = False) -> Hit | None:
    """A :class:`Hit` on the stored document ``doc_id``: the line holding ``needles`` (or the whole text).

    ``None`` when the document is not in the store or no line holds any needle: a fact that cannot be
    cited is not stated.
    """
    doc = store.get(doc_id)
    if doc is None:
        return None
    if whole or not needles:
        span: tuple[int, int] | None = (0, min(len(doc.text), 600))
    else:
        span = _line_span(doc.text, needles)
    if span is None:
        return None
    start, end = span
    n = 0
    for row in store.db.execute('SELECT n, start, "end" FROM chunks WHERE document_id = ? ORDER BY n', (doc_id,)):
        if int(row[1]) <= start < int(row[2]):
            n = int(row[0])
            break
    return Hit(id=f"{doc_id}#{n}", document_id=doc_id, source=doc.source, kind=doc.kind, title=doc.title,
               score=1.0, similarity=1.0, start=start, end=end, excerpt=doc.text[start:end], outcome=doc.outcome)


def verify(store: DocStore, hit: Hit | dict[str, Any]) -> Hit | None:
    """The hit if its document is stored and ``excerpt == text[start:end]``; else ``None``."""
    h = hit if isinstance(hit, Hit) else Hit.model_validate(hit)
    doc = store.get(h.document_id)
    if doc is None or doc.text[h.start:h.end] != h.excerpt or not h.excerpt.strip():
        return None
    return h


def load_classes(corpora_dir: Path | None) -> dict[str, tuple[str, ...]]:
    """Thesaurus classes of each substance (ANSM index file) when the real corpora are present."""
    if corpora_dir is None:
        return {}
    from corpora.loaders.ansm import INDEX_GLOB, load_substance_index

    paths = sorted((Path(corpora_dir) / "ansm_interactions").glob(INDEX_GLOB))
    return load_substance_index(paths[-1]) if paths else {}


def group_by(items: Iterable[Any], key: Any) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for it in items:
        out[key(it)].append(it)
    return out
