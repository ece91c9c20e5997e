"""Delivery workers: claim due rows, render, send through the channel adapter, record.

`run()` is a small pipeline of named stages so that the channel is never idle waiting for the
database:

    claim stage ──(claimed units, in memory)──▶ N send stages ──(outcomes)──▶ record stage
                                                                  (+ the lease heartbeat)

The claim stage keeps up to `prefetch` claimed rows waiting (default 2 × max(batch_size,
concurrency)) and tops them up half a batch early, so senders never wait for a claim; the
senders send with bounded concurrency, and the record stage writes outcomes in batches at least
every `record_interval`. A row left waiting for most of its lease is dropped unsent (the
sweeper hands it out again), so a row is never sent while another claim may hold it.
The at-least-once window (a message the platform accepted but whose outcome is not yet
committed when the process dies) is therefore at most `concurrency` in-flight sends plus
the outcomes of one `record_interval`; see docs/adr/0001-delivery-queue.md.

`run_once()` does one claim → send → record round, for tests and one-shot runs.

Digests: digest rows are claimed per address (`push.dao.queue.claim_digest_groups`), and all
the due rows of one (subscriber, address) leave as ONE message (MessageKind.DIGEST, one item per
policy, at most `DIGEST_MAX_ITEMS`; the rest follow in the next message). Every row of the
group gets the same outcome and provider message id. A group of one row is sent as that row's
own message (full text and buttons), which reads better than a digest of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from core import logging_setup, metrics
from core.db import Database
from core.heap import freeze_long_lived
from push.channels.base import (
    ChannelAdapter,
    MessageContext,
    MessageKind,
    RenderedMessage,
    SendResult,
    SendStatus,
)
from push.dao import queue as dao
from push.dao.queue import Outcome
from push.dao.rows import DeliveryView
from push.dao.writing import writing
from push.kinds import message_kind
from push.links import tracked_link
from push.models import AttemptOutcome, DeliveryStatus
from push.queue import DIGEST_MAX_ITEMS, Backoff, Clock, DeliveryQueue, Unit, decide
from push.render import render
from push.shared_limits import Throttled
from push.waiting import wait_any
from push.worker_state import Leases, PolicyCache, apply_address_changes
from vocabulary.labels import label

__all__ = ["DIGEST_MAX_ITEMS", "DeliveryWorker", "Renderer", "Unit", "at_least_once_window"]

log = logging.getLogger(__name__)

Renderer = Callable[[str, MessageContext, str], Awaitable[RenderedMessage]]
"""Renders a message for (channel, context, address); raises with a readable reason."""
LinkMaker = Callable[[str, int, str], str]

POLL_INTERVAL = 0.25  # seconds; the fan-out also nudges the worker directly
RECORD_INTERVAL = 0.05
# The digest claim groups due digest rows per address, a scan of the due queue that the
# single-row claim does not need. While no digest is due it runs at most this often (seconds);
# digests are due at 09:00 or after quiet hours, so a second's delay does not matter.
DIGEST_CHECK_INTERVAL = 1.0
CLAIM_RETRY = 1.0  # seconds before claiming again after the database refused a claim
RECORD_RETRY_MAX = 2.0  # seconds between tries to record outcomes while the database refuses writes


def at_least_once_window(concurrency: int, batch_size: int) -> int:
    """Most messages that can be sent again after a kill -9 (see docs/adr/0001-delivery-queue.md):
    sends in flight, plus outcomes being committed, plus outcomes waiting for the recorder.
    Senders pause while `batch_size` outcomes wait, so each of the last two holds at most
    `batch_size + concurrency` (sends already under way when the pause begins)."""
    return concurrency + 2 * (batch_size + concurrency)


async def _render_default(channel: str, context: MessageContext, address: str) -> RenderedMessage:
    return render(channel, context, address)


def _failed(rows: Sequence[DeliveryView], now: Any, error: str) -> list[Outcome]:
    return [Outcome(row.id, DeliveryStatus.FAILED, AttemptOutcome.FAILED, now, error=error) for row in rows]


class _Run:
    """What the stages of one `run()` share."""

    def __init__(self, stop: asyncio.Event, prefetch: int, batch_size: int) -> None:
        self.stop = stop
        self.inbox: asyncio.Queue[Unit] = asyncio.Queue()  # claimed units waiting for a sender
        self.results: list[Outcome] = []  # outcomes waiting for the record stage
        self.results_ready = asyncio.Event()
        self.claiming_done = asyncio.Event()
        self.senders_done = asyncio.Event()
        self.low_water = asyncio.Event()
        # The claim stage tops the inbox up to `prefetch` whenever it falls half a batch below
        # it, so a sender never waits for a claim transaction.
        self.prefetch = prefetch
        self.refill_at = max(0, prefetch - max(1, min(batch_size, prefetch) // 2))


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        channels: Mapping[str, ChannelAdapter],
        *,
        base_url: str,
        secret: str,
        batch_size: int = 100,
        concurrency: int = 50,
        lease_seconds: float = 60.0,
        backoff: Backoff | None = None,
        poll_interval: float = POLL_INTERVAL,
        record_interval: float = RECORD_INTERVAL,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        renderer: Renderer | None = None,
        link_maker: LinkMaker | None = None,
        nudge: asyncio.Event | None = None,
        prefetch: int | None = None,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        # Claimed rows kept waiting for a sender (not yet sent: a crash returns them with the
        # lease, so they are no part of the at-least-once window).
        self.prefetch = prefetch if prefetch is not None else 2 * max(batch_size, concurrency)
        self.record_interval = record_interval
        self.rng = rng or random.Random()
        self.queue = DeliveryQueue(
            db, lease_seconds=lease_seconds, backoff=backoff, clock=clock, channels=list(self.channels)
        )
        self.nudge = nudge or asyncio.Event()
        self.renderer: Renderer = renderer or _render_default
        self.link_maker: LinkMaker = link_maker or tracked_link
        self._policies = PolicyCache(db)
        self._address_changes: list[tuple[DeliveryView, SendResult]] = []
        self.sent_count = 0
        self.stale_dropped = 0  # claimed rows left to their lease unsent (see _send_stage)
        self._claims_held_until: dict[str, float] = {}  # channel -> loop time (see hold_claims)
        self._leases = Leases()
        # Set while outcomes cannot be recorded (disk full, database read-only or gone): nothing is
        # claimed or sent until they can, so no message goes out that could not be recorded.
        self.recording_blocked = asyncio.Event()
        self.leases_lost = 0  # rows whose lease could not be renewed (see _renew_leases_safely)

    # -- claim ----------------------------------------------------------------------------------

    async def claim(self, limit: int, *, digests: bool = True) -> list[Unit]:
        """Claim digest groups (unless `digests` is false) and single rows due now, about `limit`
        rows in all; hold their leases and read the policies they carry."""
        channels = self.claimable_channels()
        if channels is not None and not channels:
            return []
        now = self.queue.clock.now()
        units = await self.queue.claim_units(limit, now=now, channels=channels, digests=digests)
        self._leases.hold((row.id for unit in units for row in unit), now + self.queue.lease, self._send_by())
        if units:
            await self._policies.load([row for unit in units for row in unit])
        return units

    def hold_claims(self, channel: str, seconds: float) -> None:
        """Claim nothing for `channel` for `seconds` (its whole budget is held: a 429 pause, the
        shared limit store unreachable, the day's quota), instead of claiming rows only to put
        them back."""
        until = asyncio.get_running_loop().time() + seconds
        self._claims_held_until[channel] = max(until, self._claims_held_until.get(channel, 0.0))

    def claimable_channels(self) -> list[str] | None:
        if not self._claims_held_until:
            return self.queue.channels
        now = asyncio.get_running_loop().time()
        held = {c for c, until in self._claims_held_until.items() if until > now}
        if not held:
            self._claims_held_until.clear()
            return self.queue.channels
        return [c for c in (self.queue.channels or list(self.channels)) if c not in held]

    # -- send -----------------------------------------------------------------------------------

    async def compose(self, rows: Unit) -> RenderedMessage:
        """The message for one row (its own text and buttons) or for the digest rows of one
        address (each item links through its own row)."""
        lead = rows[0]
        if len(rows) == 1:
            kind, reasons = message_kind(lead.kind), lead.reasons
        else:
            kind, reasons = MessageKind.DIGEST, tuple(dict.fromkeys(r for row in rows for r in row.reasons))
        items = tuple(self._policies.item(row, self.link_maker(self.base_url, row.id, self.secret)) for row in rows)
        context = MessageContext(
            kind=kind, items=items, reasons=reasons, is_hub=lead.role == "relayer", delivery_id=lead.id
        )
        return await self.renderer(lead.channel, context, lead.address)

    async def send_unit(self, unit: Unit) -> list[Outcome]:
        """Render and send one unit; never raises (a bad row fails, the worker goes on). A digest
        whose policies cannot all be read fails those rows on their own; the others share one
        outcome (sent, retry, failed) and one provider message id."""
        if len(unit) == 1:
            with logging_setup.delivery_context(unit[0].id):  # its log lines carry the delivery id
                return await self._compose_and_send(unit[0], unit, f"delivery {unit[0].id}")
        now = self.queue.clock.now()
        readable = tuple(row for row in unit if self._policies.get(row.policy_id, row.revision)[0] is not None)
        outcomes = [
            Outcome(row.id, DeliveryStatus.FAILED, AttemptOutcome.FAILED, now,
                    error=f"消息生成失败：{self._policies.get(row.policy_id, row.revision)[1]}")
            for row in unit if row not in readable
        ]
        if len(readable) <= 1:
            return outcomes + [o for row in readable for o in await self.send_unit((row,))]
        lead = max(readable, key=lambda row: row.attempts)  # its attempt count decides retry or dead
        return outcomes + await self._compose_and_send(lead, readable, f"digest for address {lead.address_id}")

    async def _compose_and_send(self, lead: DeliveryView, rows: Unit, what: str) -> list[Outcome]:
        now = self.queue.clock.now()
        adapter = self.channels.get(lead.channel)
        if adapter is None:
            return _failed(rows, now, f"未配置渠道：{label('channel', lead.channel)}")
        try:
            message = await self.compose(rows)
        except Exception as exc:  # noqa: BLE001 - template or data problem: fail these rows only
            log.warning("%s: cannot render: %s", what, exc)
            return _failed(rows, now, f"{'消息' if len(rows) == 1 else '汇总消息'}生成失败：{exc}")
        result = await self._send_through(lead.channel, adapter, message, what)
        shared = decide(lead, result, now=self.queue.clock.now(), backoff=self.queue.backoff, rng=self.rng)
        if shared.attempt in (AttemptOutcome.PERMANENT, AttemptOutcome.NEW_ADDRESS):
            self._address_changes.append((lead, result))
        if len(rows) == 1:
            return [shared]
        return [replace(shared, delivery_id=row.id) for row in rows]

    async def _send_through(
        self, channel: str, adapter: ChannelAdapter, message: RenderedMessage, what: str
    ) -> SendResult:
        """The adapter's answer; a full shared limit (Throttled) becomes DEFERRED, and an
        exception a transient failure."""
        try:
            with metrics.timed(metrics.SEND_SECONDS, channel):
                return await adapter.send(message)
        except Throttled as exc:
            if exc.everyone:
                self.hold_claims(channel, exc.retry_after)
            return SendResult(SendStatus.DEFERRED, retry_after=exc.retry_after, error=exc.reason)
        except Exception as exc:  # noqa: BLE001 - an adapter bug or network error: retry later
            log.warning("%s: adapter raised %r", what, exc)
            return SendResult(SendStatus.RETRY, error=f"{type(exc).__name__}: {exc}")

    # -- record ---------------------------------------------------------------------------------

    async def _apply_address_changes(self) -> None:
        changes, self._address_changes = self._address_changes, []
        await apply_address_changes(self.db, changes)

    async def _record_safely(self, batch: list[Outcome], stop: asyncio.Event) -> None:
        """Commit `batch`, retrying until it is committed: the outcomes are the only record that
        these messages went out. Meanwhile nothing is claimed or sent (`recording_blocked`).
        Only when stopping with the database still away does it give up, after a few tries."""
        failures = 0
        while True:
            try:
                await self.queue.record(batch)
            except Exception:
                failures += 1
                if failures == 1:
                    log.exception("recording %d outcomes failed; sending stops until they are recorded", len(batch))
                self.recording_blocked.set()
                if stop.is_set() and failures >= 5:
                    log.error("stopping with %d outcomes unrecorded; these deliveries may be sent again: %s",
                              len(batch), [o.delivery_id for o in batch])
                    return
                await asyncio.sleep(min(RECORD_RETRY_MAX, 0.2 * 2 ** (failures - 1)))
                continue
            self.sent_count += sum(1 for o in batch if o.status == DeliveryStatus.SENT)
            return

    # -- one round ------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch, send it with bounded concurrency, record it. Returns rows claimed."""
        units = await self.claim(self.batch_size)
        if not units:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def guarded(unit: Unit) -> list[Outcome]:
            async with gate:
                return await self.send_unit(unit)

        outcomes = [o for batch in await asyncio.gather(*(guarded(u) for u in units)) for o in batch]
        await self.queue.record(outcomes)
        self._leases.forget(o.delivery_id for o in outcomes)
        await self._apply_address_changes()
        self.sent_count += sum(1 for o in outcomes if o.status == DeliveryStatus.SENT)
        return len(outcomes)

    # -- the pipeline ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; on stop, finish in-flight sends and give back the rest."""
        run = _Run(stop, self.prefetch, self.batch_size)
        freeze_long_lived()
        await self._sweep_safely()
        heartbeat = asyncio.create_task(self._heartbeat())
        recorder = asyncio.create_task(self._record_stage(run))
        claimer = asyncio.create_task(self._claim_stage(run))
        senders = [asyncio.create_task(self._send_stage(run)) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(claimer, *senders)
        finally:
            run.senders_done.set()
            run.results_ready.set()
            await recorder
            leftover: list[DeliveryView] = []
            while not run.inbox.empty():
                leftover.extend(run.inbox.get_nowait())
            with contextlib.suppress(Exception):
                await self.queue.release(leftover)
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            self._leases.forget(list(self._leases.until))

    async def _claim_stage(self, run: _Run) -> None:
        """Keep the inbox topped up; sweep expired leases now and then."""
        stop, inbox = run.stop, run.inbox
        sweep_every = max(1.0, self.queue.lease.total_seconds() / 4)
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + sweep_every
        next_digest_check = loop.time()
        try:
            while not stop.is_set():
                if self.recording_blocked.is_set():
                    await wait_any(stop, timeout=self.poll_interval)
                    continue
                if loop.time() >= next_sweep:
                    await self._sweep_safely()
                    next_sweep = loop.time() + sweep_every
                run.low_water.clear()
                if inbox.qsize() > run.refill_at:
                    await wait_any(stop, run.low_water, timeout=self.poll_interval)
                    continue
                want = min(self.batch_size, run.prefetch - inbox.qsize())
                self.nudge.clear()
                check_digests = loop.time() >= next_digest_check
                try:
                    got = await self.claim(want, digests=check_digests)
                except Exception:
                    # The database is away or refuses writes: claim nothing, try again soon.
                    log.exception("claiming failed; trying again")
                    await wait_any(stop, timeout=CLAIM_RETRY)
                    continue
                if check_digests:
                    found = any(len(unit) > 1 or unit[0].digest for unit in got)
                    next_digest_check = loop.time() + (0.0 if found else DIGEST_CHECK_INTERVAL)
                for unit in got:
                    inbox.put_nowait(unit)
                if sum(len(u) for u in got) < want:
                    # Nothing more is due now: wait for the fan-out's nudge or the poll.
                    await wait_any(stop, self.nudge, timeout=self.poll_interval)
        finally:
            run.claiming_done.set()

    async def _next_unit(self, run: _Run) -> Unit | None:
        """The next claimed unit still safe to send, or None when this sender should stop."""
        inbox = run.inbox
        while True:
            if run.stop.is_set() and run.claiming_done.is_set():
                return None
            try:
                unit = inbox.get_nowait()
            except asyncio.QueueEmpty:
                run.low_water.set()
                try:
                    unit = await asyncio.wait_for(inbox.get(), timeout=self.poll_interval)
                except TimeoutError:
                    continue
            if inbox.qsize() <= run.refill_at:
                run.low_water.set()
            while self.recording_blocked.is_set() and not run.stop.is_set():
                await wait_any(run.stop, timeout=self.poll_interval)
            if run.stop.is_set():
                inbox.put_nowait(unit)  # given back by run()
                return None
            if not self._leases.sendable(unit, asyncio.get_running_loop().time()):
                # Its lease was lost or not renewed in time: sending now could overlap with
                # the sweeper handing the row out again, so leave it to the lease.
                self.stale_dropped += len(unit)
                self._leases.forget(row.id for row in unit)
                continue
            return unit

    async def _send_stage(self, run: _Run) -> None:
        """One of `concurrency` senders: take a unit, send it, hand its outcomes to the recorder."""
        results = run.results
        while (unit := await self._next_unit(run)) is not None:
            while len(results) >= self.batch_size and not run.stop.is_set():
                # Back-pressure: unrecorded outcomes are the at-least-once window; bound it.
                run.results_ready.set()
                await asyncio.sleep(self.record_interval / 5)
            results.extend(await self.send_unit(unit))
            if len(results) >= self.batch_size:
                run.results_ready.set()

    async def _record_stage(self, run: _Run) -> None:
        """Commit outcomes in batches; after a stop, drain the senders before returning."""
        results = run.results
        while True:
            # Not woken by `stop`: after a stop the recorder still drains the senders.
            await wait_any(run.results_ready, timeout=self.record_interval)
            run.results_ready.clear()
            if results:
                batch = results[:]
                del results[: len(batch)]
                await self._record_safely(batch, run.stop)
                self._leases.forget(o.delivery_id for o in batch)
                if self.recording_blocked.is_set() and not results:
                    # Every outcome held during the outage is recorded: only now may the
                    # sweeper and the claimer run again, or they could hand out a row whose
                    # sent outcome is still waiting here.
                    log.warning("outcomes are recorded again; sending resumes")
                    self.recording_blocked.clear()
                if self._address_changes:
                    await self._apply_address_changes()
            if run.stop.is_set() and run.senders_done.is_set() and not results:
                return

    # -- leases ---------------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            await self._renew_leases_safely()

    @property
    def renew_every(self) -> float:
        """Seconds between lease renewals: a third of the lease, so a renewal may be late by
        two thirds of the lease (a busy machine, a slow commit) before a lease runs out."""
        return self.queue.lease.total_seconds() / 3

    def _send_by(self) -> float:
        # A row is sent only while most of its lease is left (see Leases).
        return asyncio.get_running_loop().time() + 0.8 * self.queue.lease.total_seconds()

    async def _renew_leases_safely(self) -> None:
        """The heartbeat: extend the leases of every row still held, so that a slow worker never
        loses them to the sweeper while it is still working on them."""
        groups = self._leases.by_lease()
        if not groups:
            return
        now = self.queue.clock.now()
        lease_until = now + self.queue.lease
        send_by = self._send_by()
        try:
            async with writing(self.db) as session:
                await dao.lock_in_id_order(session, [i for ids in groups.values() for i in ids])
                renewed = {old: await dao.renew_leases(session, ids, held_until=old, lease_until=lease_until)
                           for old, ids in groups.items()}
        except Exception:
            log.exception("lease renewal failed; rows not renewed in time are left to the sweeper")
            return
        for old, ids in groups.items():
            kept = renewed[old]
            # Only rows still held: one recorded meanwhile is no longer ours to track.
            self._leases.hold([i for i in kept if self._leases.until.get(i) == old], lease_until, send_by)
            lost = {i for i in set(ids) - set(kept) if self._leases.until.get(i) == old}
            if lost:
                self.leases_lost += len(lost)
                self._leases.forget(lost)
                log.warning("%d deliveries could not be renewed: recorded meanwhile or reclaimed by the sweeper",
                            len(lost))

    async def _sweep_safely(self) -> None:
        try:
            reclaimed = await self.queue.sweep()
        except Exception:
            log.exception("lease sweep failed")
            return
        if reclaimed:
            log.warning("returned %d deliveries with an expired lease to the queue", reclaimed)
