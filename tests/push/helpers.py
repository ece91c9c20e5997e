"""Test helpers for the delivery pipeline: real subscribers, a fixed audience, and a
recording channel (a fake of the outside world for queue/worker tests)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from sqlalchemy import select

from core.db import Database
from push.channels.base import RenderedMessage, SendResult, SendStatus
from push.models import Delivery, DeliveryAttempt
from subscriptions import service as subscriptions
from subscriptions.views import DeliveryPreference, Recipient

IMMEDIATE = DeliveryPreference("immediate", None, None, None, False)


def preference(
    frequency: str = "immediate",
    quiet: tuple[time, time] | None = None,
    cap: int | None = None,
    paused: bool = False,
) -> DeliveryPreference:
    start, end = quiet if quiet else (None, None)
    return DeliveryPreference(frequency, start, end, cap, paused)


async def make_recipients(
    db: Database, count: int, *, channel: str = "telegram", first_chat: int = 1001,
    pref: DeliveryPreference = IMMEDIATE, role: str = "subscriber",
) -> list[Recipient]:
    """Real subscribers with one address each (so deactivate/replace work on real rows)."""
    out: list[Recipient] = []
    async with db.session() as session:
        for n in range(count):
            address = str(first_chat + n)
            sub = await subscriptions.ensure_subscriber_for_address(session, channel, address)
            found = await subscriptions.find_address(session, channel, address)
            assert found is not None
            out.append(
                Recipient(sub.id, found.id, channel, address, ("您订阅了“就业创业”",), role, pref)
            )
    return out


class StaticAudience:
    """An audience function returning a fixed list (what subscriptions would compute)."""

    def __init__(self, recipients: Sequence[Recipient]) -> None:
        self.recipients = list(recipients)
        self.calls = 0

    async def __call__(self, session: Any, policy: Any) -> list[Recipient]:
        self.calls += 1
        return list(self.recipients)


@dataclass
class RecordingChannel:
    """Accepts everything unless told otherwise per address; records what it was given."""

    name: str = "telegram"
    sent: list[RenderedMessage] = field(default_factory=list)
    scripted: dict[str, list[SendResult]] = field(default_factory=lambda: defaultdict(list))
    counter: int = 0

    def will_answer(self, address: str, *results: SendResult) -> None:
        self.scripted[address].extend(results)

    async def send(self, message: RenderedMessage) -> SendResult:
        queue = self.scripted.get(message.address)
        if queue:
            result = queue.pop(0)
            if result.status != SendStatus.SENT:
                return result
        self.sent.append(message)
        self.counter += 1
        return SendResult(SendStatus.SENT, provider_message_id=str(self.counter))

    async def close(self) -> None:
        return None

    def to(self, address: str) -> list[RenderedMessage]:
        return [m for m in self.sent if m.address == address]


def test_link(base_url: str, delivery_id: int, secret: str) -> str:
    return f"{base_url}/r/{delivery_id}"


test_link.__test__ = False  # type: ignore[attr-defined]


async def deliveries(db: Database, **where: Any) -> list[Delivery]:
    async with db.reader() as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list((await session.execute(query)).scalars())


async def attempts(db: Database, delivery_id: int) -> list[DeliveryAttempt]:
    async with db.reader() as session:
        rows = await session.execute(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
        )
        return list(rows.scalars())


async def settled_count(count: Callable[[], int], quiet: float = 1.0, within: float = 60.0) -> int:
    """`count()` once it has not changed for `quiet` seconds (sends already under way finished)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last, since = count(), loop.time()
    while loop.time() - since < quiet:
        assert loop.time() < deadline, "the count never settled"
        await asyncio.sleep(0.05)
        if count() != last:
            last, since = count(), loop.time()
    return last
