"""Named queries behind the console's delivery reports: deliveries over time for a policy and
the dead-letter list. Read-only; reach counts themselves are in `push.receipts`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import CHINA_TZ
from push.dao import reach
from vocabulary.masking import mask_value


@dataclass(frozen=True)
class DeadLetter:
    delivery_id: int
    policy_id: int
    channel: str
    address: str  # masked: chat ids and openids identify people
    attempts: int
    last_error: str
    created_at: datetime


def _masked_address(address: str) -> str:
    if len(address) <= 4:
        return "****"
    if address.isdigit() and len(address) == 11:
        return mask_value("mobile", address)
    return f"{address[:2]}****{address[-2:]}"


async def sent_per_day(session: AsyncSession, policy_id: int) -> list[tuple[date, int]]:
    """Messages carrying the policy accepted by the platforms, per Beijing calendar day."""
    counts: dict[date, int] = {}
    for sent_at in await reach.sent_times(session, policy_id):
        day = sent_at.astimezone(CHINA_TZ).date()
        counts[day] = counts.get(day, 0) + 1
    return sorted(counts.items())


async def dead_letters(session: AsyncSession, limit: int = 20) -> list[DeadLetter]:
    """Deliveries that gave up after their last retry, newest first."""
    return [
        DeadLetter(d.id, d.policy_id, d.channel, _masked_address(str(d.address)), d.attempts, d.last_error or "",
                   d.created_at)
        for d in await reach.dead_deliveries(session, limit)
    ]
