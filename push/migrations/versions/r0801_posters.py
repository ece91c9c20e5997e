"""QR posters, their scans and the subscriptions and consultations credited to them

Revision ID: r0801
Revises: r0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = 'r0801'
down_revision = 'r0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('poster',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('policy_title', sa.String(length=300), nullable=False),
    sa.Column('place_name', sa.String(length=200), nullable=False),
    sa.Column('place_kind', sa.String(length=20), nullable=False),
    sa.Column('township', sa.String(length=100), nullable=False),
    sa.Column('batch', sa.String(length=40), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('printed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('print_count', sa.Integer(), nullable=False),
    sa.Column('wechat_qr_url', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poster'))
    )
    with op.batch_alter_table('poster', schema=None) as batch_op:
        batch_op.create_index('ix_poster_policy', ['policy_id', 'place_name'], unique=False)

    op.create_table('poster_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poster_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visitor_key', sa.String(length=64), nullable=False),
    sa.Column('in_wechat', sa.Boolean(), nullable=False),
    sa.Column('scanned_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['poster_id'], ['poster.id'], name=op.f('fk_poster_scan_poster_id_poster'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poster_scan')),
    sa.UniqueConstraint('poster_id', 'day', 'visitor_key', name=op.f('uq_poster_scan_poster_id_day_visitor_key'))
    )
    with op.batch_alter_table('poster_scan', schema=None) as batch_op:
        batch_op.create_index('ix_poster_scan_policy', ['policy_id', 'day'], unique=False)

    op.create_table('poster_credit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poster_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('credited_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['poster_id'], ['poster.id'], name=op.f('fk_poster_credit_poster_id_poster'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poster_credit')),
    sa.UniqueConstraint('poster_id', 'kind', 'subscriber_id', name=op.f('uq_poster_credit_poster_id_kind_subscriber_id'))
    )
    with op.batch_alter_table('poster_credit', schema=None) as batch_op:
        batch_op.create_index('ix_poster_credit_policy', ['policy_id'], unique=False)


def downgrade() -> None:
    op.drop_table('poster_credit')
    op.drop_table('poster_scan')
    op.drop_table('poster')
