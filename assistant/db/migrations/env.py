"""Alembic environment of GDR Santé.

Run programmatically by :func:`assistant.db.engine.upgrade` (which hands over an open
connection in ``config.attributes["connection"]``), or by developers with
``alembic -c assistant/db/alembic.ini revision --autogenerate -m "..."``, in which case the
URL comes from the Settings (``GDR_DATABASE_URL`` or the SQLite default in the data dir).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from assistant.db import models  # noqa: F401  (registers the tables on the metadata)

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    from assistant.db.engine import database_url
    from assistant.settings import get_settings

    context.configure(
        url=config.attributes.get("url") or database_url(get_settings()),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from assistant.db.engine import make_engine
    from assistant.settings import get_settings

    engine = make_engine(get_settings())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
