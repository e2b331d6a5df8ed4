"""The knowledge base of the context: facts the real corpora hold about each substance (I/O).

``build_knowledge_base(corpora_dir, cache_dir)`` reads BDPM, HAS, EMA JSON outputs, the ANSM
interaction thesaurus and VAERS once (through ``corpora.loaders``) and caches a compact JSON
file under ``cache_dir`` (no pickle). Each fact keeps the passage of its source document that
it cites (``excerpt == document.text[start:end]``) and its date, so that
:func:`classifier.context.gather_context` (pure) can leave out facts dated after a dossier's
reception. Facts that mirror the AMM outcome label (additional monitoring / *surveillance
renforcée*) carry ``outcome_related=True``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from classifier.extraction import Lexicon, bundled_lexicon

log = logging.getLogger(__name__)

KB_FORMAT = 2
MAX_FACTS_PER_CODE = 3
MANY_PRODUCTS = 30

# words dropped when building a cross-language matching key (salts, "acid", linking words)
_DROP = frozenset(
    """
    acide acid de d du des l la le sodium potassium calcium magnesium sodique potassique calcique
    magnesique semisodique semisodium disodique disodium hydrochloride chlorhydrate hydrate
    monohydrate dihydrate trihydrate anhydre base
    """.split()  # noqa: SIM905
)
_WORD = re.compile(r"[a-z0-9]+")


def match_key(name: str) -> str:
    """Cross-source, cross-language key of a substance name (INN French or English).

    ``"Acide valproïque"`` and ``"valproic acid"`` → ``"valproic"``; ``"amoxicilline"`` and
    ``"amoxicillin"`` → ``"amoxicillin"``; accents, case, salts and word order are ignored.
    """
    from corpora.normalise import fold, normalise_substance

    words = _WORD.findall(fold(normalise_substance(name) or name))
    kept = [w for w in words if w not in _DROP] or words
    out = []
    for w in kept:
        if w.endswith("ique"):
            w = w[:-4] + "ic"
        elif len(w) > 5 and w.endswith("ate"):  # salt/anion ↔ acid: valproate ~ valproic
            w = w[:-3] + "ic"
        elif len(w) > 4 and w.endswith("e"):
            w = w[:-1]
        out.append(w)
    return " ".join(sorted(out))


def brand_word(name: str) -> str | None:
    """First word of a product name, lower case without accents (``"Dépakine Chrono"`` → ``"depakine"``)."""
    from corpora.normalise import fold

    words = _WORD.findall(fold(name))
    return words[0] if words else None


@dataclass(slots=True)
class KnowledgeBase:
    """Compact, JSON-serialisable facts indexed by substance matching key."""

    facts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # key -> display name
    atc: dict[str, str] = field(default_factory=dict)
    brands: dict[str, list[str]] = field(default_factory=dict)  # folded brand word -> substance names
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # brand phrase -> name, substances
    interactions: list[dict[str, Any]] = field(default_factory=list)
    classes: dict[str, list[str]] = field(default_factory=dict)
    vaers: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # type -> year -> [n, serious]
    vaers_examples: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    _lexicon: Lexicon | None = None
    _ansm_index: Any = None
    _ansm_by_key: dict[str, list[str]] | None = None

    @property
    def empty(self) -> bool:
        return not (self.facts or self.interactions or self.vaers)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": KB_FORMAT, "facts": self.facts, "names": self.names, "atc": self.atc,
            "brands": self.brands, "products": self.products, "interactions": self.interactions,
            "classes": self.classes,
            "vaers": self.vaers, "vaers_examples": self.vaers_examples, "sources": self.sources,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KnowledgeBase:
        if data.get("format") != KB_FORMAT:
            raise ValueError("unsupported knowledge-base format")
        return cls(**{k: data.get(k) or type(getattr(cls(), k))() for k in (
            "facts", "names", "atc", "brands", "products", "interactions", "classes", "vaers", "vaers_examples",
            "sources")})

    def lexicon(self) -> Lexicon:
        """The bundled substance lexicon enlarged with every substance name of the corpora."""
        if self._lexicon is None:
            self._lexicon = bundled_lexicon().extended((n, self.atc.get(k)) for k, n in self.names.items())
        return self._lexicon

    def ansm_names(self, key: str) -> list[str]:
        """Thesaurus substance names with matching key ``key``."""
        if self._ansm_by_key is None:
            by: dict[str, list[str]] = {}
            for sub in self.classes:
                by.setdefault(match_key(sub), []).append(sub)
            for it in self.interactions:
                for name in (it["main"], it["plus"]):
                    k = match_key(name)
                    if name.lower() not in by.setdefault(k, []):
                        by[k].append(name.lower())
            self._ansm_by_key = by
        return self._ansm_by_key.get(key, [])

    def ansm_index(self) -> Any:
        if self._ansm_index is None:
            from corpora.loaders.ansm import Interaction, InteractionIndex

            items = [
                Interaction(native_id=i["native_id"], main=i["main"], plus=i["plus"], main_key=i["main_key"],
                            plus_key=i["plus_key"], note=i.get("note"),
                            levels=tuple((lv[0], lv[1]) for lv in i["levels"]), mechanism=i.get("mechanism"))
                for i in self.interactions
            ]
            self._ansm_index = InteractionIndex(items, {k: tuple(v) for k, v in self.classes.items()})
        return self._ansm_index


# --------------------------------------------------------------------------- building


def passage_span(text: str, needles: Iterable[str]) -> tuple[int, int]:
    """Span of the line or sentence of ``text`` holding the first needle found (else the first line)."""
    low = text.lower()
    for needle in needles:
        i = low.find(needle.lower())
        if i < 0:
            continue
        start = max(text.rfind("\n", 0, i) + 1, text.rfind(". ", 0, i) + 2 if text.rfind(". ", 0, i) >= 0 else 0)
        nl = text.find("\n", i)
        dot = text.find(". ", i + len(needle))
        ends = [x for x in (nl, dot + 1 if dot >= 0 else -1) if x >= 0]
        end = min(ends) if ends else len(text)
        return start, end
    ends = [x for x in (text.find("\n"), text.find(". ") + 1 if text.find(". ") >= 0 else -1) if x > 0]
    return 0, min([*ends, len(text), 300])


def _hit(doc: Any, needles: Iterable[str]) -> dict[str, Any]:
    start, end = passage_span(doc.text, needles)
    return {
        "id": f"{doc.id}#0", "document_id": doc.id, "source": doc.source, "kind": doc.kind, "title": doc.title,
        "score": 1.0, "similarity": 1.0, "start": start, "end": end, "excerpt": doc.text[start:end],
        "outcome": doc.outcome,
    }


class _Builder:
    def __init__(self) -> None:
        self.kb = KnowledgeBase()
        self.agg: dict[tuple[str, str], dict[str, Any]] = {}

    def name(self, display: str, atc: str | None = None) -> str:
        key = match_key(display)
        if key:
            self.kb.names.setdefault(key, display.lower())
            if atc:
                self.kb.atc.setdefault(key, atc)
        return key

    def add(self, key: str, code: str, fact: str, hit: dict[str, Any], substance: str,
            when: date | None = None, outcome_related: bool = False, count: int | None = None) -> None:
        """Keep at most MAX_FACTS_PER_CODE facts per (substance, code), most recent first."""
        rec: dict[str, Any] = {"code": code, "fact": fact, "hit": hit, "substance": substance,
               "date": when.isoformat() if when else None, "outcome_related": outcome_related}
        if count is not None:
            rec["count"] = count
        bucket = self.kb.facts.setdefault(key, [])
        same = [r for r in bucket if r["code"] == code]
        if any(r["hit"]["document_id"] == hit["document_id"] for r in same):
            return
        if len(same) < MAX_FACTS_PER_CODE:
            bucket.append(rec)
            return
        oldest = min(same, key=lambda r: r["date"] or "")
        if (rec["date"] or "") > (oldest["date"] or ""):
            bucket.remove(oldest)
            bucket.append(rec)


def _bdpm(b: _Builder, corpora_dir: Path) -> None:
    from corpora.loaders.bdpm import load_bdpm_index, product_to_document
    from corpora.loaders.has import load_has_index, opinion_to_document

    index = load_bdpm_index(corpora_dir / "bdpm")
    has = load_has_index(corpora_dir / "has") if (corpora_dir / "has").is_dir() else None
    from classifier.products import brand_index

    b.kb.products = brand_index((p.name, list(p.substance_keys)) for p in index.products.values())
    per_sub: dict[str, list[Any]] = defaultdict(list)
    for p in index.products.values():
        for s in p.substances:
            if s.key:
                per_sub[s.key].append(p)
        brand = brand_word(p.name)
        if brand and len(brand) >= 4 and p.substance_keys:
            lst = b.kb.brands.setdefault(brand, [])
            for k in p.substance_keys:
                if k not in lst:
                    lst.append(k)
    for sub, products in per_sub.items():
        key = b.name(sub, next((p.atc for p in products if p.atc), None))
        if not key:
            continue
        products.sort(key=lambda p: (p.status != "Autorisation active", p.name))
        first = product_to_document(products[0])
        commercial = sum(1 for p in products if (p.commercialisation or "").startswith("Commercialis"))
        b.add(key, "CTX_BDPM_PRODUCT",
              f"La BDPM recense {len(products)} spécialité(s) contenant {sub} (dont {commercial} "
              f"commercialisée(s)), par exemple {products[0].name} ({products[0].status or 'statut inconnu'}).",
              _hit(first, ["Substance(s) active(s)"]), sub, count=len(products))
        if len(products) >= MANY_PRODUCTS:
            b.add(key, "CTX_BDPM_MANY_PRODUCTS",
                  f"{sub} est présente dans {len(products)} spécialités de la BDPM : usage large probable.",
                  _hit(first, ["Substance(s) active(s)"]), sub, count=len(products))
        for code, pred, needles, sentence, related in (
            ("CTX_BDPM_SUSPENDED", lambda p: bool(re.search(r"suspendu|retir|abrog", p.status or "", re.I)),
             ["Statut de l'AMM"], "a une autorisation {status} dans la BDPM", False),
            ("CTX_SURVEILLANCE_RENFORCEE", lambda p: p.surveillance_renforcee is True,
             ["Surveillance renforcée"], "est sous surveillance renforcée (BDPM)", True),
            ("CTX_SHORTAGE", lambda p: p.shortage, ["rupture", "tension", "disponibilit"],
             "est signalée en {shortage} (BDPM)", False),
            ("CTX_PRESCRIPTION_RESTREINTE",
             lambda p: any(re.search(r"hospitali|réservée? |surveillance particulière", c)
                           for c in p.prescription_conditions),
             ["Conditions de prescription"], "est soumise à une prescription restreinte (BDPM)", False),
            ("CTX_MITM", lambda p: bool(p.atc), ["Code ATC"],
             "figure parmi les médicaments d'intérêt thérapeutique majeur (BDPM)", False),
        ):
            matched = [p for p in products if pred(p)]
            if not matched:
                continue
            p = matched[0]
            text = sentence.format(status=(p.status or "").lower().replace("autorisation ", ""),
                                   shortage=(p.shortage_status or "").lower())
            b.add(key, code, f"La spécialité {p.name} ({sub}) {text} ; {len(matched)} spécialité(s) concernée(s).",
                  _hit(product_to_document(p), needles), sub, outcome_related=related, count=len(matched))
        if has is None:
            continue
        for kind, code in (("smr", "CTX_HAS_SMR"), ("asmr", "CTX_HAS_ASMR")):
            ops = [op for p in products for op in has.opinions_for_cis(p.cis, kind)]  # type: ignore[arg-type]
            if not ops:
                continue
            ops.sort(key=lambda o: o.date, reverse=True)
            op = ops[0]
            pname = index.products[op.cis].name if op.cis in index.products else None
            doc = opinion_to_document(op, pname)
            label = "SMR" if kind == "smr" else "ASMR"
            b.add(key, code, f"Dernier avis {label} de la HAS pour {sub} ({op.date.isoformat()}) : "
                  f"{op.level or 'non précisé'}.", _hit(doc, [f"{label} :"]), sub, when=op.date)
            if kind == "smr":
                insuff = [o for o in ops if (o.level or "").lower().startswith("insuffisant")]
                if insuff:
                    o = insuff[0]
                    doc = opinion_to_document(o, index.products[o.cis].name if o.cis in index.products else None)
                    b.add(key, "CTX_HAS_SMR_INSUFFISANT",
                          f"La HAS a jugé le SMR insuffisant pour un produit contenant {sub} "
                          f"({o.date.isoformat()}).", _hit(doc, ["SMR :"]), sub, when=o.date)


_PSUSA_RESTRICTIVE = ("variation", "suspension", "revocation", "withdraw")


def _ema(b: _Builder, corpora_dir: Path) -> None:
    from corpora.loaders.ema_json import iter_ema_documents

    for doc in iter_ema_documents(corpora_dir / "ema"):
        subs = [s for s in str(doc.metadata.get("substances", "")).strip("|").split("|") if s]
        meta = doc.metadata
        when = doc.received_at
        outcome = str(meta.get("regulatory_outcome") or "").lower()
        for sub in subs:
            key = b.name(sub)
            if not key:
                continue
            if doc.source == "ema-referral":
                safety = meta.get("safety_referral") is True
                b.add(key, "CTX_EMA_REFERRAL_SAFETY" if safety else "CTX_EMA_REFERRAL",
                      f"Arbitrage européen ({meta.get('referral_type', 'type non précisé')}) concernant {sub}"
                      f"{' pour un motif de sécurité' if safety else ''} ({meta.get('status', '')}"
                      f"{', ' + str(when.year) if when else ''}).", _hit(doc, ["Safety referral"]), sub, when)
            elif doc.source == "ema-psusa":
                restrictive = any(w in outcome for w in _PSUSA_RESTRICTIVE)
                b.add(key, "CTX_EMA_PSUSA_RESTRICTIVE" if restrictive else "CTX_EMA_PSUSA",
                      f"Évaluation unique des PSUR (PSUSA) pour {sub} : issue « {meta.get('regulatory_outcome', '')} »"
                      f"{' (' + str(when.year) + ')' if when else ''}.", _hit(doc, ["Regulatory outcome"]), sub, when)
            elif doc.source == "ema-dhpc":
                b.add(key, "CTX_EMA_DHPC",
                      f"Lettre aux professionnels de santé (DHPC) diffusée pour {sub}"
                      f"{' le ' + when.isoformat() if when else ''}.", _hit(doc, ["Direct healthcare"]), sub, when)
            elif doc.source == "ema-postauth":
                if "additional monitoring" in doc.text.lower():
                    b.add(key, "CTX_EMA_ADDITIONAL_MONITORING",
                          f"{sub} figure sur la liste européenne de surveillance supplémentaire (EMA).",
                          _hit(doc, ["Flags"]), sub, when, outcome_related=True)
                b.add(key, "CTX_EMA_POSTAUTH",
                      f"Procédure post-autorisation EMA pour {sub} : avis {meta.get('opinion_status', '')}.",
                      _hit(doc, ["Opinion:"]), sub, when)
            elif doc.source == "ema-orphan":
                b.add(key, "CTX_EMA_ORPHAN", f"{sub} a une désignation orpheline européenne "
                      f"(statut : {meta.get('status', '')}).", _hit(doc, ["Orphan designation"]), sub, when)
            elif doc.source == "ema-shortage" and str(meta.get("status", "")).lower() != "resolved":
                b.add(key, "CTX_EMA_SHORTAGE", f"Pénurie signalée par l'EMA pour {sub} "
                      f"(statut : {meta.get('status', '')}).", _hit(doc, ["Status"]), sub, when)


def _ansm(b: _Builder, corpora_dir: Path) -> None:
    from corpora.loaders.ansm import INDEX_GLOB, THESAURUS_GLOB, find_file, iter_interactions, load_substance_index

    ansm_dir = corpora_dir / "ansm_interactions"
    for it in iter_interactions(find_file(ansm_dir, THESAURUS_GLOB)):
        b.kb.interactions.append({"native_id": it.native_id, "main": it.main, "plus": it.plus,
                                  "main_key": it.main_key, "plus_key": it.plus_key, "note": it.note,
                                  "levels": [[k, info] for k, info in it.levels], "mechanism": it.mechanism})
    paths = sorted(ansm_dir.glob(INDEX_GLOB))
    if paths:
        for sub, classes in load_substance_index(paths[-1]).items():
            b.kb.classes[sub] = list(classes)
            b.name(sub)


def _vaers(b: _Builder, corpora_dir: Path) -> None:
    from corpora.loaders.base import LoadReport
    from corpora.loaders.cases import is_serious
    from corpora.loaders.vaers import iter_vaers_records, vaers_record_to_document, vaers_zip_paths

    paths = vaers_zip_paths(corpora_dir / "vaers")
    if not paths:
        return
    examples: dict[tuple[str, str], Any] = {}
    for rec in iter_vaers_records(paths, LoadReport(source="vaers")):
        d = rec.dossier
        year = str(d.received_at.year) if d.received_at else "inconnue"
        o = rec.outcome or {}
        serious = is_serious(o)
        for vt in d.fields.vaccine_types or []:
            cell = b.kb.vaers.setdefault(vt.upper(), {}).setdefault(year, [0, 0])
            cell[0] += 1
            cell[1] += int(serious)
            if (vt.upper(), year) not in examples and d.text:
                examples[(vt.upper(), year)] = rec
    for (vt, year), rec in examples.items():
        doc = vaers_record_to_document(rec)
        b.kb.vaers_examples.setdefault(vt, {})[year] = _hit(doc, [])


def _fingerprint(corpora_dir: Path) -> str:
    h = hashlib.sha1()
    for sub in ("bdpm", "has", "ema", "ansm_interactions", "vaers"):
        folder = corpora_dir / sub
        if folder.is_dir():
            for f in sorted(folder.iterdir()):
                st = f.stat()
                h.update(f"{sub}/{f.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def build_knowledge_base(corpora_dir: Path, cache_dir: Path, *, sources: Iterable[str] | None = None,
                         rebuild: bool = False) -> KnowledgeBase:
    """Parse the corpora once and cache the facts as JSON under ``cache_dir``.

    ``sources`` restricts the databases read (``bdpm`` (with HAS), ``ema``, ``ansm``, ``vaers``);
    the cache file name includes them and a fingerprint of the input files. Without real corpora
    (no such folders) the knowledge base is empty.
    """
    corpora_dir = Path(corpora_dir)
    wanted = sorted(set(sources) if sources is not None else {"bdpm", "ema", "ansm", "vaers"})
    present = {
        "bdpm": (corpora_dir / "bdpm").is_dir(),
        "ema": (corpora_dir / "ema").is_dir(),
        "ansm": (corpora_dir / "ansm_interactions").is_dir(),
        "vaers": (corpora_dir / "vaers").is_dir(),
    }
    todo = [s for s in wanted if present.get(s)]
    if not todo:
        return KnowledgeBase()
    cache = Path(cache_dir) / f"context-kb-v{KB_FORMAT}-{'-'.join(todo)}-{_fingerprint(corpora_dir)}.json"
    if cache.is_file() and not rebuild:
        try:
            with cache.open(encoding="utf-8") as fh:
                return KnowledgeBase.from_json(json.load(fh))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("knowledge-base cache unreadable (%s), rebuilding", exc)
    b = _Builder()
    steps = {"bdpm": _bdpm, "ema": _ema, "ansm": _ansm, "vaers": _vaers}
    for s in todo:
        steps[s](b, corpora_dir)
    b.kb.sources = todo
    from corpora.io import atomic_writer

    with atomic_writer(cache) as fh:
        json.dump(b.kb.to_json(), fh, ensure_ascii=False, separators=(",", ":"))
    return b.kb
