"""What the bot needs to know about a pushed message (a delivery) behind its buttons."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from push import service as push


@dataclass(frozen=True)
class DeliveredPolicy:
    delivery_id: int
    policy_id: int
    address: str
    channel: str


async def delivered_policy(session: AsyncSession, delivery_id: int) -> DeliveredPolicy | None:
    delivery = await push.get_delivery(session, delivery_id)
    if delivery is None:
        return None
    return DeliveredPolicy(delivery.id, delivery.policy_id, delivery.address, delivery.channel)
