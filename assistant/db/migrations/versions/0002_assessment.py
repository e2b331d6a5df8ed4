"""Stored triage results: assessment.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dossier_id", sa.String(512), nullable=False),
        sa.Column("dossier_type", sa.String(8), nullable=False),
        sa.Column("risk_level", sa.String(16), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("processing_mode_code", sa.String(64), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("dossier", sa.JSON(), nullable=True),
        sa.Column("model_version", sa.String(128), nullable=True),
        sa.Column("referentiel_version", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_assessment_dossier_id", "assessment", ["dossier_id"])
    op.create_index("ix_assessment_risk_level", "assessment", ["risk_level"])


def downgrade() -> None:
    op.drop_index("ix_assessment_risk_level", table_name="assessment")
    op.drop_index("ix_assessment_dossier_id", table_name="assessment")
    op.drop_table("assessment")
