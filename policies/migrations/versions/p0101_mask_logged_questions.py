"""mask personal data in questions already logged

Revision ID: p0101
Revises: p0002
Create Date: 2026-12-02 09:05:00

Questions and feedback comments are stored masked from now on; this masks the rows written
before, so the unanswered-questions board never shows an ID number or a mobile someone typed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from policies.pii import mask_pii

revision = 'p0101'
down_revision = 'p0002'
branch_labels = None
depends_on = None

_BATCH = 1000


def _mask_column(table: str, columns: dict[str, int]) -> None:
    """Masks each column in place, cut to its length (a masked e-mail can grow by a few characters)."""
    connection = op.get_bind()
    names = ", ".join(columns)
    last_id = 0
    while True:
        rows = connection.execute(
            sa.text(f"SELECT id, {names} FROM {table} WHERE id > :last ORDER BY id LIMIT {_BATCH}"),
            {"last": last_id},
        ).all()
        if not rows:
            return
        for row in rows:
            values = {name: row[index + 1] or "" for index, name in enumerate(columns)}
            masked = {name: mask_pii(value)[: columns[name]] for name, value in values.items()}
            if masked != values:
                assignments = ", ".join(f"{name} = :{name}" for name in columns)
                connection.execute(sa.text(f"UPDATE {table} SET {assignments} WHERE id = :id"),
                                   {**masked, "id": row[0]})
        last_id = rows[-1][0]


def upgrade() -> None:
    _mask_column("qa_question", {"text": 500, "normalized": 200})
    _mask_column("qa_feedback", {"comment": 1000})


def downgrade() -> None:
    """Masking cannot be undone: the hidden characters are gone on purpose."""
