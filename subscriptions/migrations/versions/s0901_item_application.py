"""applications and grants of policy items by enterprise

Revision ID: s0901
Revises: s0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "s0901"
down_revision = "s0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("policy_id", "item_name", "enterprise_id"),
    )
    op.create_index("ix_item_application_policy_id", "item_application", ["policy_id"])
    op.create_index("ix_item_application_enterprise_id", "item_application", ["enterprise_id"])


def downgrade() -> None:
    op.drop_table("item_application")
