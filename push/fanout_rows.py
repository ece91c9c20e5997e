"""The fan-out's row-by-row work: scheduling planned recipients into delivery rows (daily
caps booked per address), and the whole plan of an amendment, repeal or expiry, which
compares with rows written for earlier revisions."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from policies.views import PolicyEventView, PolicyView
from push.dao import fanout as store
from push.fanout_plan import REPEAL_REASON, Group, Planned, Recipient, planned
from push.schedule import CHINA_TZ, ImmediatePreference, Preference, Slot, schedule

log = logging.getLogger(__name__)


async def schedule_rows(
    session: AsyncSession, event: PolicyEventView, chunk: Sequence[Planned], now: datetime
) -> list[store.NewDelivery]:
    """The delivery rows of planned recipients: due time and digest from each preference."""
    capped = [p.address_id for p in chunk if p.preference.daily_cap and not event.urgent]
    booked: Counter[tuple[int, date]] = Counter()
    if capped:
        day_start = now.astimezone(CHINA_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
        booked = await store.booked_per_day(session, capped, day_start)
    rows: list[store.NewDelivery] = []
    # Without a cap the slot depends only on the preference, and most people share a few.
    slots: dict[Hashable, Slot | None] = {}
    for p in chunk:
        if p.preference.daily_cap and not event.urgent:
            slot = schedule(
                p.preference, now=now, urgent=event.urgent,
                booked=lambda day, a=p.address_id: booked[(a, day)],
            )  # fmt: skip
        else:
            try:
                slot = slots[p.preference]  # type: ignore[index]
            except KeyError:
                slot = slots[p.preference] = schedule(p.preference, now=now, urgent=event.urgent)  # type: ignore[index]
            except TypeError:  # an unhashable preference object
                slot = schedule(p.preference, now=now, urgent=event.urgent)
        if slot is None:
            continue
        if not slot.digest and p.preference.daily_cap:
            booked[(p.address_id, slot.due_at.astimezone(CHINA_TZ).date())] += 1
        row = store.NewDelivery(
            event.policy_id, event.revision, p.kind, p.subscriber_id, p.address_id, p.channel,
            p.address, p.reasons, p.role, p.hub_id, event.urgent, slot.digest, slot.due_at, now,
        )  # fmt: skip
        rows.append(row)
    return rows


async def write_group_rows(
    session: AsyncSession,
    event: PolicyEventView,
    groups: list[tuple[Group, Preference]],
    addresses_sql: str,
    now: datetime,
) -> int:
    """Groups written row by row: their addresses read in one statement, each row scheduled
    (daily caps booked per address) and inserted in one batch."""
    if not groups:
        return 0
    of = {sid: member for member in groups for sid in member[0].subscriber_ids}
    chunk = []
    for sid, address_id, channel, address in await store.addresses_of_contacts(session, sorted(of), addresses_sql):
        group, preference = of[sid]
        chunk.append(Planned(sid, address_id, channel, address, group.reasons, group.role, group.hub_id,
                             "published", preference))  # fmt: skip
    return await store.insert_deliveries(session, await schedule_rows(session, event, chunk, now))


WholeAudience = Callable[[AsyncSession, PolicyView], Awaitable[Sequence[Recipient]]]


async def plan_change(
    session: AsyncSession, event: PolicyEventView, policy: PolicyView, whole_audience: WholeAudience
) -> tuple[list[Planned], str | None]:
    """The whole plan of an amendment, repeal or expiry (these compare with earlier rows), and
    the reason written on queued copies of earlier revisions."""
    by_key: dict[tuple[int, int], Planned] = {}
    withdraw: str | None = None
    if event.kind == "amended":
        current = {(r.subscriber_id, r.address_id): r for r in await whole_audience(session, policy)}
        for e in await store.earlier_recipients(session, policy.id, event.revision - 1):
            match = current.get((e.subscriber_id, e.address_id))
            kind = "amended" if e.received else "published"
            preference = match.preference if match is not None else ImmediatePreference()
            by_key[(e.subscriber_id, e.address_id)] = planned(e, kind, preference)  # type: ignore[arg-type]
        for key, r in current.items():
            by_key.setdefault(key, planned(r, "published"))
        withdraw = f"已被第{event.revision}版取代"
    elif event.kind in REPEAL_REASON:
        withdraw = REPEAL_REASON[event.kind]
        for e in await store.earlier_recipients(session, policy.id, event.revision):
            if e.received:
                by_key[(e.subscriber_id, e.address_id)] = planned(e, event.kind, ImmediatePreference())  # type: ignore[arg-type]
    else:
        log.warning("fan-out: unknown event kind %r (event %s) skipped", event.kind, event.id)
    return [by_key[k] for k in sorted(by_key)], withdraw
