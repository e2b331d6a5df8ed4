"""SQLModel tables. Their schema is created and evolved by the Alembic migrations in ``migrations/``.

The recorded outcome of a dossier lives in its own table (``outcome``), so that code that
reads dossiers for models never gets it by accident.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

#: The largest id (or offset) a database integer holds: larger numbers are refused at the API edge (422).
MAX_ID = 2**63 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json_column(nullable: bool = True) -> Any:
    # Portable JSON: TEXT-backed JSON in SQLite, native json in PostgreSQL.
    return sa.Column(sa.JSON(), nullable=nullable)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite keeps no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts_column(nullable: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable)


class DossierRow(SQLModel, table=True):
    """A dossier as it arrived (what models may see)."""

    __tablename__ = "dossier"

    id: str = Field(primary_key=True, max_length=512)
    type: str = Field(index=True, max_length=8)
    title: str
    text: str = ""
    received_at: date | None = Field(default=None, index=True)
    language: str = Field(default="fr", max_length=8)
    source: str = Field(index=True, max_length=64)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())


class OutcomeRow(SQLModel, table=True):
    """What was recorded later about a dossier (kept apart from it)."""

    __tablename__ = "outcome"

    dossier_id: str = Field(
        sa_column=sa.Column(
            sa.String(512), sa.ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
        )
    )
    data: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())


class IngestRunRow(SQLModel, table=True):
    """One ingest: source, files, counts read / written / skipped (with reasons), timings, status."""

    __tablename__ = "ingest_run"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True, max_length=64)
    files: list[str] = Field(default_factory=list, sa_column=_json_column(nullable=False))
    read: int = 0
    written: int = 0
    skipped: dict[str, int] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    started_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
    finished_at: datetime | None = Field(default=None, sa_column=_ts_column(nullable=True))
    seconds: float | None = None
    status: str = Field(default="running", max_length=16)
    error: str | None = None


INGEST_STATUSES = ("running", "completed", "failed")


class AssessmentRow(SQLModel, table=True):
    """One stored triage result (the full JSON line in ``result``), for audit and follow-up.

    ``dossier_id`` is not a foreign key: dossiers uploaded for triage (``intake:…``) are assessed
    without being ingested. ``dossier`` keeps the dossier exactly as it was assessed.
    """

    __tablename__ = "assessment"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: str = Field(index=True, max_length=512)
    dossier_type: str = Field(max_length=8)
    risk_level: str = Field(index=True, max_length=16)
    risk_score: float | None = None
    needs_review: bool = False
    processing_mode_code: str | None = Field(default=None, max_length=64)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    dossier: dict[str, Any] | None = Field(default=None, sa_column=_json_column(nullable=True))
    model_version: str | None = Field(default=None, max_length=128)
    referentiel_version: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())


class UserRow(SQLModel, table=True):
    """An account: login, Argon2 password hash, role (see ``assistant/data/permissions.yaml``).

    Accounts are disabled, never deleted, so that decisions and audit events keep their author.
    """

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    __table_args__ = (sa.UniqueConstraint("login", name="uq_app_user_login"),)

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(index=True, max_length=32)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
    # Tokens issued before this instant are refused (password changed).
    password_changed_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
    last_login_at: datetime | None = Field(default=None, sa_column=_ts_column(nullable=True))


class ConversationRow(SQLModel, table=True):
    """A chat conversation, owned by the account that started it (``None`` for the CLI)."""

    __tablename__ = "conversation"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True, index=True),
    )
    title: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())


class ConversationDossierRow(SQLModel, table=True):
    """A dossier in a conversation's context, with the triage result the answers are built from."""

    __tablename__ = "conversation_dossier"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(
        sa_column=sa.Column(sa.String(64), sa.ForeignKey("conversation.id", ondelete="CASCADE"), nullable=False,
                            index=True)
    )
    dossier_id: str = Field(max_length=512)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    dossier: dict[str, Any] | None = Field(default=None, sa_column=_json_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())


class ChatMessageRow(SQLModel, table=True):
    """One message of a conversation: the user's text, or the assistant's answer with its citations."""

    __tablename__ = "chat_message"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(
        sa_column=sa.Column(sa.String(64), sa.ForeignKey("conversation.id", ondelete="CASCADE"), nullable=False,
                            index=True)
    )
    role: str = Field(max_length=16)
    intent: str | None = Field(default=None, max_length=32)
    content: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    refused: bool = False
    sentences: list[Any] = Field(default_factory=list, sa_column=_json_column(nullable=False))
    citations: list[Any] = Field(default_factory=list, sa_column=_json_column(nullable=False))
    timings_ms: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())


class DecisionRow(SQLModel, table=True):
    """An evaluator's decision on a proposal (an assessment): accepted or changed, with the reason.

    The proposal's level, mode and versions are copied beside the decision, so that a decision reads
    alone (and the override statistics need no join) even if the assessment is later re-triaged.
    """

    __tablename__ = "decision"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: str = Field(index=True, max_length=512)
    assessment_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("assessment.id"), nullable=False, index=True))
    dossier_type: str = Field(max_length=8)
    proposed_level: str = Field(max_length=16)
    proposed_mode: str | None = Field(default=None, max_length=64)
    proposed_score: float | None = None
    risk_level: str = Field(max_length=16)
    processing_mode: str = Field(max_length=64)
    level_changed: bool = False
    mode_changed: bool = False
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    decided_by: str = Field(max_length=64)
    decided_role: str | None = Field(default=None, max_length=32)
    decided_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
    proposed_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
    model_version: str | None = Field(default=None, max_length=128)
    referentiel_version: str | None = Field(default=None, max_length=64)
    policy_version: str | None = Field(default=None, max_length=64)


class FeedbackRow(SQLModel, table=True):
    """A user's feedback: useful / not useful on an answer or a proposal, a suggestion, a problem report.

    ``context`` says where it was given (screen or route, question, answer excerpt…), ``versions`` with
    which versions of the application, référentiel, policy and model.
    """

    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True, max_length=16)
    comment: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    author: str = Field(max_length=64)
    role: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
    screen: str | None = Field(default=None, max_length=200)
    dossier_id: str | None = Field(default=None, index=True, max_length=512)
    assessment_id: int | None = None
    answer_id: str | None = Field(default=None, max_length=128)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    versions: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))


class AuditEventRow(SQLModel, table=True):
    """One event of the append-only audit log; ``hash`` = SHA-256(``prev_hash`` + canonical JSON of the row).

    ``seq`` is the position in the chain (1, 2, …), given under the lock of :class:`AuditHeadRow`.
    """

    __tablename__ = "audit_event"
    __table_args__ = (sa.UniqueConstraint("hash", name="uq_audit_event_hash"),)

    seq: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False, index=True))
    kind: str = Field(index=True, max_length=32)
    actor: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=32)
    dossier_id: str | None = Field(default=None, index=True, max_length=512)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    versions: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHeadRow(SQLModel, table=True):
    """The single row (``id`` 1) that serialises appends: last position and hash, and the purge anchor.

    Every append starts by updating this row, which takes the database's write lock (SQLite) or the
    row lock (PostgreSQL) until the transaction ends: concurrent writers queue instead of forking the
    chain. ``anchor_*`` is the last purged event (genesis when nothing was purged).
    """

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(max_length=64)
    anchor_seq: int = 0
    anchor_hash: str = Field(max_length=64)


class DuplicateKeyRow(SQLModel, table=True):
    """A blocking key of a stored PV assessment (``retrieval.duplicates.blocking_keys``), for the twin lookup.

    A new report is only compared with the stored assessments sharing one of its keys: one indexed
    read per key, whatever the number of stored assessments.
    """

    __tablename__ = "duplicate_key"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, max_length=255)
    assessment_id: int = Field(
        sa_column=sa.Column(sa.Integer(), sa.ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False,
                            index=True))
    dossier_id: str = Field(max_length=512)


class PseudonymMapRow(SQLModel, table=True):
    """The placeholders of one pseudonymised assessment and the values they hide, encrypted (Fernet).

    Kept apart from the assessment (which holds only the pseudonymised dossier); ``token`` is readable
    only with the key of ``settings.privacy`` and through the ``pseudonyms`` permission (admin).
    """

    __tablename__ = "pseudonym_map"

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(sa_column=sa.Column(sa.Integer(), sa.ForeignKey("assessment.id"), nullable=False,
                                                   unique=True))
    dossier_id: str = Field(index=True, max_length=512)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column(nullable=False))
    token: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts_column())
