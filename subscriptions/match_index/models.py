"""The match-change log: which contacts' index rows changed, in commit order.

Written in the same transaction as every change to `match_key` (see `changes.record`), read
by each process's in-memory index before it matches, so all processes follow the tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class MatchChange(Base):
    __tablename__ = "match_change"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The contact whose index rows changed; 0 = everything (a rebuild or a bulk load).
    subscriber_id: Mapped[int] = mapped_column(Integer)
    # Random per row: a reader that remembers (seq, token) notices when the log was emptied
    # and refilled (seq numbers reused), which plain seq numbers cannot tell it.
    token: Mapped[int] = mapped_column(BigInteger)
