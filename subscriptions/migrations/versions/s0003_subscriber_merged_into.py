"""subscriber.merged_into (contacts merged by service.merge_subscribers)

Revision ID: s0003
Revises: s0002
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriber", sa.Column("merged_into", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriber") as batch_op:
        batch_op.drop_column("merged_into")
