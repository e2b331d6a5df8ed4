"""The chat service: one message in, one cited answer out, the conversation kept in the database.

``ChatService(settings, engine, resources).reply(message, conversation_id=None, dossier_id=None)``
returns the reply contract::

    {"conversation_id", "intent", "answer", "refused", "sentences": [{"text", "citations": [n…]}],
     "citations": [Hit…], "timings_ms"}

The API (``POST /chat``), ``gdr ask`` and the Chainlit chat are thin callers. Nothing is kept in
module globals: the conversation (its dossiers with their triage results, its messages and each
answer's citations) is read from and written to the database, in one transaction per message, after
the answer is complete; an error before that stores nothing.

A message that brings a dossier (pasted text or joined file) is pseudonymised before anything is
stored (:mod:`assistant.services.pseudonyms`): the message kept in the conversation, the conversation
title, the audit event, the triaged dossier and its assessment hold placeholders; the map is stored
encrypted next to each assessment, as ``POST /triage`` does. A question is answered as typed but
stored (message, conversation title, audit event), and sent to a configured language model, with its
personal data replaced by placeholders; no map is kept for a question.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from assistant.db.models import ChatMessageRow, ConversationDossierRow, ConversationRow, utcnow
from assistant.services.chat import answerer as A
from assistant.services.chat.intent import Intent, check_language, classify
from assistant.services.resources import Resources
from assistant.settings import Settings
from classifier.result import TriageResult
from corpora.errors import EncodingProblem, GdrError, InputError, InputTooLarge, NotFound, StoreError
from corpora.model import Hit
from corpora.normalise import fr_int, lone_surrogate
from corpora.pseudonymise import Pseudonymiser

EMPTY_MESSAGE = "Message vide : posez une question ou collez le texte d'un dossier."
BINARY_MESSAGE = "Le message contient des données binaires : envoyez du texte (ou joignez le fichier au dossier)."
UNKNOWN_CONVERSATION = "Conversation introuvable : « {id} »."
_CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Exchange:
    """A reply (the API contract) and the triage results of the dossiers this message added."""

    reply: dict[str, Any]
    triaged: list[TriageResult] = field(default_factory=list)


# (triage result, dossier, placeholder → value map or None) of each dossier a message added.
NewDossiers = list[tuple[dict[str, Any], dict[str, Any] | None, dict[str, str] | None]]


@dataclass
class Turn:
    """What the service knows of a conversation before answering."""

    id: str | None
    dossiers: list[dict[str, Any]] = field(default_factory=list)  # {"dossier_id", "result"} oldest first
    last_citations: list[Hit] = field(default_factory=list)


def check_message(message: Any, max_chars: int, allow_empty: bool = False) -> str:
    """The message as text, or a French InputError (empty, too long, binary, unsupported language)."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise EncodingProblem(BINARY_MESSAGE) from None
    if not isinstance(message, str):
        raise InputError(EMPTY_MESSAGE)
    if len(message) > max_chars:
        raise InputTooLarge(f"Message trop long : {fr_int(len(message))} caractères (maximum {fr_int(max_chars)}). "
                            "Joignez le dossier comme fichier ou résumez la question.")
    surrogate = lone_surrogate(message)
    if surrogate:
        raise EncodingProblem(f"Le message n'est pas du texte valide ({surrogate}) : envoyez-le en UTF-8.")
    controls = sum(1 for c in message if (ord(c) < 32 and c not in "\n\r\t") or c == "\ufffd")
    if "\x00" in message or controls > max(2, len(message) // 100):
        raise EncodingProblem(BINARY_MESSAGE)
    text = message.strip()
    if not text and not allow_empty:
        raise InputError(EMPTY_MESSAGE)
    if text and not text.startswith("/"):
        check_language(text)
    return text


class ChatService:
    """Answers chat messages. One per process (API app, CLI command); thread-safe.

    ``resources``: the application's (open index, models); without them, the service opens its own.
    """

    def __init__(self, settings: Settings, engine: Engine, resources: Resources | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.resources = resources or Resources(settings)
        self._own_resources = resources is None
        self._lock = threading.RLock()
        self._facts: Any = None
        self._facts_key: Any = None

    def close(self) -> None:
        if self._own_resources:
            self.resources.close()

    # ------------------------------------------------------------------ resources
    @contextmanager
    def answerer(self) -> Iterator[A.Answerer]:
        """An answerer on the open index (facts reloaded when the index was rebuilt)."""
        from assistant.services.chat.facts import FactBase, load_classes

        with self.resources.retriever() as retriever:
            if self._facts is None or self._facts_key != self.resources.index_key:
                stop = _stopwords()
                self._facts = FactBase.load(retriever.store, stop, load_classes(self.settings.corpora_dir))
                self._facts_key = self.resources.index_key

            def search(query: str, k: int) -> list[Hit]:
                return retriever.search(query[:2000], k=k)

            yield A.Answerer(self._facts, retriever.store, search, self.settings.chat.min_similarity)

    def warm_up(self) -> None:
        """Load the index and the facts now (``gdr ask -`` and the API do it once)."""
        try:
            with self.answerer():
                pass
        except StoreError:
            pass

    # ------------------------------------------------------------------ conversation
    def user_id(self, login: str) -> int | None:
        """The database id of an account (conversations are stored with it)."""
        from assistant.db.models import UserRow
        from assistant.services.dossiers import database_errors

        with Session(self.engine) as session, database_errors(session):
            row = session.execute(sa.select(UserRow).where(UserRow.login == login)).scalars().first()  # type: ignore[arg-type]
            return row.id if row is not None else None

    def _load(self, conversation_id: str | None, user_id: int | None = None) -> Turn:
        if conversation_id is None:
            return Turn(None)
        if not isinstance(conversation_id, str) or not _CONVERSATION_ID.match(conversation_id):
            raise NotFound(UNKNOWN_CONVERSATION.format(id=str(conversation_id)[:80]))
        from assistant.services.dossiers import database_errors

        with Session(self.engine) as session, database_errors(session):
            conv = session.get(ConversationRow, conversation_id)
            if conv is None or (conv.user_id is not None and conv.user_id != user_id):  # another account's: 404
                raise NotFound(UNKNOWN_CONVERSATION.format(id=conversation_id))
            rows = session.execute(sa.select(ConversationDossierRow)
                                   .where(ConversationDossierRow.conversation_id == conversation_id)  # type: ignore[arg-type]
                                   .order_by(ConversationDossierRow.id)).scalars().all()  # type: ignore[arg-type]
            last = session.execute(sa.select(ChatMessageRow)
                                   .where(ChatMessageRow.conversation_id == conversation_id)  # type: ignore[arg-type]
                                   .where(ChatMessageRow.role == "assistant")  # type: ignore[arg-type]
                                   .where(sa.func.length(ChatMessageRow.content) > 0)
                                   .order_by(ChatMessageRow.id.desc()).limit(1)).scalars().first()  # type: ignore[union-attr]
            return Turn(conversation_id, [{"dossier_id": r.dossier_id, "result": r.result} for r in rows],
                        [Hit.model_validate(h) for h in (last.citations if last else [])])

    def _store(self, turn: Turn, user_id: int | None, message: str, intent: str, reply: dict[str, Any],
               new_dossiers: NewDossiers) -> str:
        from assistant.db.models import UserRow
        from assistant.services import audit
        from assistant.services.assessments import store_assessment
        from assistant.services.dossiers import database_errors
        from assistant.services.pseudonyms import store_mapping

        conv_id = turn.id or uuid.uuid4().hex
        with Session(self.engine) as session, database_errors(session), session.begin():
            account = session.get(UserRow, user_id) if user_id is not None else None
            actor = audit.Actor(account.login, account.role) if account is not None else audit.SYSTEM
            if turn.id is None:
                session.add(ConversationRow(id=conv_id, user_id=user_id, title=message[:200]))
                session.flush()
            else:
                conv = session.get(ConversationRow, conv_id)
                if conv is None:  # deleted meanwhile
                    raise NotFound(UNKNOWN_CONVERSATION.format(id=conv_id))
                conv.updated_at = utcnow()
            session.add(ChatMessageRow(conversation_id=conv_id, role="user", intent=intent, content=message))
            for result, dossier, mapping in new_dossiers:
                assessment_id = store_assessment(session=session, result=TriageResult.model_validate(result),
                                                 dossier=dossier, actor=actor)
                if mapping:
                    store_mapping(self.settings, session, assessment_id=assessment_id, dossier_id=str(result["id"]),
                                  mapping=mapping)
                session.add(ConversationDossierRow(conversation_id=conv_id, dossier_id=str(result["id"]),
                                                   result=result, dossier=dossier))
            session.add(ChatMessageRow(conversation_id=conv_id, role="assistant", intent=intent,
                                       content=reply["answer"], refused=reply["refused"],
                                       sentences=reply["sentences"], citations=reply["citations"],
                                       timings_ms=reply["timings_ms"]))
            # The exchange and its audit event commit together (EU AI Act art. 12: question, answer, citations).
            dossiers = [str(r["id"]) for r, _, _ in new_dossiers] or [d["dossier_id"] for d in turn.dossiers[-1:]]
            audit.record_chat(session, actor=actor, question=message, answer=reply["answer"],
                              citations=reply["citations"], conversation_id=conv_id,
                              dossier_id=dossiers[0] if dossiers else None, intent=intent,
                              refused=bool(reply["refused"]))
        return conv_id

    # ------------------------------------------------------------------ reply
    def reply(self, message: Any, conversation_id: str | None = None, dossier_id: str | None = None,
              user_id: int | None = None) -> dict[str, Any]:
        """Answer one message (see module docstring). Domain errors carry a French message and a 4xx."""
        return self.converse(message, conversation_id, dossier_id, user_id).reply

    def converse(self, message: Any, conversation_id: str | None = None, dossier_id: str | None = None,
                 user_id: int | None = None, upload: tuple[bytes, str | None, str | None] | None = None,
                 dossier_type: str | None = None) -> Exchange:
        """:meth:`reply`, plus the triage results; ``upload`` = (bytes, file name, media type) of a joined file."""
        t0 = time.perf_counter()
        text = check_message(message, self.settings.chat.max_message_chars,
                             allow_empty=dossier_id is not None or upload is not None)
        with self._lock:
            turn = self._load(conversation_id, user_id)
            timings: dict[str, float] = {}
            new_dossiers: NewDossiers = []
            current = self._current(turn, dossier_id, new_dossiers, timings)
            t1 = time.perf_counter()
            if upload is not None:
                intent = Intent("dossier", text, dossier_type=dossier_type)
            elif text:
                intent = classify(text, has_dossier=current is not None, link=self._linker())
            else:
                intent = Intent("dossier_question", "")
            if dossier_type and intent.name == "dossier":
                intent = Intent("dossier", intent.text, dossier_type=dossier_type, injection=intent.injection)
            timings["intent"] = _ms(t1)
            # A dossier in the message: personal data out before anything is stored (or sent to a model).
            pseudo = self._pseudonymiser() if intent.name == "dossier" else None
            if pseudo is not None:
                t = time.perf_counter()
                text = pseudo(text)
                timings["pseudonymisation"] = _ms(t)
            t2 = time.perf_counter()
            if upload is not None:
                answer = self._triage_answer(intent, self._upload_items(upload, intent), new_dossiers, timings,
                                             pseudo)
            elif intent.name == "dossier_question" and not text and current is not None:
                with self.answerer() as ans:
                    answer = ans.triage(current)
            else:
                answer = self._answer(intent, text, turn, current, new_dossiers, timings, pseudo)
            timings["answer"] = _ms(t2)
            stored = text
            if pseudo is None and text:  # a question: answered as typed, stored (and sent to a model) without
                question_pseudo = self._pseudonymiser()  # its personal data
                stored = question_pseudo(text) if question_pseudo is not None else text
            if self.settings.llm.provider != "none" and answer.sentences and not answer.refused:
                from assistant.services.chat.generative import rewrite

                t3 = time.perf_counter()
                answer = rewrite(self.settings, stored, answer, current)
                timings["llm"] = _ms(t3)
            reply = render(answer)
            timings["total"] = _ms(t0)
            reply = {"conversation_id": "", "intent": intent.name, **reply, "timings_ms": timings}
            reply["conversation_id"] = self._store(turn, user_id, stored, intent.name, reply, new_dossiers)
            return Exchange(reply, [TriageResult.model_validate(row) for row, _, _ in new_dossiers])

    def _pseudonymiser(self) -> Pseudonymiser | None:
        from assistant.services.pseudonyms import pseudonymiser

        return pseudonymiser(self.settings)

    def _upload_items(self, upload: tuple[bytes, str | None, str | None], intent: Intent) -> list[Any]:
        from assistant.services.intake import read_upload

        data, name, mime = upload
        items = read_upload(self.settings, data, filename=name, declared_type=intent.dossier_type, media_type=mime)
        if intent.text.strip():
            items += read_upload(self.settings, intent.text.encode("utf-8"), declared_type=intent.dossier_type)
        return items

    def _linker(self) -> Any:
        def link(text: str) -> list[Any]:
            try:
                with self.answerer() as ans:
                    return ans.facts.link(text)
            except StoreError:
                return []

        return link

    def _current(self, turn: Turn, dossier_id: str | None, new: NewDossiers,
                 timings: dict[str, float]) -> dict[str, Any] | None:
        """The dossier the message is about: ``dossier_id`` (in context, or from the database), else the latest."""
        if dossier_id is None:
            return turn.dossiers[-1]["result"] if turn.dossiers else None
        for d in reversed(turn.dossiers):
            if d["dossier_id"] == dossier_id:
                return dict(d["result"])
        from assistant.db import repository as repo
        from assistant.services.dossiers import database_errors

        with Session(self.engine) as session, database_errors(session):
            dossier = repo.get_dossier(session=session, id=dossier_id)
        if dossier is None:
            raise NotFound(f"Dossier introuvable : « {dossier_id} ».")
        t = time.perf_counter()
        row = self._triage([dossier])[0]
        timings["triage"] = _ms(t)
        new.append((row, dossier.model_dump(mode="json"), None))  # already stored: pseudonymised when submitted
        return row

    def _triage(self, dossiers: Sequence[Any]) -> list[dict[str, Any]]:
        from assistant.services.triage import triage_dossiers

        return [r.model_dump(mode="json") for r in triage_dossiers(self.settings, list(dossiers), with_precedents=True,
                                                                   resources=self.resources)]

    def _answer(self, intent: Intent, text: str, turn: Turn, current: dict[str, Any] | None,
                new: NewDossiers, timings: dict[str, float], pseudo: Pseudonymiser | None = None) -> A.Answer:
        name = intent.name
        if name == "command":
            if intent.command == "help":
                return A.Answer(message=f"{A.t('help_title')} {A.t('can_do')}", kind="help")
            return A.Answer(message=f"{A.t('unknown_command', command=intent.command)} {A.t('help_title')}",
                            kind="command")
        if name == "ambiguous":
            return A.Answer(message=A.t("ambiguous"), kind="ambiguous")
        if name == "small_talk":
            return A.Answer(message=f"{A.t('small_talk')} {A.t('can_do')}", kind="small_talk")
        if name in ("out_of_scope", "injection"):
            answer = A.refuse(name)
            if name == "injection":
                answer.message = f"{A.t('refusal')} {A.t('injection')}"
            return answer
        if name == "dossier":
            from assistant.services.intake import read_upload

            items = read_upload(self.settings, text.encode("utf-8"), declared_type=intent.dossier_type)
            return self._triage_answer(intent, items, new, timings, pseudo)
        if name == "search":
            if not intent.text.strip():
                return A.Answer(message=A.t("empty_search"), kind="search")
            with self.answerer() as ans:
                return ans._passages(intent.text)
        if name == "dossier_question" and current is None:
            return A.Answer(refused=True, message=f"{A.t('refusal')} {A.t('no_dossier')}", kind="no_dossier")
        with self.answerer() as ans:
            if name == "dossier_question" and current is not None:
                return ans.dossier(text, current, turn.last_citations)
            return ans.corpus(text, intent.entities)

    def _triage_answer(self, intent: Intent, items: Sequence[Any], new: NewDossiers, timings: dict[str, float],
                       pseudo: Pseudonymiser | None = None) -> A.Answer:
        mapping: dict[str, str] | None = None
        if pseudo is not None:
            from assistant.services.pseudonyms import pseudonymise_item

            items = [pseudonymise_item(self.settings, it, pseudo).item for it in items]
            mapping = pseudo.mapping  # shared with the message: complete once the message is done
        t = time.perf_counter()
        rows = self._triage([it.dossier for it in items])
        timings["triage"] = _ms(t)
        answer = A.Answer(kind="triage")
        for it, row in zip(items, rows, strict=True):
            row["warnings"] = [*it.warnings, *row.get("warnings", [])]
            new.append((row, it.dossier.model_dump(mode="json"), mapping))
            try:
                with self.answerer() as ans:
                    part = ans.triage(row)
            except StoreError:
                part = A.Answer(notices=[f"Dossier {row['id']} : niveau de risque « {row['risk_level']} » "
                                         "(index absent : citations indisponibles)."])
            answer.sentences += part.sentences
            answer.notices += part.notices
        if intent.injection or any(w for it in items for w in it.warnings if "instructions" in w):
            answer.notices.append(A.t("injection_in_dossier"))
        if not answer.sentences and not answer.notices:
            return A.refuse()
        return answer


def render(answer: A.Answer) -> dict[str, Any]:
    """The reply fields of an answer: sentences with numbered citations, the answer text, the hits."""
    if answer.refused or (answer.message is not None and not answer.sentences):
        text = answer.message or f"{A.t('refusal')} {A.t('can_do')}"
        return {"answer": " ".join([text, *answer.notices]), "refused": answer.refused, "sentences": [],
                "citations": []}
    numbers: dict[tuple[str, int, int], int] = {}
    hits: list[dict[str, Any]] = []
    sentences = []
    for s in answer.sentences:
        refs = []
        for h in s.citations:
            key = (h.document_id, h.start, h.end)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                hits.append(h.model_dump(mode="json"))
            if numbers[key] not in refs:
                refs.append(numbers[key])
        sentences.append({"text": s.text, "citations": refs})
    body = " ".join(f"{s['text']} " + "".join(f"[{n}]" for n in s["citations"]) for s in sentences)
    return {"answer": " ".join([body, *answer.notices]).strip(), "refused": False, "sentences": sentences,
            "citations": hits}


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def _stopwords() -> list[str]:
    from corpora.normalise import stop_words

    return [*sorted(stop_words()), *_DOMAIN_STOP]


# Domain words that are also product names in the BDPM (never linked as a product).
_DOMAIN_STOP = (
    "service", "medical", "rendu", "interaction", "interactions", "niveau", "statut", "avis", "dossier",
    "haute", "autorite", "sante", "commission", "transparence", "amelioration", "surveillance", "renforcee",
    "rupture", "vaccin", "vaccins", "medicament", "medicaments", "specialite", "substance", "produit",
    "arbitrage", "europeen", "lettre", "professionnels", "precedent", "precedents", "critere", "criteres",
    "delai", "regle", "passage", "quelle", "quel", "quels", "quelles", "entre", "pour", "avec", "sans",
    "capitale", "australie", "france", "paris", "europe", "monde", "pays", "ville", "temps", "annee",
)


def reply_summary(reply: Mapping[str, Any]) -> str:
    """The answer text for a terminal (what ``gdr ask`` prints without ``--json``)."""
    lines = [reply["answer"]]
    for i, h in enumerate(reply["citations"], start=1):
        lines.append(f"[{i}] {h['document_id']} ({h['start']}–{h['end']}) : « {' '.join(h['excerpt'].split())[:200]} »")
    return "\n".join(lines)


__all__ = ["ChatService", "Exchange", "GdrError", "check_message", "render", "reply_summary"]
