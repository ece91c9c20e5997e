"""read-aloud: voice preferences per chat and clips already uploaded to a platform

Revision ID: d0801
Revises: d0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = 'd0801'
down_revision = 'd0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voice_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voice_preference')),
    sa.UniqueConstraint('channel', 'address', name=op.f('uq_voice_preference_channel_address'))
    )
    op.create_table('voice_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('engine_key', sa.String(length=100), nullable=False),
    sa.Column('provider_id', sa.String(length=300), nullable=False),
    sa.Column('uploaded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voice_upload')),
    sa.UniqueConstraint('policy_id', 'revision', 'channel', 'part', 'engine_key', name=op.f('uq_voice_upload_policy_id_revision_channel_part_engine_key'))
    )


def downgrade() -> None:
    op.drop_table('voice_upload')
    op.drop_table('voice_preference')
