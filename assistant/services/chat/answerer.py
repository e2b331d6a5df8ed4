"""Offline answerer (the default): French sentences from structured facts and stored passages.

Every sentence it writes carries at least one citation, a :class:`~corpora.model.Hit` checked
against the document store (``excerpt == text[start:end]``). Categorical values (SMR/ASMR levels,
interaction levels, BDPM status, deadlines, risk levels) are copied from data fields; the
templates are in ``assistant/data/chat/answers.fr.yaml``. When nothing can be cited it refuses
with :data:`REFUSAL` and says what it can do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.services.chat.facts import Entity, FactBase, cite, fold_same_length, verify
from corpora.io import dotted_text, read_texts
from corpora.model import RISK_LEVELS, Hit
from corpora.normalise import fold, fr_decimal, fr_int, read_word_list
from retrieval.analysis import concepts_shown, query_concepts
from retrieval.chunking import quotable_sentences
from retrieval.stores.docstore import DocStore

TEMPLATES_FILE = Path(__file__).resolve().parents[2] / "data" / "chat" / "answers.fr.yaml"
GENERIC_WORDS_FILE = TEMPLATES_FILE.with_name("generic_words.txt")
MAX_FACTS = 4
_LEVEL_FOLD = {fold(lv): lv for lv in RISK_LEVELS}
_DOC_ID = re.compile(r"\b([a-z][a-z0-9-]*:[^\s,;?!«»\"]+)")


@lru_cache(maxsize=1)
def generic_words(path: Path = GENERIC_WORDS_FILE) -> frozenset[str]:
    """Question words that say nothing about the subject (``assistant/data/chat/generic_words.txt``)."""
    return frozenset(fold(w.strip()) for w in read_word_list(path))


@lru_cache(maxsize=2)
def templates(path: Path = TEMPLATES_FILE) -> dict[str, Any]:
    return read_texts(path)


def t(key: str, **values: Any) -> str:
    return dotted_text(templates(), key, **values)


REFUSAL_KEY = "refusal"


def refusal_text() -> str:
    return t("refusal")


@dataclass
class Sentence:
    """One answer sentence, its citations, and the facts (strings) its cited passages must contain."""

    text: str
    citations: list[Hit]
    facts: tuple[str, ...] = ()


@dataclass
class Answer:
    sentences: list[Sentence] = field(default_factory=list)
    refused: bool = False
    message: str | None = None  # a whole answer without facts (clarification, help, refusal)
    notices: list[str] = field(default_factory=list)
    kind: str = ""


def refuse(kind: str = "refusal") -> Answer:
    return Answer(refused=True, message=f"{t('refusal')} {t('can_do')}", kind=kind)


def say(key: str, citations: Sequence[Hit | None], facts: Sequence[str | None] = (), **values: Any) -> Sentence | None:
    """A sentence from template ``key``; ``None`` when none of its citations could be made."""
    hits = [h for h in citations if h is not None]
    if not hits:
        return None
    return Sentence(t(key, **values), hits, tuple(f for f in facts if f))


SHORT_SENTENCE = 160  # a title line is shorter; a longer line without a period is quoted alone


def fr_date(value: str | date | None) -> str:
    if not value:
        return "date inconnue"
    d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return d.strftime("%d/%m/%Y")


def number(value: float) -> str:
    return fr_decimal(value, 2)


# ---------------------------------------------------------------------- corpus questions

_SUB = (
    ("asmr", r"\basmr\b|amelioration du service medical|added (clinical|therapeutic) (benefit|value)"),
    ("smr", r"\bsmr\b|service medical rendu|clinical benefit"),
    ("interaction", r"interact|\bassoci|contre-indi|contraindicat|deconseill|precautions? d.emploi|thesaurus"
                    r"|\bensemble\b|en meme temps|together|combin"),
    ("surveillance", r"surveillance (renforcee|supplementaire)|additional monitoring|triangle noir"),
    ("shortage", r"rupture|tension d.approvisionnement|\bpenurie|shortage|disponib"),
    ("referral", r"arbitrage|referral|article (20|31|107)"),
    ("dhpc", r"\bdhpc\b|lettres? aux professionnels|communication directe|healthcare professional communication"),
    ("psusa", r"\bpsusa\b|\bpsurs?\b|rapports? periodiques"),
    ("orphan", r"orphelin|orphan"),
    ("substances", r"substances?|compos|contient|contains|principe actif|active (substance|ingredient)"),
    ("status", r"statut|autoris|\bamm\b|commercialis|retir|suspendu|abroge|titulaire|marketing|authori[sz]"),
)
EMA_BY_SUB = {"referral": "ema-referral", "dhpc": "ema-dhpc", "psusa": "ema-psusa", "orphan": "ema-orphan",
              "shortage": "ema-shortage"}


def corpus_subjects(question: str) -> list[str]:
    folded = fold(question)
    return [name for name, pattern in _SUB if re.search(pattern, folded)]


class Answerer:
    """Builds answers from a :class:`FactBase`, the document store and (for dossiers) triage results."""

    def __init__(self, facts: FactBase, store: DocStore, search: Any = None, min_similarity: float = 0.45,
                 referentiel: Any = None) -> None:
        self.facts = facts
        self.store = store
        self.search = search  # callable(query, k) -> list[Hit]
        self.min_similarity = min_similarity
        self._referentiel = referentiel

    # ------------------------------------------------------------------ corpus
    def corpus(self, question: str, entities: Sequence[Entity]) -> Answer:
        subjects = corpus_subjects(question)
        ema = [EMA_BY_SUB[s] for s in subjects if s in EMA_BY_SUB]
        named = self.facts.ema_named_in(question, ema) if ema else []
        if named:
            return Answer([s for item in named[:3] if (s := self._ema_sentence(item, item.title))], kind="ema")
        if entities:
            entities = [self.facts.narrowed(e, question, entities) for e in entities]
            answer = self._entity_answer(subjects, entities)
            if answer.sentences:
                return answer
            if any(s in subjects for s in ("smr", "asmr", "interaction", "shortage", "surveillance")):
                return refuse()  # a known name whose facts say nothing on this: passages would not either
        elif any(s in subjects for s in ("smr", "asmr")):
            # an SMR/ASMR level only comes from a HAS opinion of a linked product: quoting passages that
            # merely share a word ("attribué") would look like an answer without being one
            return self._unlinked_opinion()
        return self._passages(question)

    def _unlinked_opinion(self) -> Answer:
        key = "unlinked.has" if self.facts.opinions else "unlinked.no_has"
        return Answer(refused=True, message=f"{t('refusal')} {t(key)} {t('can_do')}", kind="refusal")

    def _entity_answer(self, subjects: list[str], entities: list[Entity]) -> Answer:
        out: list[Sentence | None] = []
        if "interaction" in subjects:
            out += self._interactions(entities)
            return Answer([s for s in out if s], kind="interaction")
        main = [e for e in entities if e.cis or e.keys]
        if not main:
            return Answer()
        kind = ""
        notices: list[str] = []
        for e in main[:2]:
            if "asmr" in subjects:
                out += self._has(e, "asmr")
                kind = "asmr"
            elif "smr" in subjects:
                out += self._has(e, "smr")
                kind = "smr"
            ema = [s for s in subjects if s in EMA_BY_SUB]
            for s in ema:
                if s == "shortage" and e.kind == "product":
                    out += self._bdpm(e, "shortage", notices)
                elif s == "shortage":  # a substance: the EMA's shortages, then its BDPM products in shortage
                    out += self._ema(e, EMA_BY_SUB[s]) + self._bdpm(e, "shortage", notices)
                else:
                    out += self._ema(e, EMA_BY_SUB[s])
                kind = kind or s
            for s in ("surveillance", "substances", "status"):
                if s in subjects:
                    out += self._bdpm(e, s, notices)
                    kind = kind or s
            if not kind:  # a product or substance named with no recognised subject: its main facts
                out += self._bdpm(e, "status", notices) + self._has(e, "smr")
                kind = "overview"
        sentences = [s for s in out if s]
        return Answer(sentences, kind=kind, notices=notices if sentences else [])

    def _has(self, e: Entity, kind: str) -> list[Sentence | None]:
        ops = self.facts.opinions_for(e, kind)
        # the latest opinion of each distinct level (several indications may differ), at most MAX_FACTS
        chosen: dict[tuple[str | None, str | None], Any] = {}
        for op in ops:
            chosen.setdefault((op.product, op.level), op)
        label = "SMR" if kind == "smr" else "ASMR"
        out = []
        for op in list(chosen.values())[:MAX_FACTS]:
            product = op.product or self.facts.display(e)
            level = op.level or "non précisé"
            out.append(say(f"has.{kind}", [cite(self.store, op.doc_id, [f"{label} : {level}"])], [level],
                           product=product, level=level, date=fr_date(op.date),
                           motif=t("has.motif", motif=op.motif) if op.motif else ""))
        return out

    def _interactions(self, entities: list[Entity]) -> list[Sentence | None]:
        from corpora.loaders.ansm import level_label

        out: list[Sentence | None] = []
        usable = [e for e in entities if e.keys or e.cis]
        if len(usable) >= 2:
            pairs = [(a, b) for i, a in enumerate(usable) for b in usable[i + 1:]][:3]
            for a, b in pairs:
                for it in self.facts.interactions_between(a, b)[:MAX_FACTS]:
                    out.append(self._interaction_sentence(it, level_label))
        elif usable:
            found = self.facts.interactions_of(usable[0])
            rank = {"contre-indication": 0, "association deconseillee": 1, "precaution d'emploi": 2}
            found.sort(key=lambda it: (rank.get(it.level, 3), it.main, it.plus))
            for it in found[:MAX_FACTS]:
                out.append(self._interaction_sentence(it, level_label))
        return out

    def _interaction_sentence(self, it: Any, level_label: Any) -> Sentence | None:
        labels = list(dict.fromkeys(level_label(k) for k, _ in it.levels))
        level = " » ou « ".join(labels)
        hits = [cite(self.store, it.id, [f"Niveau : {label}"]) for label in labels]
        return say("interaction.pair", hits, labels, a=it.main.lower(), b=it.plus.lower(), level=level)

    def _bdpm(self, e: Entity, what: str, notices: list[str] | None = None) -> list[Sentence | None]:
        products = self.facts.products_for(e)
        if e.kind == "substance":
            products = sorted(products, key=lambda p: (p.meta.get("status") != "Autorisation active", p.name))
        if what == "shortage":  # the presentations in shortage first: they are what the question is about
            products = sorted(products, key=lambda p: (not p.meta.get("shortage"), not p.meta.get("shortage_status")))
        out: list[Sentence | None] = []
        unlisted: dict[str, list[tuple[str, Hit | None]]] = {}  # commercialisation → products not in shortage
        shown = products[:2 if e.kind == "substance" else 3]
        if notices is not None:
            # say how many presentations were left out, so three lines are not read as the whole answer
            in_shortage = what == "shortage" and e.kind == "substance"
            relevant = [p for p in products if p.meta.get("shortage_status")] if in_shortage else products
            cited = sum(p in relevant for p in shown)
            if cited < len(relevant) > 1:
                key = ("bdpm.more_shortage" if in_shortage
                       else "bdpm.more_substance" if e.kind == "substance" else "bdpm.more")
                notice = t(key, shown=fr_int(cited), total=fr_int(len(relevant)),
                           name=e.label.upper() if e.kind == "product" else self.facts.display(e))
                if notice not in notices:
                    notices.append(notice)
        for p in shown:
            m = p.meta
            if what == "status":
                status, comm = m.get("status") or "non renseigné", m.get("commercialisation") or "non renseigné"
                out.append(say("bdpm.status", [cite(self.store, p.doc_id, ["Statut de l'AMM", status]),
                                               cite(self.store, p.doc_id, ["État de commercialisation"])],
                               [status, comm], name=p.name, status=status, commercialisation=comm))
            elif what == "surveillance" and m.get("surveillance_renforcee") is not None:
                yes = bool(m.get("surveillance_renforcee"))
                out.append(say("bdpm.surveillance_yes" if yes else "bdpm.surveillance_no",
                               [cite(self.store, p.doc_id, ["Surveillance renforcée"])],
                               ["oui" if yes else "non"], name=p.name))
            elif what == "shortage":
                if m.get("shortage_status"):
                    out.append(say("bdpm.shortage", [cite(self.store, p.doc_id, ["Disponibilité"])],
                                   [m["shortage_status"]], name=p.name, shortage=m["shortage_status"]))
                elif self.facts.shortage_known and e.kind == "product":
                    comm = m.get("commercialisation") or "non renseigné"
                    unlisted.setdefault(comm, []).append(
                        (p.name, cite(self.store, p.doc_id, ["État de commercialisation"])))
            elif what == "substances" and p.substances:
                out.append(say("bdpm.substances", [cite(self.store, p.doc_id, ["Substance(s) active(s)"])],
                               [p.substances[0]], name=p.name, substances=", ".join(s.lower() for s in p.substances)))
        for comm, named in unlisted.items():  # one sentence for the presentations that share a state
            names = [name for name, _ in named]
            joined = names[0] if len(names) == 1 else f"{' ; '.join(names[:-1])} et {names[-1]}"  # names hold commas
            out.append(say("bdpm.no_shortage", [hit for _, hit in named], [comm], name=joined, commercialisation=comm))
        return out

    def _ema(self, e: Entity, source: str) -> list[Sentence | None]:
        return [self._ema_sentence(item, e.label) for item in self.facts.ema_for(e, (source,))[:3]]

    def _ema_sentence(self, item: Any, label: str) -> Sentence | None:
        m, source = item.meta, item.source
        names = [x for x in str(m.get("substances", "")).strip("|").split("|") if x]
        substance = (", ".join(names[:4]) + (" …" if len(names) > 4 else "")) if names else label
        values = {
            "substance": substance, "title": item.title, "date": fr_date(m.get("received_at")),
            "referral_type": m.get("referral_type") or "non précisé", "status": m.get("status") or "non précisé",
            "safety": t("ema.safety") if m.get("safety_referral") else "",
            "regulatory_outcome": m.get("regulatory_outcome") or "non précisée",
            "opinion_status": m.get("opinion_status") or "non précisé",
        }
        facts = [v for k, v in values.items() if k in ("referral_type", "status", "regulatory_outcome",
                                                        "opinion_status") and f"{{{k}}}" in t(f"ema.{source}")]
        hits = [cite(self.store, item.doc_id, [f]) for f in facts] or [cite(self.store, item.doc_id, [], whole=True)]
        return say(f"ema.{source}", hits, facts, **values)

    def _passages(self, question: str) -> Answer:
        if self.search is None:
            return refuse()
        concepts = query_concepts(question, generic_words())
        if not concepts:  # nothing but question words: no passage can be about it
            return refuse()
        hits = [h for h in self.search(question, 5) if h.similarity >= self.min_similarity]
        need = (len(concepts) + 1) // 2
        out = []
        for h in hits[:3]:
            narrowed = self._narrow(h, concepts, need)
            if narrowed is None:
                continue
            excerpt = " ".join(narrowed.excerpt.split())
            out.append(Sentence(t("search.hit", title=h.title, excerpt=excerpt), [narrowed], (excerpt[:60],)))
        if not out:
            return refuse()
        return Answer(out, kind="passages")

    def _narrow(self, hit: Hit, concepts: list[frozenset[str]], need: int) -> Hit | None:
        """The sentence of the passage showing the most content words of the question (at most 300
        characters), if it shows at least ``need`` of them."""
        doc = self.store.get(hit.document_id)
        if doc is None:
            return None
        text = doc.text
        spans = quotable_sentences(text, hit.start, hit.end)
        best: tuple[int, int] | None = None  # (score, index in spans)
        for i, (s, e) in enumerate(spans):
            if e - s < 15:
                continue
            score = concepts_shown(concepts, text[s:e])
            if best is None or score > best[0]:
                best = (score, i)
        if best is None or best[0] < need:
            return None
        s, e = spans[best[1]]
        if e - s < SHORT_SENTENCE and text[e - 1] not in ".!?…" and best[1] + 1 < len(spans):
            e = spans[best[1] + 1][1]  # a title line alone says little: the sentence after it too
        e = min(e, s + 300)
        return hit.model_copy(update={"start": s, "end": e, "excerpt": text[s:e]})

    # ------------------------------------------------------------------ dossiers
    def triage(self, row: Mapping[str, Any]) -> Answer:
        """The answer to a dossier just triaged: level, mode, criteria, context facts, precedents."""
        level, dtype = row["risk_level"], row["type"]
        out: list[Sentence | None] = [
            say("dossier.triaged", self._level_hits(row), [level], id=row["id"], type=t(f"types.{dtype}"),
                level=level),
            self._mode(row),
        ]
        out += self._criteria(row)[:MAX_FACTS]
        for c in (row.get("context") or [])[:3]:
            hit = verify(self.store, c["source_hit"]) if c.get("source_hit") else None
            if hit is not None and c.get("fact"):
                out.append(Sentence(t("dossier.context", fact=c["fact"]), [hit], ()))
        out += self._precedents(row, None)[:3]
        answer = Answer([s for s in out if s], kind="triage")
        if row.get("needs_review"):
            answer.notices.append(t("needs_review"))
        return answer

    def dossier(self, question: str, row: Mapping[str, Any], previous: Sequence[Hit] = ()) -> Answer:
        folded = fold(question)
        target = next((_LEVEL_FOLD[w] for w in re.findall(r"[a-z]+", folded) if w in _LEVEL_FOLD), None)
        sentences: list[Sentence | None]
        if re.search(r"passage|extrait|excerpt|citation", folded):
            sentences = [say("dossier.passage", [h], [h.excerpt[:60]], n=i, document_id=h.document_id,
                             excerpt=" ".join(h.excerpt.split())[:400]) for i, h in enumerate(previous, 1)]
            kind = "passage"
        elif re.search(r"compar", folded):
            sentences, kind = self._compare(question, row), "compare"
        elif target and re.search(r"passer|passerait|monter|basculer|rendrait|deveni|escalat|become|ferait", folded):
            sentences, kind = self._escalate(row, target), "escalate"
        elif re.search(r"precedent|similar|cas (similaires|proches|comparables)", folded):
            sentences, kind = self._precedents(row, folded), "precedents"
        elif re.search(r"delai|deadline|\bjours\b|\bdays\b|regle|rule|reference|texte|impose", folded):
            sentences, kind = [self._deadline_rule(row)], "deadline"
        elif re.search(r"\bmode\b|expertise|traitement propose|qui doit", folded):
            sentences, kind = [self._mode(row)], "mode"
        else:
            sentences = [say("dossier.level", self._level_hits(row), [row["risk_level"]], id=row["id"],
                             level=row["risk_level"])]
            sentences += self._criteria(row)
            if not any(c.get("floor") == row["risk_level"] for c in self._fired(row)) and row.get("risk_score"):
                sentences.append(say("dossier.model_above", [self._policy_hit(row)], [row["risk_level"]],
                                     level=row["risk_level"]))
            kind = "level"
        answer = Answer([s for s in sentences if s], kind=kind)
        return answer if answer.sentences else refuse()

    # helpers
    def referentiel(self) -> Any:
        if self._referentiel is None:
            from classifier.referentiel import load_referentiel

            self._referentiel = load_referentiel()
        return self._referentiel

    def _fired(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        floors = {c.code: c.effect.floor for items in self.referentiel().criteria.values() for c in items}
        return [{**c, "floor": floors.get(c.get("code"))} for c in row.get("criteria") or []]

    def _policy_hit(self, row: Mapping[str, Any]) -> Hit | None:
        from classifier.policy import mode_document_id

        level = row["risk_level"]
        return cite(self.store, mode_document_id(row["type"], level), [f"niveau de risque {level}"])

    def _level_hits(self, row: Mapping[str, Any]) -> list[Hit | None]:
        hits = [self._policy_hit(row)]
        for c in self._fired(row):
            if c.get("floor") == row["risk_level"]:
                hits.append(cite(self.store, f"referentiel:{c['code']}", [f"plancher : {c['floor']}"]))
                break
        return hits

    def _criteria(self, row: Mapping[str, Any]) -> list[Sentence | None]:
        out: list[Sentence | None] = []
        fired = sorted(self._fired(row),
                       key=lambda c: -RISK_LEVELS.index(c["floor"]) if c.get("floor") in RISK_LEVELS else 1)
        for c in fired[:MAX_FACTS]:
            doc_id = f"referentiel:{c['code']}"
            if c.get("floor"):
                out.append(say("dossier.floor", [cite(self.store, doc_id, [f"plancher : {c['floor']}"])],
                               [c["code"], c["floor"]], code=c["code"], label=c.get("label", ""), floor=c["floor"]))
            else:
                out.append(say("dossier.fired", [cite(self.store, doc_id, [c["code"]])], [c["code"]],
                               code=c["code"], label=c.get("label", "")))
        return out

    def _mode(self, row: Mapping[str, Any]) -> Sentence | None:
        mode = row.get("processing_mode") or {}
        if not mode.get("deadline_days"):
            return None
        return say("dossier.mode", [self._policy_hit(row)], [f"{mode['deadline_days']} jours"], label=mode.get("label"),
                   days=mode["deadline_days"], expertises=", ".join(mode.get("expertises") or []))

    def _deadline_rule(self, row: Mapping[str, Any]) -> Sentence | None:
        from classifier.policy import mode_document_id

        mode = row.get("processing_mode") or {}
        if not mode.get("deadline_days"):
            return None
        hit = cite(self.store, mode_document_id(row["type"], row["risk_level"]), ["Référence du délai"])
        return say("dossier.deadline_rule", [hit], [str(mode["deadline_days"])], days=mode["deadline_days"],
                   type=t(f"types.{row['type']}"), level=row["risk_level"], reference=mode.get("reference"))

    def _escalate(self, row: Mapping[str, Any], target: str) -> list[Sentence | None]:
        if RISK_LEVELS.index(row["risk_level"]) >= RISK_LEVELS.index(target):
            return [say("dossier.already", [self._policy_hit(row)], [row["risk_level"]], id=row["id"],
                        level=row["risk_level"])]
        fired = {c.get("code") for c in row.get("criteria") or []}
        crits = [c for c in self.referentiel().criteria.get(row["type"], [])
                 if c.effect.floor == target and c.code not in fired]
        return [say("dossier.escalate", [cite(self.store, f"referentiel:{c.code}", [f"plancher : {target}"])],
                    [c.code, target], code=c.code, label=c.label, target=target) for c in crits[:MAX_FACTS]]

    def _precedents(self, row: Mapping[str, Any], folded: str | None) -> list[Sentence | None]:
        hits = [h for h in (verify(self.store, p) for p in row.get("precedents") or []) if h is not None]
        if not hits:
            return []
        flags = templates()["outcome"]["flags"]
        wanted = None
        if folded:
            for key, pattern in (("died", r"deces|decede|mort|died|death|fatal"),
                                 ("life_threatening", r"pronostic vital|life.threat"),
                                 ("hospitalised", r"hospitali"), ("disability", r"invalidit|disab"),
                                 ("congenital_anomaly", r"congenit"), ("er_visit", r"urgence|emergency"),
                                 ("recovered", r"retabli|gueri|recover")):
                if re.search(pattern, folded):
                    wanted = key
                    break
        if wanted is None:
            return [say("dossier.precedent", [h], [], title=h.title, document_id=h.document_id,
                        outcome=outcome_fr(h.outcome)) for h in hits[:MAX_FACTS]]
        match = [h for h in hits if (h.outcome or {}).get(wanted) is True]
        if match:
            return [say("dossier.precedent_match", [h], [], title=h.title, document_id=h.document_id,
                        flag=flags[wanted]) for h in match[:MAX_FACTS]]
        return [say("dossier.precedent_none", hits, [], n=len(hits), flag=flags[wanted])]

    def _compare(self, question: str, row: Mapping[str, Any]) -> list[Sentence | None]:
        ids = [m.group(1).rstrip(".") for m in _DOC_ID.finditer(question)]
        out: list[Sentence | None] = []
        for doc_id in ids[:2]:
            hit = cite(self.store, doc_id, [], whole=True)
            if hit is not None:
                out.append(say("dossier.compare", [hit], [], document_id=doc_id, title=hit.title,
                               outcome=outcome_fr(hit.outcome)))
        if not out:
            return []
        out.append(say("dossier.level", self._level_hits(row), [row["risk_level"]], id=row["id"],
                       level=row["risk_level"]))
        return out


def outcome_fr(outcome: Mapping[str, Any] | None) -> str:
    """A recorded outcome in French words (flags that are true, then the main values)."""
    if not outcome:
        return t("outcome.unknown")
    o = templates()["outcome"]
    parts = [label for key, label in o["flags"].items() if outcome.get(key) is True]
    for key, pattern in o["values"].items():
        if outcome.get(key) not in (None, "", False, True):
            # no final period: the sentence that quotes the outcome ends with its own (no « .. »)
            parts.append(pattern.format(value=str(outcome[key]).strip().rstrip(".")))
    return " ; ".join(parts) if parts else o["none_serious"]


def supported(sentence: Sentence) -> bool:
    """Every fact of the sentence is in at least one of its cited passages (or their recorded outcome)."""
    passages = [fold_same_length(h.excerpt) + " " + fold_same_length(str(h.outcome or "")) for h in sentence.citations]
    return all(any(fold_same_length(f) in p for p in passages) for f in sentence.facts)
