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

Planning lives in `push.fanout_plan`, row-by-row scheduling in `push.fanout_rows`, the group
statements in `push.fanout_sql`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.db import Database
from policies import service as policies
from policies.views import PolicyEventView, PolicyView
from push import fanout_sql
from push.dao import fanout as store
from push.fanout_plan import (
    ALL_ADDRESSES,
    AudienceChunksFn,
    AudienceFn,
    AudienceGroupsFn,
    Group,
    Planned,
    Recipient,
    Slice,
    list_chunks,
    read_ahead,
    sorted_unique,
    stream,
)
from push.fanout_rows import plan_change, schedule_rows, write_group_rows
from push.models import FanoutProgress, FanoutState
from push.schedule import ImmediatePreference, Preference, Slot, schedule
from subscriptions import service as subscriptions

__all__ = [
    "CHUNK_SIZE",
    "FIRST_CHUNK_SIZE",
    "GROUP_STATEMENT_MIN",
    "AudienceChunksFn",
    "AudienceFn",
    "AudienceGroupsFn",
    "FanOut",
    "FanoutReport",
    "FanoutSettings",
]

CHUNK_SIZE = 5_000
# The first chunk is small so that the first messages can leave within milliseconds.
FIRST_CHUNK_SIZE = 200
FIRST_CHUNK_PAUSE = 0.01  # seconds
# Groups with fewer contacts are written row by row: below this, one INSERT … SELECT per group
# costs more than reading and inserting the rows (about 2–5 ms a statement on PostgreSQL).
GROUP_STATEMENT_MIN = 100


@dataclass(frozen=True)
class FanoutSettings:
    """How a fan-out cuts its work. `first_chunk_size` is capped at `chunk_size`."""

    chunk_size: int = CHUNK_SIZE
    first_chunk_size: int = FIRST_CHUNK_SIZE
    group_statement_min: int = GROUP_STATEMENT_MIN
    first_chunk_pause: float = FIRST_CHUNK_PAUSE

    def __post_init__(self) -> None:
        object.__setattr__(self, "first_chunk_size", min(self.first_chunk_size, self.chunk_size))


@dataclass
class FanoutReport:
    events: int = 0
    rows: int = 0


def _default_audience() -> AudienceFn:
    return subscriptions.audience  # type: ignore[return-value]


def _default_audience_chunks() -> AudienceChunksFn:
    return subscriptions.audience_chunks  # type: ignore[return-value]


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
        settings: FanoutSettings | None = None,
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
        self.settings = settings or FanoutSettings(chunk_size, first_chunk_size, group_statement_min)
        self.on_chunk = on_chunk or (lambda: None)

    @property
    def chunk_size(self) -> int:
        return self.settings.chunk_size

    @property
    def first_chunk_size(self) -> int:
        return self.settings.first_chunk_size

    @property
    def audience(self) -> AudienceFn:
        if self._audience is None:
            self._audience = _default_audience()
        return self._audience

    async def run_once(self, *, max_chunks: int | None = None) -> FanoutReport:
        """Fan out every event not yet done. `max_chunks` stops early (tests simulate a crash)."""
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

    async def fan_out_event(self, event: PolicyEventView, budget: list[int] | None = None) -> int:
        """Fan out one event; returns rows inserted now. Safe to call again.

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
                    await asyncio.sleep(self.settings.first_chunk_pause)
                first = False
        return inserted

    # -- published, by recipient groups --------------------------------------------------

    async def _fan_out_groups(
        self, session: AsyncSession, event: PolicyEventView, progress: FanoutProgress | None, budget: list[int]
    ) -> int:
        """A published event with the real audience: slices of recipient groups, each group's
        rows written by one INSERT … SELECT over its contacts' addresses."""
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
            slices = read_ahead(slices)
        # Closed explicitly when stopping early: a slice read ahead must not outlive the session.
        async with contextlib.aclosing(slices):  # type: ignore[type-var]
            async for piece in slices:
                if budget[0] <= 0:
                    return inserted
                inserted += await self._write_slice(event, piece, addresses_sql)
                budget[0] -= 1
                self.on_chunk()
                if first:
                    await asyncio.sleep(self.settings.first_chunk_pause)  # as in fan_out_event
                    first = False
        if budget[0] > 0:
            inserted += await self._write_slice(event, None, addresses_sql)
            budget[0] -= 1
        return inserted

    async def _write_slice(self, event: PolicyEventView, piece: Slice | None, addresses_sql: str) -> int:
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
            statements: list[tuple[store.GroupDelivery, tuple[int, ...]]] = []
            by_rows: list[tuple[Group, Preference]] = []
            slots: dict[Hashable, Slot | None] = {}
            for group in piece.groups:
                preference = group.preference or ImmediatePreference()
                # Daily caps book each address; a small group is cheaper as rows than as a
                # statement of its own (a policy naming many topics makes many small groups).
                small = len(group.subscriber_ids) < self.settings.group_statement_min
                if (preference.daily_cap and not event.urgent) or small:
                    by_rows.append((group, preference))
                    continue
                if preference not in slots:
                    slots[preference] = schedule(preference, now=now, urgent=event.urgent)  # type: ignore[index]
                slot = slots[preference]  # type: ignore[index]
                if slot is None:
                    continue
                shared = store.GroupDelivery(
                    event.policy_id, event.revision, "published", group.reasons, group.role, group.hub_id,
                    event.urgent, slot.digest, slot.due_at, now,
                )  # fmt: skip
                statements.append((shared, group.subscriber_ids))
            inserted = await fanout_sql.insert_groups(session, statements, addresses_sql)
            inserted += await write_group_rows(session, event, by_rows, addresses_sql, now)
            progress.last_subscriber_id, progress.last_address_id = piece.last_subscriber_id, ALL_ADDRESSES
            progress.rows_inserted += inserted
            await fanout_sql.commit_fast(session)
        return inserted

    # -- row by row ----------------------------------------------------------------------

    async def _plan_chunks(
        self, session: AsyncSession, event: PolicyEventView, resume_after: tuple[int, int], first: bool
    ) -> tuple[AsyncIterator[tuple[list[Planned], bool]], str | None]:
        """(chunks of planned recipients, each with "is the last"; the withdraw reason)."""
        policy = await policies.get_policy(session, event.policy_id)
        sizes = (self.first_chunk_size, self.chunk_size)
        if event.kind == "published":
            chunks = self._audience_chunks
            if chunks is None and self._stream_default:
                chunks = self._audience_chunks = _default_audience_chunks()
            if chunks is not None:
                source = chunks(session, policy, chunk_size=self.chunk_size, first_chunk_size=self.first_chunk_size)
                return stream(source, "published"), None
            audience = sorted_unique(await self.audience(session, policy))
            return list_chunks(audience, resume_after, first, sizes, plan_as="published"), None
        plan, withdraw = await plan_change(session, event, policy, self._whole_audience)
        return list_chunks(plan, resume_after, first, sizes), withdraw

    async def _whole_audience(self, session: AsyncSession, policy: PolicyView) -> Sequence[Recipient]:
        if self._audience is None and not self._stream_default and self._audience_chunks is not None:
            chunks = self._audience_chunks(
                session, policy, chunk_size=self.chunk_size, first_chunk_size=self.chunk_size
            )
            return [r async for chunk in chunks for r in chunk]
        return await self.audience(session, policy)

    async def _write_chunk(
        self, event: PolicyEventView, chunk: Sequence[Planned], *, done: bool, withdraw_reason: str | None
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
            rows = await schedule_rows(session, event, chunk, now)
            inserted = await store.insert_deliveries(session, rows)
            if chunk:
                progress.last_subscriber_id, progress.last_address_id = chunk[-1].key
            progress.rows_inserted += inserted
            if done:
                progress.state = FanoutState.DONE
                progress.finished_at = now
        return inserted
