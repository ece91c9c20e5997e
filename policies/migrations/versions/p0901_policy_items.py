"""policy items (事项) with structured conditions

Revision ID: p0901
Revises: p0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "p0901"
down_revision = "p0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("benefit", sa.Text(), nullable=False),
        sa.Column("amount_yuan", sa.Integer(), nullable=True),
        sa.Column("rate_percent", sa.Float(), nullable=True),
        sa.Column("cap_yuan", sa.Integer(), nullable=True),
        sa.Column("track", sa.String(length=10), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("apply_url", sa.String(length=500), nullable=False),
        sa.Column("apply_place", sa.String(length=300), nullable=False),
        sa.Column("materials", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("policy_id", "revision", "position"),
    )
    op.create_index("ix_policy_item_policy_id", "policy_item", ["policy_id"])


def downgrade() -> None:
    op.drop_index("ix_policy_item_policy_id", table_name="policy_item")
    op.drop_table("policy_item")
