"""Duplicate reports: the blocking keys of stored PV assessments.

Revision ID: 0006_duplicates
Revises: 0005_oversight
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_duplicates"
down_revision: str | None = "0005_oversight"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duplicate_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("assessment_id", sa.Integer(), sa.ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False),
        sa.Column("dossier_id", sa.String(512), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duplicate_key_key", "duplicate_key", ["key"])
    op.create_index("ix_duplicate_key_assessment_id", "duplicate_key", ["assessment_id"])


def downgrade() -> None:
    op.drop_index("ix_duplicate_key_assessment_id", table_name="duplicate_key")
    op.drop_index("ix_duplicate_key_key", table_name="duplicate_key")
    op.drop_table("duplicate_key")
