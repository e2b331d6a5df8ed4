"""Pseudonymisation: the encrypted placeholder → value map of each pseudonymised assessment.

Revision ID: 0007_pseudonym_map
Revises: 0006_duplicates
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_pseudonym_map"
down_revision: str | None = "0006_duplicates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pseudonym_map",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("assessment_id", sa.Integer(), sa.ForeignKey("assessment.id"), nullable=False),
        sa.Column("dossier_id", sa.String(512), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assessment_id", name="uq_pseudonym_map_assessment"),
    )
    op.create_index("ix_pseudonym_map_dossier_id", "pseudonym_map", ["dossier_id"])


def downgrade() -> None:
    op.drop_index("ix_pseudonym_map_dossier_id", table_name="pseudonym_map")
    op.drop_table("pseudonym_map")
