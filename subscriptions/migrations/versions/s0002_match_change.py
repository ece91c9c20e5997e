"""match change log

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-27 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_change",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_match_change")),
    )
    # Existing deployments: an in-memory index built now must anchor on a row that exists.
    op.execute("INSERT INTO match_change (subscriber_id, token) VALUES (0, 1)")


def downgrade() -> None:
    op.drop_table("match_change")
