"""whether a policy's push includes those who may qualify for an item

Revision ID: p0902
Revises: p0901
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "p0902"
down_revision = "p0901"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_item_push_choice",
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("include_may_qualify", sa.Boolean(), nullable=False),
        sa.Column("chosen_by", sa.String(length=120), nullable=False),
        sa.Column("chosen_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["policy.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("policy_id"),
    )


def downgrade() -> None:
    op.drop_table("policy_item_push_choice")
