"""web_user.session_generation: console sessions can be ended all at once

Revision ID: w0101
Revises: w0001
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "w0101"
down_revision = "w0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("web_user", sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("web_user") as batch_op:
        batch_op.drop_column("session_generation")
