"""Engine creation from the Settings and Alembic migrations run programmatically.

SQLite (default: ``<data_dir>/gdr.sqlite3``) and PostgreSQL (``postgresql+psycopg://…``)
are both supported; a plain ``postgresql://`` or ``postgres://`` URL is rewritten to the
psycopg (v3) driver. The migrations ship inside the package (``assistant/db/migrations``)
and are located relative to this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from corpora.errors import InputError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

    from assistant.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def normalise_url(url: str) -> str:
    """Rewrite ``postgresql://`` / ``postgres://`` (and the psycopg2 driver) to ``postgresql+psycopg://``."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def database_url(settings: Settings) -> str:
    return normalise_url(settings.database_url_effective)


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<URL invalide>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(settings: Settings) -> Engine:
    """Build the SQLAlchemy engine for the configured database (creates the SQLite file's folder)."""
    url_text = database_url(settings)
    try:
        url = make_url(url_text)
    except ArgumentError as exc:
        raise InputError(f"URL de base de données invalide : {safe_url(url_text)}") from exc
    kwargs: dict[str, Any] = {"echo": settings.db.echo, "future": True}
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False}
    elif backend == "postgresql":
        kwargs["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise InputError(f"Base de données non prise en charge : {safe_url(url_text)} ({exc}).") from exc
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations (no ini file needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = url
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise unreachable(engine, exc) from exc


def unreachable(engine: Engine, exc: BaseException) -> StoreError:
    """A French StoreError for a database that cannot be reached or read."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    return StoreError(f"Base de données inaccessible ({safe_url(str(engine.url))}) : {detail}")


def upgrade(settings: Settings, *, engine: Engine | None = None, revision: str = "head") -> str | None:
    """Run ``alembic upgrade head`` on the configured database; return the revision reached."""
    from alembic import command
    from alembic.util.exc import CommandError

    own = engine is None
    engine = engine or make_engine(settings)
    config = alembic_config(str(engine.url))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        return current_revision(engine)
    except CommandError as exc:
        raise StoreError(
            f"Migration impossible ({exc}) : la base a-t-elle été créée par une version plus récente ?"
        ) from exc
    except SQLAlchemyError as exc:
        raise unreachable(engine, exc) from exc
    finally:
        if own:
            engine.dispose()


def check_schema(engine: Engine) -> str:
    """Raise a French :class:`StoreError` unless the database is at the head revision."""
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        raise StoreError("La base de données n'est pas initialisée : lancez « gdr db upgrade ».")
    if current != head:
        raise StoreError(
            f"La base de données est à la révision {current}, le code attend {head} : lancez « gdr db upgrade »."
        )
    return current
