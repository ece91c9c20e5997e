"""write probe: one row /healthz rewrites to prove the database takes writes

Revision ID: d0401
Revises: d0002
Create Date: 2026-12-02 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = 'd0401'
down_revision = 'd0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'write_probe',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('checked_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_write_probe')),
    )


def downgrade() -> None:
    op.drop_table('write_probe')
