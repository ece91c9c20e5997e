"""enterprise.verified, subscriber.contact_verified, enterprise_claim, enterprise_invite

Existing enterprises and contacts keep working as before (verified), because until now
they were registered by staff, an import or the demo data far more often than from a chat.

Revision ID: s0101
Revises: s0003
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "s0101"
down_revision = "s0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("enterprise", sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("subscriber", sa.Column("contact_verified", sa.Boolean(), nullable=False,
                                          server_default=sa.true()))
    op.create_table(
        "enterprise_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("claimed_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], name=op.f("fk_enterprise_claim_enterprise_id_enterprise"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], name=op.f("fk_enterprise_claim_subscriber_id_subscriber"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_claim")),
    )
    op.create_index(op.f("ix_enterprise_claim_enterprise_id"), "enterprise_claim", ["enterprise_id"])
    op.create_index(op.f("ix_enterprise_claim_subscriber_id"), "enterprise_claim", ["subscriber_id"])
    op.create_table(
        "enterprise_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], name=op.f("fk_enterprise_invite_enterprise_id_enterprise"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_invite")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_enterprise_invite_code_hash")),
    )
    op.create_index(op.f("ix_enterprise_invite_enterprise_id"), "enterprise_invite", ["enterprise_id"])


def downgrade() -> None:
    op.drop_table("enterprise_invite")
    op.drop_table("enterprise_claim")
    with op.batch_alter_table("subscriber") as batch_op:
        batch_op.drop_column("contact_verified")
    with op.batch_alter_table("enterprise") as batch_op:
        batch_op.drop_column("verified")
