"""What the bot needs to know about a pushed message (a delivery) behind its buttons.

`push.service` exposes `acknowledge` but no reader of a delivery yet, so the policy and the
address behind a delivery id are read through `push.store` here, in this one place; switch to a
`push.service` function when it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class DeliveredPolicy:
    delivery_id: int
    policy_id: int
    address: str
    channel: str


async def delivered_policy(session: AsyncSession, delivery_id: int) -> DeliveredPolicy | None:
    from push import service as push_service

    reader = getattr(push_service, "get_delivery", None)
    if reader is None:
        from push import store as push_store

        reader = push_store.get_delivery
    delivery = await reader(session, delivery_id)
    if delivery is None:
        return None
    return DeliveredPolicy(delivery.id, delivery.policy_id, str(delivery.address), str(delivery.channel))
