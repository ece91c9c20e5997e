"""Read receipts and acknowledgements, and the per-policy reach built from them.

"sent" means the platform accepted the message; "read" means the reader opened the signed
tracked link; "acknowledged" means they pressed 确认收到 (or replied so on WeChat). They are
kept apart and never inferred from one another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.errors import Forbidden, NotFound
from policies import service as policies
from push.channels.base import MessageKind
from push.dao import deliveries
from push.dao import reach as reach_counts
from push.links import read_token_payload

# Messages that carry a policy one can acknowledge (not repeal/expiry notices, digests of
# several policies, or relay reminders to hub operators).
ACKNOWLEDGEABLE_KINDS = (MessageKind.PUBLISHED, MessageKind.AMENDED, MessageKind.RELAY)


def _delivery_id_from(payload: Any) -> int | None:
    if payload is None:
        return None
    if isinstance(payload, int):
        return payload
    if isinstance(payload, dict):
        value = payload.get("delivery_id", payload.get("d"))
        return int(value) if value is not None else None
    value = getattr(payload, "delivery_id", None)
    return int(value) if value is not None else None


async def record_read(
    session: AsyncSession, token: str, *, secret: str | None, now: datetime | None = None
) -> str:
    """Record that the reader opened the link (first time only, at `now`, default the clock's);
    return the page to redirect to. `secret` signs the links (settings.secret_key).

    Raises NotFound for a forged, damaged or unknown token, or when no secret is configured.
    """
    if not secret:
        raise NotFound("链接无效或已过期")
    try:
        delivery_id = _delivery_id_from(read_token_payload(token, secret))
    except Exception as exc:
        raise NotFound("链接无效或已过期") from exc
    delivery = await deliveries.get_delivery(session, delivery_id) if delivery_id is not None else None
    if delivery is None:
        raise NotFound("链接无效或已过期")
    await deliveries.mark_read(session, delivery.id, now or clock.now())
    policy = await policies.get_policy(session, delivery.policy_id)
    return str(policy.page_path)


async def acknowledge(
    session: AsyncSession, delivery_id: int, *, by_address: str | None = None, now: datetime | None = None
) -> bool:
    """Record 确认收到 once; True the first time. `by_address` (the chat id or openid the button
    press came from) must be the address the message went to, so nobody acknowledges for others."""
    delivery = await deliveries.get_delivery(session, delivery_id)
    if delivery is None:
        raise NotFound("没有找到这条推送")
    if by_address is not None and str(by_address) != delivery.address:
        raise Forbidden("只能确认发给自己的推送")
    return await deliveries.mark_acknowledged(session, delivery_id, now or clock.now())


async def latest_unacknowledged(session: AsyncSession, channel: str, address: str) -> int | None:
    """The delivery id of the newest policy sent to this chat address and not yet acknowledged
    (what a WeChat reply "收到" refers to), or None."""
    return await _latest_policy_delivery(session, channel, address, unacknowledged_only=True)


async def latest_policy_delivery(session: AsyncSession, channel: str, address: str) -> int | None:
    """The delivery id of the newest policy sent to this chat address, acknowledged or not."""
    return await _latest_policy_delivery(session, channel, address, unacknowledged_only=False)


async def _latest_policy_delivery(
    session: AsyncSession, channel: str, address: str, *, unacknowledged_only: bool
) -> int | None:
    return await deliveries.latest_policy_delivery(
        session, channel, address, ACKNOWLEDGEABLE_KINDS, unacknowledged_only=unacknowledged_only
    )


async def reach(session: AsyncSession, policy_id: int) -> dict[str, Any]:
    """Per-policy reach: distinct addresses matched, queued, sent, failed, dead, cancelled, read,
    acknowledged; overall and by channel. Repeal/expiry notices are not counted as reach."""
    by_channel = await reach_counts.reach_by_channel(session, policy_id)
    totals = {name: sum(c[name] for c in by_channel.values()) for name in reach_counts.REACH_FIELDS}
    return {"policy_id": policy_id, **totals, "by_channel": by_channel}
