"""Delivery workers: claim due rows, render, send through the channel adapter, record.

`run()` is a small pipeline so that the channel is never idle waiting for the database:

    claimer ──(claimed rows, in memory)──▶ N senders ──(outcomes)──▶ recorder

The claimer keeps up to `prefetch` claimed rows waiting (default 2 × max(batch_size,
concurrency)) and tops them up half a batch early, so senders never wait for a claim; the
senders send with bounded concurrency, and the recorder writes outcomes in batches at least
every `record_interval`. A row left waiting for most of its lease is dropped unsent (the
sweeper hands it out again), so a row is never sent while another claim may hold it.
The at-least-once window (a message the platform accepted but whose outcome is not yet
committed when the process dies) is therefore at most `concurrency` in-flight sends plus
the outcomes of one `record_interval`; see docs/adr/0001-delivery-queue.md.

`run_once()` does one claim → send → record round, for tests and one-shot runs.

Digests: digest rows are claimed per address (`push.dao.queue.claim_digest_groups`), and all the due
rows of one (subscriber, address) leave as ONE message (MessageKind.DIGEST, one item per
policy, at most `DIGEST_MAX_ITEMS`; the rest follow in the next message). Every row of the
group gets the same outcome and provider message id. A group of one row is sent as that row's
own message (full text and buttons), which reads better than a digest of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from core import logging_setup, metrics
from core.db import Database
from push.channels.base import (
    ChannelAdapter,
    MessageContext,
    MessageKind,
    PolicyItem,
    RenderedMessage,
    SendResult,
    SendStatus,
)
from push.dao import deliveries
from push.dao import queue as dao
from push.dao.queue import ClaimedDelivery, Outcome
from push.dao.writing import writing
from push.kinds import message_kind
from push.models import AttemptOutcome, DeliveryStatus
from push.queue import Backoff, Clock, DeliveryQueue, decide
from push.shared_limits import Throttled
from push.waiting import wait_any
from vocabulary.labels import label

log = logging.getLogger(__name__)

Renderer = Callable[[str, MessageContext, str], Any]  # -> RenderedMessage (or an awaitable of one)
LinkMaker = Callable[[str, int, str], str]

POLL_INTERVAL = 0.25  # seconds; the fan-out also nudges the worker directly
RECORD_INTERVAL = 0.05
POLICY_CACHE_SIZE = 256
# The digest claim groups due digest rows per address, a scan of the due queue that the
# single-row claim does not need. While no digest is due it runs at most this often (seconds);
# digests are due at 09:00 or after quiet hours, so a second's delay does not matter.
DIGEST_CHECK_INTERVAL = 1.0
# Policies per digest message. The renderer can squeeze 60 into Telegram's 4,096 characters,
# but only by dropping their text; 20 keep a line of benefits and the deadline each.
DIGEST_MAX_ITEMS = 20
CLAIM_RETRY = 1.0  # seconds before claiming again after the database refused a claim
RECORD_RETRY_MAX = 2.0  # seconds between tries to record outcomes while the database refuses writes

Unit = tuple[ClaimedDelivery, ...]
"""What one message carries: one row, or the digest rows of one address."""


def at_least_once_window(concurrency: int, batch_size: int) -> int:
    """Most messages that can be sent again after a kill -9 (see docs/adr/0001-delivery-queue.md):
    sends in flight, plus outcomes being committed, plus outcomes waiting for the recorder.
    Senders pause while `batch_size` outcomes wait, so each of the last two holds at most
    `batch_size + concurrency` (sends already under way when the pause begins)."""
    return concurrency + 2 * (batch_size + concurrency)


def _default_renderer() -> Renderer:
    from push.render import render

    return render


def _default_link_maker() -> LinkMaker:
    from push.links import tracked_link

    return tracked_link


class _PolicyCache:
    """Policy views and change summaries per (policy, revision), read once per batch."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._items: dict[tuple[int, int], tuple[Any, str]] = {}

    async def load(self, items: Sequence[ClaimedDelivery]) -> None:
        from policies import service as policies

        missing = {(i.policy_id, i.revision) for i in items} - self._items.keys()
        if not missing:
            return
        async with self.db.reader() as session:
            for policy_id, revision in sorted(missing):
                try:
                    view = await policies.get_policy(session, policy_id)
                    summary = ""
                    if revision > 1:
                        summary = (await policies.get_revision(session, policy_id, revision)).change_summary
                except Exception as exc:  # noqa: BLE001 - a vanished policy fails its rows, not the worker
                    self._items[(policy_id, revision)] = (None, f"政策不存在或无法读取：{exc}")
                    continue
                self._items[(policy_id, revision)] = (view, summary)
        while len(self._items) > POLICY_CACHE_SIZE:
            self._items.pop(next(iter(self._items)))

    def get(self, policy_id: int, revision: int) -> tuple[Any, str]:
        return self._items.get((policy_id, revision), (None, "政策信息未加载"))

    def forget(self) -> None:
        self._items.clear()


class _Leases:
    """Rows this worker holds (claimed, not yet recorded) with the lease each has in the database,
    and until when (loop clock) each may still be sent: most of its lease, from the last renewal."""

    def __init__(self) -> None:
        self.until: dict[int, datetime] = {}
        self.send_by: dict[int, float] = {}

    def hold(self, ids: Iterable[int], lease_until: datetime, send_by: float) -> None:
        for row_id in ids:
            self.until[row_id] = lease_until
            self.send_by[row_id] = send_by

    def forget(self, ids: Iterable[int]) -> None:
        for row_id in ids:
            self.until.pop(row_id, None)
            self.send_by.pop(row_id, None)

    def sendable(self, unit: Unit, now: float) -> bool:
        return all(self.send_by.get(row.id, -1.0) >= now for row in unit)

    def by_lease(self) -> dict[datetime, list[int]]:
        groups: dict[datetime, list[int]] = {}
        for row_id, until in self.until.items():
            groups.setdefault(until, []).append(row_id)
        return groups


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
        self._renderer = renderer
        self._link_maker = link_maker
        self._policies = _PolicyCache(db)
        self._address_changes: list[tuple[ClaimedDelivery, SendResult]] = []
        self.sent_count = 0
        self.stale_dropped = 0  # claimed rows left to their lease unsent (see run())
        self._claims_held_until: dict[str, float] = {}  # channel -> loop time (see hold_claims)
        self._leases = _Leases()
        # Set while outcomes cannot be recorded (disk full, database read-only or gone): nothing is
        # claimed or sent until they can, so no message goes out that could not be recorded.
        self.recording_blocked = asyncio.Event()
        self.leases_lost = 0  # rows whose lease could not be renewed (see _renew_leases_safely)

    # -- composing ------------------------------------------------------------------------------

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = _default_renderer()
        return self._renderer

    @property
    def link_maker(self) -> LinkMaker:
        if self._link_maker is None:
            self._link_maker = _default_link_maker()
        return self._link_maker

    def _item(self, row: ClaimedDelivery) -> PolicyItem:
        policy, summary = self._policies.get(row.policy_id, row.revision)
        if policy is None:
            raise LookupError(summary)
        return PolicyItem(
            policy_id=policy.id,
            title=policy.title,
            doc_no=policy.doc_no,
            agency=policy.agency,
            validity_label=policy.validity_label,
            who_qualifies=policy.who_qualifies,
            benefits=policy.benefits,
            application_closes=policy.application_closes,
            link=self.link_maker(self.base_url, row.id, self.secret),
            change_summary=summary if row.kind == "amended" else "",
        )

    async def _render(self, item: ClaimedDelivery, context: MessageContext) -> RenderedMessage:
        rendered = self.renderer(item.channel, context, item.address)
        if inspect.isawaitable(rendered):
            rendered = await rendered
        return rendered  # type: ignore[no-any-return]

    async def compose(self, item: ClaimedDelivery) -> RenderedMessage:
        context = MessageContext(
            kind=message_kind(item.kind),
            items=(self._item(item),),
            reasons=item.reasons,
            is_hub=item.role == "relayer",
            delivery_id=item.id,
        )
        return await self._render(item, context)

    async def compose_digest(self, group: Sequence[ClaimedDelivery]) -> RenderedMessage:
        """One digest message for rows of one address; each item links through its own row."""
        reasons = tuple(dict.fromkeys(reason for row in group for reason in row.reasons))
        context = MessageContext(
            kind=MessageKind.DIGEST,
            items=tuple(self._item(row) for row in group),
            reasons=reasons,
            is_hub=group[0].role == "relayer",
            delivery_id=group[0].id,
        )
        return await self._render(group[0], context)

    # -- one delivery ---------------------------------------------------------------------------

    async def send_one(self, item: ClaimedDelivery) -> Outcome:
        """Render and send one claimed row; never raises (a bad row fails, the worker goes on)."""
        with logging_setup.delivery_context(item.id):  # its log lines carry the delivery id
            return await self._send_one(item)

    async def _send_one(self, item: ClaimedDelivery) -> Outcome:
        now = self.queue.clock.now()
        adapter = self.channels.get(item.channel)
        if adapter is None:
            return Outcome(item.id, DeliveryStatus.FAILED, AttemptOutcome.FAILED, now,
                           error=f"未配置渠道：{label('channel', item.channel)}")
        try:
            message = await self.compose(item)
        except Exception as exc:  # noqa: BLE001 - template or data problem: fail this row only
            log.warning("delivery %s: cannot render: %s", item.id, exc)
            return Outcome(item.id, DeliveryStatus.FAILED, AttemptOutcome.FAILED, now,
                           error=f"消息生成失败：{exc}")
        result = await self._send_through(item.channel, adapter, message, f"delivery {item.id}")
        outcome = decide(item, result, now=self.queue.clock.now(), backoff=self.queue.backoff, rng=self.rng)
        if outcome.attempt in (AttemptOutcome.PERMANENT, AttemptOutcome.NEW_ADDRESS):
            self._address_changes.append((item, result))
        return outcome

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

    async def send_unit(self, unit: Unit) -> list[Outcome]:
        if len(unit) == 1:
            return [await self.send_one(unit[0])]
        return await self.send_digest(unit)

    async def send_digest(self, group: Unit) -> list[Outcome]:
        """Send the rows of one address as one digest; never raises. Rows whose policy cannot be
        read fail on their own; the others share one outcome (sent, retry, failed) and one
        provider message id."""
        now = self.queue.clock.now()
        readable = [row for row in group if self._policies.get(row.policy_id, row.revision)[0] is not None]
        outcomes = [
            Outcome(row.id, DeliveryStatus.FAILED, AttemptOutcome.FAILED, now,
                    error=f"消息生成失败：{self._policies.get(row.policy_id, row.revision)[1]}")
            for row in group if row not in readable
        ]
        if len(readable) <= 1:
            return outcomes + [await self.send_one(row) for row in readable]
        lead = max(readable, key=lambda row: row.attempts)  # its attempt count decides retry or dead
        adapter = self.channels.get(lead.channel)
        if adapter is None:
            return outcomes + [Outcome(row.id, DeliveryStatus.FAILED, AttemptOutcome.FAILED, now,
                                       error=f"未配置渠道：{label('channel', lead.channel)}") for row in readable]
        try:
            message = await self.compose_digest(readable)
        except Exception as exc:  # noqa: BLE001 - template or data problem: fail this digest only
            log.warning("digest for address %s: cannot render: %s", lead.address_id, exc)
            return outcomes + [Outcome(row.id, DeliveryStatus.FAILED, AttemptOutcome.FAILED, now,
                                       error=f"汇总消息生成失败：{exc}") for row in readable]
        result = await self._send_through(lead.channel, adapter, message, f"digest for address {lead.address_id}")
        shared = decide(lead, result, now=self.queue.clock.now(), backoff=self.queue.backoff, rng=self.rng)
        if shared.attempt in (AttemptOutcome.PERMANENT, AttemptOutcome.NEW_ADDRESS):
            self._address_changes.append((lead, result))
        return outcomes + [replace(shared, delivery_id=row.id) for row in readable]

    async def claim(self, limit: int, *, digests: bool = True) -> list[Unit]:
        """Claim digest groups (unless `digests` is false) and single rows due now: about
        `limit` rows in all."""
        queue = self.queue
        channels = self.claimable_channels()
        if channels is not None and not channels:
            return []
        now = queue.clock.now()
        lease_until = now + queue.lease
        async with writing(self.db) as session:
            groups = await dao.claim_digest_groups(
                session, now=now, lease_until=lease_until, max_addresses=max(1, limit // 2),
                max_items=DIGEST_MAX_ITEMS, channels=channels,
            ) if digests else []
            room = max(0, limit - sum(len(g) for g in groups))
            singles = await dao.claim_due(
                session, now=now, lease_until=lease_until, limit=room, channels=channels, digest=False,
            ) if room else []
        units: list[Unit] = [tuple(g) for g in groups]
        units.extend((row,) for row in singles)
        self._leases.hold((row.id for unit in units for row in unit), lease_until, self._send_by())
        if units:
            await self._policies.load([row for unit in units for row in unit])
        return units

    # -- side effects on addresses --------------------------------------------------------------

    async def _apply_address_changes(self) -> None:
        """Deactivate dead addresses (and cancel their queue) or follow migrated chats."""
        changes, self._address_changes = self._address_changes, []
        for item, result in changes:
            try:
                async with writing(self.db) as session:
                    from subscriptions import service as subscriptions

                    if result.new_address:
                        await subscriptions.replace_address(session, item.address_id, result.new_address)
                        await deliveries.move_address(session, item.address_id, result.new_address)
                    else:
                        reason = result.error or "接收地址已失效"
                        await subscriptions.deactivate_address(session, item.address_id, reason)
                        await deliveries.cancel_pending_for_address(
                            session, item.address_id, f"接收地址已停用：{reason}"
                        )
            except Exception:
                log.exception("delivery %s: could not update address %s", item.id, item.address_id)

    # -- loops ----------------------------------------------------------------------------------

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

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; on stop, finish in-flight sends and give back the rest."""
        # A unit still waiting when most of its lease is gone (its renewal failed) is dropped
        # unsent; the sweeper hands it out again once the lease runs out.
        inbox: asyncio.Queue[Unit] = asyncio.Queue()
        results: list[Outcome] = []
        results_ready = asyncio.Event()
        claiming_done = asyncio.Event()
        # Claimed rows waiting for a sender: the claimer tops them up to `prefetch` whenever
        # they fall half a batch below it, so a sender never waits for a claim transaction.
        prefetch = self.prefetch
        refill_at = max(0, prefetch - max(1, min(self.batch_size, prefetch) // 2))
        low_water = asyncio.Event()
        await self._sweep_safely()

        async def claimer() -> None:
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
                    low_water.clear()
                    if inbox.qsize() > refill_at:
                        await wait_any(stop, low_water, timeout=self.poll_interval)
                        continue
                    want = min(self.batch_size, prefetch - inbox.qsize())
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
                claiming_done.set()

        async def sender() -> None:
            while True:
                if stop.is_set() and claiming_done.is_set():
                    return
                try:
                    item = inbox.get_nowait()
                except asyncio.QueueEmpty:
                    low_water.set()
                    try:
                        item = await asyncio.wait_for(inbox.get(), timeout=self.poll_interval)
                    except TimeoutError:
                        continue
                if inbox.qsize() <= refill_at:
                    low_water.set()
                while self.recording_blocked.is_set() and not stop.is_set():
                    await wait_any(stop, timeout=self.poll_interval)
                if stop.is_set():
                    inbox.put_nowait(item)  # given back below
                    return
                if not self._leases.sendable(item, asyncio.get_running_loop().time()):
                    # Its lease was lost or not renewed in time: sending now could overlap with
                    # the sweeper handing the row out again, so leave it to the lease.
                    self.stale_dropped += len(item)
                    self._leases.forget(row.id for row in item)
                    continue
                while len(results) >= self.batch_size and not stop.is_set():
                    # Back-pressure: unrecorded outcomes are the at-least-once window; bound it.
                    results_ready.set()
                    await asyncio.sleep(self.record_interval / 5)
                results.extend(await self.send_unit(item))
                if len(results) >= self.batch_size:
                    results_ready.set()

        async def recorder() -> None:
            while True:
                # Not woken by `stop`: after a stop the recorder still drains the senders.
                await wait_any(results_ready, timeout=self.record_interval)
                results_ready.clear()
                if results:
                    batch = results[:]
                    del results[: len(batch)]
                    await self._record_safely(batch, stop)
                    self._leases.forget(o.delivery_id for o in batch)
                    if self.recording_blocked.is_set() and not results:
                        # Every outcome held during the outage is recorded: only now may the
                        # sweeper and the claimer run again, or they could hand out a row whose
                        # sent outcome is still waiting here.
                        log.warning("outcomes are recorded again; sending resumes")
                        self.recording_blocked.clear()
                    if self._address_changes:
                        await self._apply_address_changes()
                if stop.is_set() and senders_done.is_set() and not results:
                    return

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(self.renew_every)
                await self._renew_leases_safely()

        senders_done = asyncio.Event()
        heartbeat_task = asyncio.create_task(heartbeat())
        recorder_task = asyncio.create_task(recorder())
        claimer_task = asyncio.create_task(claimer())
        sender_tasks = [asyncio.create_task(sender()) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(claimer_task, *sender_tasks)
        finally:
            senders_done.set()
            results_ready.set()
            await recorder_task
            leftover: list[ClaimedDelivery] = []
            while not inbox.empty():
                leftover.extend(inbox.get_nowait())
            with contextlib.suppress(Exception):
                await self.queue.release(leftover)
            heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat_task
            self._leases.forget(list(self._leases.until))

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

    @property
    def renew_every(self) -> float:
        """Seconds between lease renewals: a third of the lease, so a renewal may be late by
        two thirds of the lease (a busy machine, a slow commit) before a lease runs out."""
        return self.queue.lease.total_seconds() / 3

    def _send_by(self) -> float:
        # A row is sent only while most of its lease is left (see _Leases).
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
                renewed = {old: await dao.renew_leases(session, ids, held_until=old, lease_until=lease_until)
                           for old, ids in groups.items()}
        except Exception:
            log.exception("lease renewal failed; rows not renewed in time are left to the sweeper")
            return
        for old, ids in groups.items():
            kept = renewed[old]
            # Only rows still held: one recorded meanwhile is no longer ours to track.
            self._leases.hold([i for i in kept if self._leases.until.get(i) == old], lease_until, send_by)
            lost = set(ids) - set(kept)
            lost = {i for i in lost if self._leases.until.get(i) == old}
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
