"""Relational store of GDR Santé: SQLModel tables, Alembic migrations, persistence functions.

Nothing here touches the database at import time; callers build an engine from the
Settings (:func:`assistant.db.engine.make_engine`) and bring the schema up to date with
:func:`assistant.db.engine.upgrade` (Alembic, never ``create_all``).
"""
