"""One delivery and what happens to it after the queue: receipts (read, acknowledged), the
address side effects of a send, and the reads by which relay tracking and the deadline
reminders find the deliveries they refer to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from push.kinds import CONTENT_KINDS
from push.models import Delivery, DeliveryStatus

# A member who has (or will get) a live one of the CONTENT_KINDS already has the policy's text.
NOT_LIVE = (DeliveryStatus.FAILED, DeliveryStatus.DEAD, DeliveryStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class Recipient:
    """An address a delivery went (or goes) to: one entry per subscriber and address."""

    subscriber_id: int
    address_id: int
    channel: str
    address: str


async def get_delivery(session: AsyncSession, delivery_id: int) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def cancel_pending_for_address(session: AsyncSession, address_id: int, reason: str) -> int:
    result = await session.execute(
        update(Delivery)
        .where(Delivery.address_id == address_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, last_error=reason),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def move_address(session: AsyncSession, address_id: int, new_address: str) -> None:
    """A chat moved (Telegram group → supergroup): queued rows follow it at once."""
    await session.execute(
        update(Delivery)
        .where(Delivery.address_id == address_id, Delivery.status.in_(DeliveryStatus.QUEUED))
        .values(address=new_address),
        execution_options={"synchronize_session": False},
    )


async def mark_read(session: AsyncSession, delivery_id: int, at: datetime) -> bool:
    """Set read_at once; True the first time."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.read_at.is_(None))
        .values(read_at=at),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_acknowledged(session: AsyncSession, delivery_id: int, at: datetime) -> bool:
    """Set acknowledged_at once; True the first time. A digest is one message carrying several
    rows (same address and provider message id): 确认收到 on it acknowledges all of them."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.acknowledged_at.is_(None))
        .values(acknowledged_at=at),
        execution_options={"synchronize_session": False},
    )
    first = bool(result.rowcount)  # type: ignore[attr-defined]
    row = (await session.execute(
        select(Delivery.digest, Delivery.address_id, Delivery.provider_message_id).where(Delivery.id == delivery_id)
    )).first()
    if first and row is not None and row.digest and row.provider_message_id:
        await session.execute(
            update(Delivery)
            .where(Delivery.address_id == row.address_id, Delivery.digest.is_(True),
                   Delivery.provider_message_id == row.provider_message_id, Delivery.acknowledged_at.is_(None))
            .values(acknowledged_at=at),
            execution_options={"synchronize_session": False},
        )
    return first


async def latest_policy_delivery(
    session: AsyncSession, channel: str, address: str, kinds: Iterable[str], *, unacknowledged_only: bool
) -> int | None:
    """The id of the newest message of these kinds sent to this chat address (None if none)."""
    query = (
        select(Delivery.id)
        .where(
            Delivery.channel == channel,
            Delivery.address == str(address),
            Delivery.status == DeliveryStatus.SENT,
            Delivery.kind.in_(tuple(kinds)),
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
        .limit(1)
    )
    if unacknowledged_only:
        query = query.where(Delivery.acknowledged_at.is_(None))
    return (await session.execute(query)).scalar_one_or_none()


async def unacknowledged_holders(
    session: AsyncSession, policy_id: int, *, received_before: datetime
) -> list[Recipient]:
    """Addresses that were sent the policy (any revision) before `received_before` and whose
    subscriber has acknowledged no message about it. Hubs (role relayer) are not applicants:
    their reminders are the relay ones."""
    acked = aliased(Delivery)
    rows = await session.execute(
        select(Delivery.subscriber_id, Delivery.address_id, Delivery.channel, Delivery.address)
        .where(
            Delivery.policy_id == policy_id,
            Delivery.kind.in_(CONTENT_KINDS),
            Delivery.status == DeliveryStatus.SENT,
            Delivery.role != "relayer",
            Delivery.sent_at < received_before,
            ~exists().where(
                acked.policy_id == policy_id,
                acked.subscriber_id == Delivery.subscriber_id,
                acked.acknowledged_at.is_not(None),
            ),
        )
        .distinct()
        .order_by(Delivery.subscriber_id, Delivery.address_id)
    )
    return [Recipient(*row) for row in rows]


async def ids_of_kind(
    session: AsyncSession, *, policy_id: int, revision: int, kind: str
) -> list[tuple[int, int, int]]:
    """(delivery id, subscriber_id, address_id) of every row of this policy revision and kind."""
    rows = await session.execute(
        select(Delivery.id, Delivery.subscriber_id, Delivery.address_id).where(
            Delivery.policy_id == policy_id, Delivery.revision == revision, Delivery.kind == kind
        )
    )
    return [(int(d), int(s), int(a)) for d, s, a in rows]


async def live_policy_deliveries(
    session: AsyncSession, policy_id: int, address_ids: Iterable[int]
) -> dict[int, int]:
    """Address id → the oldest live delivery carrying the policy's text to it (any revision)."""
    ids = sorted(set(address_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(Delivery.address_id, func.min(Delivery.id))
            .where(
                Delivery.policy_id == policy_id,
                Delivery.address_id.in_(ids[start : start + 500]),
                Delivery.kind.in_(CONTENT_KINDS),
                Delivery.status.not_in(NOT_LIVE),
            )
            .group_by(Delivery.address_id)
        )
        found.update({int(a): int(d) for a, d in rows})
    return found


async def relay_delivery_ids(
    session: AsyncSession, policy_id: int, revision: int, keys: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    """(subscriber_id, address_id) → id of the relay delivery of that revision."""
    wanted = set(keys)
    if not wanted:
        return {}
    address_ids = sorted({a for _s, a in wanted})
    found: dict[tuple[int, int], int] = {}
    for start in range(0, len(address_ids), 500):
        rows = await session.execute(
            select(Delivery.subscriber_id, Delivery.address_id, Delivery.id).where(
                Delivery.policy_id == policy_id,
                Delivery.revision == revision,
                Delivery.kind == "relay",
                Delivery.address_id.in_(address_ids[start : start + 500]),
            )
        )
        for s, a, d in rows:
            if (s, a) in wanted:
                found[(int(s), int(a))] = int(d)
    return found


DeliveryState = tuple[str, datetime | None, datetime | None, datetime | None]
"""(status, sent_at, read_at, acknowledged_at) of one delivery."""


async def states_of(session: AsyncSession, delivery_ids: Iterable[int]) -> dict[int, DeliveryState]:
    """Delivery id → its state, for the ids that exist."""
    ids = sorted(set(delivery_ids))
    states: dict[int, DeliveryState] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(Delivery.id, Delivery.status, Delivery.sent_at, Delivery.read_at, Delivery.acknowledged_at)
            .where(Delivery.id.in_(ids[start : start + 500]))
        )
        states.update({int(row[0]): (row[1], row[2], row[3], row[4]) for row in rows})
    return states
