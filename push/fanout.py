"""Fan-out: turn each policy outbox event into delivery rows, in committed chunks.

For each event (in id order) we compute who should hear about it, then insert one row per
(policy revision, kind, subscriber, address) with insert-or-ignore, committing the rows and
the event's progress together chunk by chunk. Consequences a caller may rely on:

* running it twice, or resuming after a crash half-way, never creates a second row;
* the first chunk is small and committed at once, and `on_chunk` fires after each commit, so
  workers start sending while a large fan-out is still being written.

Who hears about what:
  published         the audience computed by `subscriptions`
  amended           everyone who received an earlier revision (kind "amended", with the change
                    summary), plus new matches and people whose earlier copy was still queued
                    (kind "published": they never saw the old text, so they get the new one)
  repealed/expired  everyone who received the policy, told that it no longer applies; queued
                    copies are cancelled
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.db import Database
from push.dao import fanout as store
from push.models import FanoutState
from push.schedule import CHINA_TZ, ImmediatePreference, Preference, schedule

log = logging.getLogger(__name__)

CHUNK_SIZE = 5_000
# The first chunk is small so that the first messages can leave within milliseconds.
FIRST_CHUNK_SIZE = 200
FIRST_CHUNK_PAUSE = 0.01  # seconds
# Groups with fewer contacts are written row by row: below this, one INSERT … SELECT per group
# costs more than reading and inserting the rows (about 2–5 ms a statement on PostgreSQL).
GROUP_STATEMENT_MIN = 100


class Recipient(Protocol):
    """What `subscriptions.service.audience()` returns for each (subscriber, address)."""

    subscriber_id: int
    address_id: int
    channel: str
    address: str
    reasons: tuple[str, ...]
    role: str
    preference: Any
    hub_id: int | None


AudienceFn = Callable[[AsyncSession, Any], Awaitable[Sequence[Recipient]]]
AudienceChunksFn = Callable[..., AsyncIterator[Sequence[Recipient]]]
AudienceGroupsFn = Callable[..., AsyncIterator[Any]]
"""`subscriptions.service.audience_groups(session, policy, *, chunk_size, first_chunk_size,
after_subscriber_id)`: slices of recipient groups in ascending contact id order."""
"""`subscriptions.service.audience_chunks(session, policy, *, chunk_size, first_chunk_size)`:
the audience in (subscriber_id, address_id) order, in chunks, the first one small."""


class Planned(NamedTuple):
    """One recipient of one event, before scheduling (a tuple: cheap to build by the 100,000)."""

    subscriber_id: int
    address_id: int
    channel: str
    address: str
    reasons: tuple[str, ...]
    role: str
    hub_id: int | None
    kind: str
    preference: Preference

    @property
    def key(self) -> tuple[int, int]:
        return (self.subscriber_id, self.address_id)


@dataclass
class FanoutReport:
    events: int = 0
    rows: int = 0


def _default_audience() -> AudienceFn:
    from subscriptions import service as subscriptions

    return subscriptions.audience  # type: ignore[no-any-return]


class Group(Protocol):
    """What `subscriptions.service.audience_groups` yields per group of contacts."""

    reasons: tuple[str, ...]
    role: str
    preference: Any
    hub_id: int | None
    subscriber_ids: tuple[int, ...]


class Slice(Protocol):
    last_subscriber_id: int
    groups: tuple[Group, ...]


# `last_address_id` once a slice is committed: every address of `last_subscriber_id` is done.
ALL_ADDRESSES = 2**31 - 1


def _default_audience_chunks() -> AudienceChunksFn:
    from subscriptions import service as subscriptions

    return subscriptions.audience_chunks  # type: ignore[no-any-return]


def _planned(r: Recipient, kind: str, preference: Preference | None = None) -> Planned:
    return Planned(
        r.subscriber_id, r.address_id, r.channel, r.address, tuple(r.reasons), r.role, r.hub_id, kind,
        preference or r.preference or ImmediatePreference(),
    )


def _sorted_unique(recipients: Sequence[Recipient]) -> Sequence[Recipient]:
    """One recipient per (subscriber, address), the first one seen, in key order. An audience
    that is already sorted and unique (subscriptions' is) is returned as it is: no dictionary,
    no sort, and no per-row work before the first chunk."""
    keys = [(r.subscriber_id, r.address_id) for r in recipients]
    if all(a < b for a, b in itertools.pairwise(keys)):
        return recipients
    by_key: dict[tuple[int, int], Recipient] = {}
    for key, r in zip(keys, recipients, strict=True):
        by_key.setdefault(key, r)
    return [by_key[k] for k in sorted(by_key)]


def _plan_recipients(recipients: Sequence[Recipient], kind: str) -> list[Planned]:
    fallback = ImmediatePreference()
    return [
        Planned(r.subscriber_id, r.address_id, r.channel, r.address, tuple(r.reasons), r.role, r.hub_id,
                kind, r.preference or fallback)
        for r in recipients
    ]


async def _read_ahead(source: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The same items, the next one read while the caller writes the current one.

    For PostgreSQL, where reading contacts (the reader's connection) and inserting rows (the
    writer's) run in separate server processes and so overlap. On SQLite both would run in
    driver threads competing for the GIL, which measured slower than taking turns. The first
    two items are read on demand, so the first chunk is committed before anything else is read."""
    iterator = aiter(source)
    ahead: asyncio.Future[Any] | None = None
    handed = 0
    try:
        while True:
            try:
                item = await ahead if ahead is not None else await anext(iterator)
            except StopAsyncIteration:
                return
            ahead = None
            handed += 1
            if handed >= 2:
                ahead = asyncio.ensure_future(anext(iterator))
            yield item
    finally:
        if ahead is not None:
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await ahead
        await iterator.aclose()  # type: ignore[attr-defined]


async def _stream(
    source: AsyncIterator[Sequence[Recipient]], kind: str
) -> AsyncIterator[tuple[list[Planned], bool]]:
    """Planned chunks from an ordered audience stream, each with "is the last". The first chunk
    goes out at once (its "last" is unknown, so the event is marked done by a final, possibly
    empty, chunk); later ones are held until the next arrives, so the last carries "done"."""
    fallback = ImmediatePreference()
    floor = (0, 0)
    held: list[Planned] | None = None
    first = True
    async for recipients in source:
        chunk = []
        for r in recipients:
            key = (r.subscriber_id, r.address_id)
            if key <= floor:  # the stream is ordered; a repeated key is a duplicate
                continue
            floor = key
            chunk.append(Planned(r.subscriber_id, r.address_id, r.channel, r.address, tuple(r.reasons), r.role,
                                 r.hub_id, kind, r.preference or fallback))
        if first:
            first = False
            yield chunk, False
            continue
        if held is not None:
            yield held, False
        held = chunk
    yield (held if held is not None else []), True


REPEAL_REASON = {"repealed": "该政策已废止", "expired": "该政策已失效"}


class FanOut:
    """Consumes the policies outbox from the last completed event onwards."""

    def __init__(
        self,
        db: Database,
        *,
        audience: AudienceFn | None = None,
        audience_chunks: AudienceChunksFn | None = None,
        audience_groups: AudienceGroupsFn | None = None,
        group_statement_min: int = GROUP_STATEMENT_MIN,
        chunk_size: int = CHUNK_SIZE,
        first_chunk_size: int = FIRST_CHUNK_SIZE,
        on_chunk: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self._audience = audience
        # A given `audience` (tests, benches) is used as it is; otherwise published events
        # stream `subscriptions.service.audience_chunks`, so the first chunk is committed
        # milliseconds after matching instead of after reading the whole audience.
        self._audience_chunks = audience_chunks if audience_chunks is not None or audience is not None else None
        self._stream_default = audience is None and audience_chunks is None
        # Published events with the real audience go by groups (`_fan_out_groups`); a bench may
        # give its own `audience_groups` (same signature as subscriptions').
        self._audience_groups = audience_groups
        self._groups_default = self._stream_default and audience_groups is None
        self.group_statement_min = group_statement_min
        self.chunk_size = chunk_size
        self.first_chunk_size = min(first_chunk_size, chunk_size)
        self.on_chunk = on_chunk or (lambda: None)

    @property
    def audience(self) -> AudienceFn:
        if self._audience is None:
            self._audience = _default_audience()
        return self._audience

    async def run_once(self, *, max_chunks: int | None = None) -> FanoutReport:
        """Fan out every event not yet done. `max_chunks` stops early (tests simulate a crash)."""
        from policies import service as policies

        report = FanoutReport()
        budget = [max_chunks if max_chunks is not None else 1 << 62]
        while budget[0] > 0:
            async with self.db.reader() as session:
                cursor = await store.fanout_cursor(session)
                events = await policies.events_after(session, cursor, limit=50)
            if not events:
                break
            for event in events:
                report.rows += await self.fan_out_event(event, budget)
                if budget[0] <= 0:
                    return report
                report.events += 1
        return report

    async def fan_out_event(self, event: Any, budget: list[int] | None = None) -> int:
        """Fan out one `PolicyEventView`; returns rows inserted now. Safe to call again.

        The audience is planned chunk by chunk, in (subscriber_id, address_id) order, and each
        chunk is committed (with the event's progress) before the next is planned: the first
        messages can leave while the rest of a large audience is still being read."""
        budget = budget if budget is not None else [1 << 62]
        inserted = 0
        async with self.db.reader() as session:
            progress = await store.progress_of(session, event.id)
            if progress is not None and progress.state == FanoutState.DONE:
                return 0
            if event.kind == "published" and (self._groups_default or self._audience_groups is not None):
                return await self._fan_out_groups(session, event, progress, budget)
            resume_after = (progress.last_subscriber_id, progress.last_address_id) if progress else (0, 0)
            first = progress is None or progress.rows_inserted == 0
            chunks, withdraw_reason = await self._plan_chunks(session, event, resume_after, first)
            async for chunk, last in chunks:
                if resume_after > (0, 0):
                    chunk = [p for p in chunk if p.key > resume_after]
                if not chunk and not last:
                    continue
                if budget[0] <= 0:
                    return inserted
                inserted += await self._write_chunk(
                    event, chunk, done=last, withdraw_reason=withdraw_reason if first else None
                )
                budget[0] -= 1
                self.on_chunk()
                if first:
                    # Let the nudged worker claim the first chunk before the next one is built
                    # (building 5,000 rows keeps the event loop busy for a few milliseconds).
                    await asyncio.sleep(FIRST_CHUNK_PAUSE)
                first = False
        return inserted

    async def _fan_out_groups(self, session: AsyncSession, event: Any, progress: Any, budget: list[int]) -> int:
        """A published event with the real audience: slices of recipient groups, each group's
        rows written by one INSERT … SELECT over its contacts' addresses."""
        from policies import service as policies
        from subscriptions import service as subscriptions

        after = 0
        if progress is not None:
            # A contact whose addresses were only partly written (an older, row-by-row run) is
            # taken again: insert-or-ignore skips what exists.
            after = progress.last_subscriber_id - (progress.last_address_id != ALL_ADDRESSES)
        first = progress is None or progress.rows_inserted == 0
        addresses_sql = subscriptions.reachable_addresses_sql(self.db.dialect)
        policy = await policies.get_policy(session, event.policy_id)
        inserted = 0
        groups = self._audience_groups or subscriptions.audience_groups
        slices = groups(
            session, policy, chunk_size=self.chunk_size, first_chunk_size=self.first_chunk_size,
            after_subscriber_id=max(after, 0),
        )  # fmt: skip
        if self.db.dialect == "postgresql":
            slices = _read_ahead(slices)
        # Closed explicitly when stopping early: a slice read ahead must not outlive the session.
        async with contextlib.aclosing(slices):  # type: ignore[type-var]
            async for piece in slices:
                if budget[0] <= 0:
                    return inserted
                inserted += await self._write_slice(event, piece, addresses_sql)
                budget[0] -= 1
                self.on_chunk()
                if first:
                    await asyncio.sleep(FIRST_CHUNK_PAUSE)  # as in fan_out_event
                    first = False
        if budget[0] > 0:
            inserted += await self._write_slice(event, None, addresses_sql)
            budget[0] -= 1
        return inserted

    async def _write_slice(self, event: Any, piece: Slice | None, addresses_sql: str) -> int:
        """Commit one slice's rows with the event's progress; `None` marks the event done."""
        now = clock.now()
        async with store.writing(self.db, background=True) as session:
            progress = await store.progress_for_update(session, event.id, event.policy_id, now)
            if progress.state == FanoutState.DONE:
                return 0
            if piece is None:
                progress.state = FanoutState.DONE
                progress.finished_at = now
                return 0
            if piece.last_subscriber_id <= progress.last_subscriber_id and progress.last_address_id == ALL_ADDRESSES:
                return 0  # another runner got further
            inserted = 0
            slots: dict[Any, Any] = {}
            by_rows: list[tuple[Group, Any]] = []
            for group in piece.groups:
                preference = group.preference or ImmediatePreference()
                # Daily caps book each address; a small group is cheaper as rows than as a
                # statement of its own (a policy naming many topics makes many small groups).
                if (preference.daily_cap and not event.urgent) or len(group.subscriber_ids) < self.group_statement_min:
                    by_rows.append((group, preference))
                    continue
                if preference not in slots:
                    slots[preference] = schedule(preference, now=now, urgent=event.urgent)
                slot = slots[preference]
                if slot is None:
                    continue
                shared = store.GroupDelivery(
                    event.policy_id, event.revision, "published", group.reasons, group.role, group.hub_id,
                    event.urgent, slot.digest, slot.due_at, now,
                )  # fmt: skip
                inserted += await store.insert_group_deliveries(session, shared, group.subscriber_ids, addresses_sql)
            inserted += await self._write_rows(session, event, by_rows, addresses_sql, now)
            progress.last_subscriber_id, progress.last_address_id = piece.last_subscriber_id, ALL_ADDRESSES
            progress.rows_inserted += inserted
        return inserted

    async def _write_rows(
        self, session: AsyncSession, event: Any, groups: list[tuple[Group, Any]], addresses_sql: str, now: datetime
    ) -> int:
        """Groups written row by row: their addresses read in one statement, each row scheduled
        (daily caps booked per address) and inserted in one batch."""
        if not groups:
            return 0
        of: dict[int, tuple[Group, Any]] = {sid: member for member in groups for sid in member[0].subscriber_ids}
        planned = []
        for sid, address_id, channel, address in await store.addresses_of_contacts(session, sorted(of), addresses_sql):
            group, preference = of[sid]
            planned.append(Planned(sid, address_id, channel, address, group.reasons, group.role, group.hub_id,
                                   "published", preference))  # fmt: skip
        return await store.insert_deliveries(session, await self._schedule(session, event, planned, now))

    async def _plan_chunks(
        self, session: AsyncSession, event: Any, resume_after: tuple[int, int], first: bool
    ) -> tuple[AsyncIterator[tuple[list[Planned], bool]], str | None]:
        """(chunks of planned recipients, each with "is the last"; the withdraw reason)."""
        from policies import service as policies

        policy = await policies.get_policy(session, event.policy_id)
        if event.kind == "published":
            chunks = self._audience_chunks
            if chunks is None and self._stream_default:
                chunks = self._audience_chunks = _default_audience_chunks()
            if chunks is not None:
                source = chunks(session, policy, chunk_size=self.chunk_size, first_chunk_size=self.first_chunk_size)
                return _stream(source, "published"), None
            audience = _sorted_unique(await self.audience(session, policy))
            return self._list_chunks(audience, resume_after, first, plan_as="published"), None
        plan, withdraw = await self._plan(session, event, policy)
        return self._list_chunks(plan, resume_after, first), withdraw

    async def _list_chunks(
        self, plan: Sequence[Any], resume_after: tuple[int, int], first: bool, plan_as: str | None = None
    ) -> AsyncIterator[tuple[list[Planned], bool]]:
        """Chunks of a sorted list: of Planned, or of Recipients planned chunk by chunk as
        `plan_as` (so a 75,000-row audience costs nothing before its first chunk)."""
        position = 0
        if resume_after > (0, 0):
            position = bisect.bisect_right(plan, resume_after, key=lambda p: (p.subscriber_id, p.address_id))
        while True:
            size = self.first_chunk_size if first else self.chunk_size
            chunk = plan[position : position + size]
            position += len(chunk)
            first = False
            last = position >= len(plan)
            yield (_plan_recipients(chunk, plan_as) if plan_as else list(chunk)), last
            if last:
                return

    async def _plan(self, session: AsyncSession, event: Any, policy: Any) -> tuple[list[Planned], str | None]:
        """The whole plan of an amendment, repeal or expiry (these compare with earlier rows)."""
        by_key: dict[tuple[int, int], Planned] = {}
        withdraw: str | None = None
        if event.kind == "amended":
            current = {(r.subscriber_id, r.address_id): r for r in await self._whole_audience(session, policy)}
            for e in await store.earlier_recipients(session, policy.id, event.revision - 1):
                match = current.get((e.subscriber_id, e.address_id))
                kind = "amended" if e.received else "published"
                by_key[(e.subscriber_id, e.address_id)] = _planned(
                    e, kind, match.preference if match is not None else ImmediatePreference()  # type: ignore[arg-type]
                )
            for key, r in current.items():
                by_key.setdefault(key, _planned(r, "published"))
            withdraw = f"已被第{event.revision}版取代"
        elif event.kind in REPEAL_REASON:
            withdraw = REPEAL_REASON[event.kind]
            for e in await store.earlier_recipients(session, policy.id, event.revision):
                if e.received:
                    by_key[(e.subscriber_id, e.address_id)] = _planned(e, event.kind, ImmediatePreference())  # type: ignore[arg-type]
        else:
            log.warning("fan-out: unknown event kind %r (event %s) skipped", event.kind, event.id)
        return [by_key[k] for k in sorted(by_key)], withdraw

    async def _whole_audience(self, session: AsyncSession, policy: Any) -> Sequence[Recipient]:
        if self._audience is None and not self._stream_default and self._audience_chunks is not None:
            return [r for chunk in [c async for c in self._audience_chunks(
                session, policy, chunk_size=self.chunk_size, first_chunk_size=self.chunk_size)] for r in chunk]
        return await self.audience(session, policy)

    async def _write_chunk(
        self, event: Any, chunk: Sequence[Planned], *, done: bool, withdraw_reason: str | None
    ) -> int:
        now = clock.now()
        async with store.writing(self.db, background=True) as session:
            progress = await store.progress_for_update(session, event.id, event.policy_id, now)
            if progress.state == FanoutState.DONE:
                return 0
            if withdraw_reason is not None:
                # Older queued copies must not go out once a newer text or a repeal exists.
                before = event.revision - 1 if event.kind == "amended" else event.revision
                await store.cancel_pending_for_policy(session, event.policy_id, before, withdraw_reason)
            floor = (progress.last_subscriber_id, progress.last_address_id)
            chunk = [p for p in chunk if p.key > floor]  # another runner may have got further
            rows = await self._schedule(session, event, chunk, now)
            inserted = await store.insert_deliveries(session, rows)
            if chunk:
                progress.last_subscriber_id, progress.last_address_id = chunk[-1].key
            progress.rows_inserted += inserted
            if done:
                progress.state = FanoutState.DONE
                progress.finished_at = now
        return inserted

    async def _schedule(
        self, session: AsyncSession, event: Any, chunk: Sequence[Planned], now: datetime
    ) -> list[store.NewDelivery]:
        capped = [p.address_id for p in chunk if p.preference.daily_cap and not event.urgent]
        booked: Counter[tuple[int, date]] = Counter()
        if capped:
            day_start = now.astimezone(CHINA_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
            booked = await store.booked_per_day(session, capped, day_start - timedelta(seconds=0))
        rows: list[store.NewDelivery] = []
        # Without a cap the slot depends only on the preference, and most people share a few.
        slots: dict[Any, Any] = {}
        for p in chunk:
            if p.preference.daily_cap and not event.urgent:
                slot = schedule(
                    p.preference, now=now, urgent=event.urgent,
                    booked=lambda day, a=p.address_id: booked[(a, day)],
                )
            else:
                try:
                    slot = slots[p.preference]
                except KeyError:
                    slot = slots[p.preference] = schedule(p.preference, now=now, urgent=event.urgent)
                except TypeError:  # an unhashable preference object
                    slot = schedule(p.preference, now=now, urgent=event.urgent)
            if slot is None:
                continue
            if not slot.digest and p.preference.daily_cap:
                booked[(p.address_id, slot.due_at.astimezone(CHINA_TZ).date())] += 1
            rows.append(
                store.NewDelivery(
                    event.policy_id, event.revision, p.kind, p.subscriber_id, p.address_id, p.channel,
                    p.address, p.reasons, p.role, p.hub_id, event.urgent, slot.digest, slot.due_at, now,
                )
            )
        return rows
