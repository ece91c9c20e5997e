"""lean delivery indexes: only the rows each query looks for (ADR 0015)

The fan-out of a county-wide policy writes ~77k pending rows at once; every index on
`delivery` is written with each of them. `ix_delivery_policy` duplicated the unique key's
leading column; `ix_delivery_channel_address` (random addresses) is only read for sent rows;
the queue index keeps due pending rows only, and the sweeper and the dead-letter list get
small partial indexes of their own (written when a row is claimed or dies, not at fan-out).

Revision ID: d1601
Revises: d0801
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd1601'
down_revision = 'd0801'
branch_labels = None
depends_on = None


def _where(status: str) -> dict[str, object]:
    clause = sa.text(f"status = '{status}'")
    return {"sqlite_where": clause, "postgresql_where": clause}


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_policy')
        batch_op.drop_index('ix_delivery_queue')
        batch_op.drop_index('ix_delivery_channel_address')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_queue', ['next_attempt_at', 'id'], unique=False, **_where('pending'))
        batch_op.create_index('ix_delivery_leases', ['lease_until'], unique=False, **_where('sending'))
        batch_op.create_index('ix_delivery_dead', ['id'], unique=False, **_where('dead'))
        batch_op.create_index(
            'ix_delivery_channel_address', ['channel', 'address'], unique=False, **_where('sent')
        )


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_channel_address')
        batch_op.drop_index('ix_delivery_dead')
        batch_op.drop_index('ix_delivery_leases')
        batch_op.drop_index('ix_delivery_queue')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_channel_address', ['channel', 'address'], unique=False)
        batch_op.create_index('ix_delivery_queue', ['status', 'next_attempt_at', 'id'], unique=False)
        batch_op.create_index('ix_delivery_policy', ['policy_id', 'status'], unique=False)
