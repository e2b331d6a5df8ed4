"""Audit log: append-only, hash-chained events; verification, export and purge (framework-free).

Every event (triage, view of a dossier, chat question and answer, decision, override, export, login,
account changes…) records who, when, with which versions, and what. Its ``hash`` is
``SHA-256(prev_hash + canonical JSON of the event)``, ``prev_hash`` being the previous event's hash, so
editing, deleting or reordering any row breaks the chain at that row (:func:`verify_chain`).

Appends run in the caller's transaction: an event commits or rolls back with what it records (a decision
and its event are one transaction; a process that dies loses both or neither). They are serialised by
the single row of ``audit_head``: each append first *updates* that row, which takes SQLite's write lock
(waiting up to ``busy_timeout``) or PostgreSQL's row lock until the transaction ends; only then is the
chain's end read. Concurrent API workers therefore queue, and the chain never forks (``hash`` is unique
too). Purging old events (:func:`purge`) keeps the chain verifiable: the head keeps the last purged
event's position and hash as an anchor, and a ``purge`` event in the chain records the same anchor.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from assistant.db.models import AuditEventRow, AuditHeadRow, utcnow
from assistant.services.dossiers import database_errors
from corpora.errors import InputError, StoreError

GENESIS = "0" * 64
HEAD_ID = 1
#: the fields covered by an event's hash, in the canonical JSON (keys sorted)
HASHED_FIELDS = ("seq", "at", "kind", "actor", "role", "dossier_id", "payload", "versions", "prev_hash")

#: event kinds and their French label (``gdr audit export``, the UI)
EVENT_KINDS: dict[str, str] = {
    "triage": "Triage d'un dossier (évaluation enregistrée)",
    "dossier_view": "Consultation d'un dossier ou d'une évaluation",
    "pseudonyms_view": "Lecture de la correspondance des pseudonymes d'une évaluation",
    "chat": "Question à l'assistant et réponse citée",
    "decision": "Décision conforme à la proposition",
    "override": "Décision modifiant la proposition",
    "export": "Export de données",
    "login": "Connexion",
    "login_failed": "Échec de connexion",
    "account_created": "Création de compte",
    "role_change": "Changement de rôle",
    "account_disabled": "Désactivation de compte",
    "account_enabled": "Réactivation de compte",
    "password_change": "Changement de mot de passe",
    "feedback": "Retour d'un utilisateur",
    "purge": "Purge des événements au-delà de la durée de conservation",
}

HEAD_MISSING = "Journal d'audit non initialisé (ligne audit_head absente) : lancez « gdr db upgrade »."


class HasLogin(Protocol):
    @property
    def login(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """Who did what: an account (login and role) or a command-line operator."""

    login: str | None
    role: str | None = None

    @classmethod
    def of(cls, user: HasLogin | Actor | None) -> Actor:
        if user is None:
            return SYSTEM
        if isinstance(user, Actor):
            return user
        return cls(login=user.login, role=user.role)


SYSTEM = Actor(login=None, role=None)


def cli_actor() -> Actor:
    """The operator of a ``gdr`` command (system user name; the CLI has no account)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "inconnu"
    return Actor(login=f"cli:{name}"[:64], role=None)


@lru_cache(maxsize=1)
def _base_versions() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    from assistant.services.permissions import load_permissions
    from classifier.policy import policy_version
    from classifier.referentiel import referentiel_version

    try:
        app = version("gdr-sante")
    except PackageNotFoundError:
        app = "inconnue"
    return (("application", app), ("referentiel", str(referentiel_version())), ("politique", policy_version()),
            ("permissions", load_permissions().version))


def current_versions(**extra: str | None) -> dict[str, str]:
    """Versions of the application, référentiel, processing-mode policy and permissions (plus ``extra``)."""
    versions = dict(_base_versions())
    versions.update({k: str(v) for k, v in extra.items() if v is not None})
    return versions


class AuditEvent(BaseModel):
    """One event as stored and exported (``gdr audit export`` writes one per JSON line)."""

    seq: int
    at: datetime
    kind: str
    actor: str | None = None
    role: str | None = None
    dossier_id: str | None = None
    payload: dict[str, Any]
    versions: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass
class NewEvent:
    kind: str
    actor: Actor = SYSTEM
    dossier_id: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    versions: Mapping[str, Any] | None = None


# --------------------------------------------------------------------------- hashing (pure)

def plain_json(value: Any) -> Any:
    """``value`` as it will read back from a JSON column (tuples → lists, keys → strings…)."""
    return json.loads(json.dumps(to_jsonable_python(value), ensure_ascii=False, allow_nan=False))


def canonical_json(event: Mapping[str, Any]) -> str:
    """The canonical JSON of an event's hashed fields (sorted keys, no spaces, UTF-8, ISO UTC time)."""
    body = {name: event.get(name) for name in HASHED_FIELDS}
    at = body["at"]
    if isinstance(at, datetime):
        body["at"] = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the previous hash followed by the canonical JSON of the event."""
    return hashlib.sha256((prev_hash + canonical_json(event)).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- appending

def _lock_head(session: Session) -> AuditHeadRow:
    """Take the chain's lock (write the head row first) and read the head under it."""
    table = AuditHeadRow.__table__  # type: ignore[attr-defined]
    with database_errors(session):
        # A write first: SQLite takes its write lock with a busy wait (no read lock held before it, so
        # no deadlock), PostgreSQL locks the row; both until the caller's transaction ends.
        locked = session.execute(sa.update(table).where(table.c.id == HEAD_ID).values(seq=table.c.seq))
        if locked.rowcount != 1:  # type: ignore[attr-defined]
            raise StoreError(HEAD_MISSING)
        row = session.execute(sa.select(table).where(table.c.id == HEAD_ID)).one()
    return AuditHeadRow(id=row.id, seq=row.seq, last_hash=row.last_hash, anchor_seq=row.anchor_seq,
                        anchor_hash=row.anchor_hash)


def record_events(session: Session, events: Sequence[NewEvent]) -> list[AuditEvent]:
    """Append ``events`` to the chain in the caller's transaction (one lock for all); the caller commits."""
    for event in events:
        if event.kind not in EVENT_KINDS:
            raise InputError(f"Type d'événement d'audit inconnu : « {event.kind} ».")
    if not events:
        return []
    head = _lock_head(session)
    seq, prev = head.seq, head.last_hash
    rows: list[dict[str, Any]] = []
    now = utcnow()  # taken under the lock: times never go backwards along the chain
    for event in events:
        seq += 1
        actor = Actor.of(event.actor)
        values: dict[str, Any] = {
            "seq": seq, "at": now, "kind": event.kind, "actor": actor.login, "role": actor.role,
            "dossier_id": event.dossier_id, "payload": plain_json(dict(event.payload)),
            "versions": plain_json(dict(event.versions if event.versions is not None else current_versions())),
            "prev_hash": prev,
        }
        values["hash"] = prev = event_hash(prev, values)
        rows.append(values)
    table = AuditHeadRow.__table__  # type: ignore[attr-defined]
    with database_errors(session):
        session.execute(sa.insert(AuditEventRow.__table__), rows)  # type: ignore[attr-defined]
        session.execute(sa.update(table).where(table.c.id == HEAD_ID).values(seq=seq, last_hash=prev))
    return [AuditEvent.model_validate(r) for r in rows]


def record(session: Session, kind: str, *, actor: HasLogin | Actor | None = None, dossier_id: str | None = None,
           payload: Mapping[str, Any] | None = None, versions: Mapping[str, Any] | None = None) -> AuditEvent:
    """Append one event in the caller's transaction (the caller commits)."""
    return record_events(session, [NewEvent(kind=kind, actor=Actor.of(actor), dossier_id=dossier_id,
                                            payload=payload or {}, versions=versions)])[0]


def _citation(hit: Any) -> dict[str, Any]:
    data = hit.model_dump(mode="json") if hasattr(hit, "model_dump") else dict(hit)
    keys = ("id", "document_id", "source", "kind", "title", "start", "end")
    return {k: data[k] for k in keys if k in data}


def record_chat(session: Session, *, actor: HasLogin | Actor | None, question: str, answer: str,
                citations: Iterable[Any] = (), conversation_id: str | None = None, dossier_id: str | None = None,
                intent: str | None = None, refused: bool = False, model_version: str | None = None) -> AuditEvent:
    """Record one chat exchange: the question, the answer and its citations (passage ids and offsets).

    For the conversation service: call it in the transaction that stores the message.
    """
    payload = {"question": question, "answer": answer, "citations": [_citation(c) for c in citations],
               "conversation_id": conversation_id, "intent": intent, "refused": refused}
    return record(session, "chat", actor=actor, dossier_id=dossier_id, payload=payload,
                  versions=current_versions(model=model_version))


# --------------------------------------------------------------------------- reading

def _event(row: Any) -> AuditEvent:
    return AuditEvent.model_validate(row, from_attributes=True)


def day_start(day: date | datetime | None) -> datetime | None:
    """Midnight UTC of ``day`` (a date), or the datetime itself in UTC."""
    if day is None:
        return None
    if isinstance(day, datetime):
        return day if day.tzinfo else day.replace(tzinfo=UTC)
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filtered(stmt: Any, since: date | datetime | None, until: date | datetime | None, kinds: Sequence[str],
              dossier_id: str | None) -> Any:
    unknown = [k for k in kinds if k not in EVENT_KINDS]
    if unknown:
        raise InputError(f"Type d'événement inconnu : {', '.join(unknown)} (connus : {', '.join(EVENT_KINDS)}).")
    events = _events_table()
    start, end = day_start(since), day_start(until)
    if start is not None:
        stmt = stmt.where(events.c.at >= start)
    if end is not None:
        stmt = stmt.where(events.c.at < end)
    if kinds:
        stmt = stmt.where(events.c.kind.in_(list(kinds)))
    if dossier_id is not None:
        stmt = stmt.where(events.c.dossier_id == dossier_id)
    return stmt


def _events_table() -> sa.Table:
    """The events table, read through Core (rows, not ORM objects: no identity map grows while reading)."""
    table: sa.Table = AuditEventRow.__table__  # type: ignore[attr-defined]
    return table


def iter_events(session: Session, *, since: date | datetime | None = None, until: date | datetime | None = None,
                kinds: Sequence[str] = (), dossier_id: str | None = None, batch: int = 1000) -> Iterator[AuditEvent]:
    """Events in chain order, optionally from ``since`` (included) to ``until`` (excluded), by batches."""
    events = _events_table()
    stmt = _filtered(sa.select(events), since, until, kinds, dossier_id).order_by(events.c.seq)
    last: int | None = None
    while True:
        page = stmt if last is None else stmt.where(events.c.seq > last)
        with database_errors(session):
            rows = session.execute(page.limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield _event(row)
        last = rows[-1].seq


def list_events(session: Session, *, since: date | datetime | None = None, kinds: Sequence[str] = (),
                dossier_id: str | None = None, limit: int = 100) -> list[AuditEvent]:
    """The latest ``limit`` matching events, in chain order."""
    if not 1 <= limit <= 10_000:
        raise InputError("limit doit être compris entre 1 et 10 000.")
    events = _events_table()
    stmt = _filtered(sa.select(events), since, None, kinds, dossier_id).order_by(events.c.seq.desc()).limit(limit)
    with database_errors(session):
        return [_event(row) for row in reversed(session.execute(stmt).all())]


# --------------------------------------------------------------------------- verification

class Verification(BaseModel):
    """The result of :func:`verify_chain` (``ok`` false names the first broken event)."""

    ok: bool
    events: int
    first_seq: int | None = None
    last_seq: int | None = None
    head_hash: str
    anchor_seq: int
    broken_seq: int | None = None
    problem: str | None = None

    def message(self) -> str:
        if self.ok:
            span = f"n° {self.first_seq} à {self.last_seq}" if self.events else "aucun événement"
            purged = f" ; {self.anchor_seq} événement(s) purgé(s) avant, ancre vérifiée" if self.anchor_seq else ""
            return (f"Journal d'audit intègre : {self.events} événement(s) ({span}){purged} ; "
                    f"empreinte de tête {self.head_hash}.")
        return f"Journal d'audit rompu : {self.problem}"


def _describe(event: AuditEvent) -> str:
    who = f", par {event.actor}" if event.actor else ""
    return f"événement n° {event.seq} ({event.kind} du {event.at:%Y-%m-%d %H:%M:%S}{who})"


def verify_chain(session: Session) -> Verification:
    """Recompute every hash from the anchor to the head; stop at the first broken event."""
    table = AuditHeadRow.__table__  # type: ignore[attr-defined]
    with database_errors(session):
        head = session.execute(sa.select(table).where(table.c.id == HEAD_ID)).first()
    if head is None:
        raise StoreError(HEAD_MISSING)
    expected_seq, expected_prev = head.anchor_seq + 1, head.anchor_hash
    count, first, last_purge = 0, None, None

    def broken(seq: int, problem: str) -> Verification:
        return Verification(ok=False, events=count, first_seq=first, last_seq=expected_seq - 1,
                            head_hash=head.last_hash, anchor_seq=head.anchor_seq, broken_seq=seq, problem=problem)

    for event in iter_events(session):
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                missing = (f"n° {expected_seq}" if event.seq == expected_seq + 1
                           else f"n° {expected_seq} à {event.seq - 1}")
                return broken(event.seq, f"{_describe(event)} : événement(s) {missing} absent(s) (ligne supprimée).")
            return broken(event.seq, f"{_describe(event)} : position inattendue (attendu n° {expected_seq} : "
                                     "ligne insérée ou conservée au-delà de l'ancre de purge).")
        if event.prev_hash != expected_prev:
            return broken(event.seq, f"{_describe(event)} : son empreinte précédente ne correspond pas à "
                                     "l'événement qui le précède (ligne supprimée, insérée ou réordonnée).")
        if event_hash(event.prev_hash, event.model_dump()) != event.hash:
            return broken(event.seq, f"{_describe(event)} : contenu modifié après son enregistrement "
                                     "(empreinte recalculée différente).")
        if event.kind == "purge":
            last_purge = event
        first = event.seq if first is None else first
        count += 1
        expected_seq, expected_prev = event.seq + 1, event.hash
    if expected_seq - 1 != head.seq or expected_prev != head.last_hash:
        return broken(expected_seq, f"fin de chaîne : la tête indique l'événement n° {head.seq}, le dernier présent "
                                    f"est le n° {expected_seq - 1} (événements finaux supprimés ou tête modifiée).")
    if head.anchor_seq:
        anchored = last_purge is not None and (last_purge.payload.get("anchor_seq"), last_purge.payload.get(
            "anchor_hash")) == (head.anchor_seq, head.anchor_hash)
        if not anchored:
            return broken(head.anchor_seq + 1, f"ancre de purge (n° {head.anchor_seq}) non confirmée par le dernier "
                                               "événement de purge de la chaîne (événements anciens supprimés ?).")
    return Verification(ok=True, events=count, first_seq=first, last_seq=expected_seq - 1 if count else None,
                        head_hash=head.last_hash, anchor_seq=head.anchor_seq)


# --------------------------------------------------------------------------- purge

class PurgeResult(BaseModel):
    deleted: int
    before: datetime
    anchor_seq: int
    anchor_hash: str


def purge(session: Session, *, retention_days: int, now: datetime | None = None,
          actor: HasLogin | Actor | None = None, dry_run: bool = False) -> PurgeResult:
    """Delete the events older than ``retention_days`` (a prefix of the chain) and anchor the rest.

    The head keeps the last deleted event's position and hash, and a ``purge`` event recording the same
    anchor is appended, so :func:`verify_chain` still checks the remaining chain from its first event.
    The caller commits (nothing is deleted when it rolls back).
    """
    from assistant.settings import MIN_AUDIT_RETENTION_DAYS

    if retention_days < MIN_AUDIT_RETENTION_DAYS:
        raise InputError(f"Durée de conservation trop courte : {retention_days} jours "
                         f"(au moins {MIN_AUDIT_RETENTION_DAYS}, AI Act art. 19 et 26).")
    before = (now or utcnow()) - timedelta(days=retention_days)
    head = _lock_head(session)
    events = _events_table()
    with database_errors(session):
        last = session.execute(sa.select(sa.func.max(events.c.seq)).where(events.c.at < before)).scalar()
        if last is None:
            return PurgeResult(deleted=0, before=before, anchor_seq=head.anchor_seq, anchor_hash=head.anchor_hash)
        anchor_hash = session.execute(sa.select(events.c.hash).where(events.c.seq == last)).scalar_one()
        deleted = int(session.execute(sa.select(sa.func.count()).where(events.c.seq <= last)).scalar_one())
        if dry_run:
            return PurgeResult(deleted=deleted, before=before, anchor_seq=last, anchor_hash=anchor_hash)
        session.execute(sa.delete(events).where(events.c.seq <= last))
        table = AuditHeadRow.__table__  # type: ignore[attr-defined]
        session.execute(sa.update(table).where(table.c.id == HEAD_ID).values(anchor_seq=last, anchor_hash=anchor_hash))
    record(session, "purge", actor=actor, payload={
        "anchor_seq": last, "anchor_hash": anchor_hash, "deleted": deleted, "before": before.isoformat(),
        "retention_days": retention_days})
    return PurgeResult(deleted=deleted, before=before, anchor_seq=last, anchor_hash=anchor_hash)
