"""The one door into the delivery pipeline for `web`, `bot` and `run.py`.

Running it:
    await run_workers(db, settings, stop_event)          # fan-out + sweeper + workers until stopped
    Pipeline(db, channels, base_url=..., secret=...)      # the same, with explicit parts (tests, bench)
    wake()                                                # a policy was just released: fan out now

Receipts and reports:
    await record_read(session, token) -> page path to redirect to
    await acknowledge(session, delivery_id, by_address=...) -> bool
    await reach(session, policy_id) -> dict
Web inbox (the web channel's store):
    await store_web_message(db, rendered) / await web_inbox(session, key) / await mark_web_inbox_read(...)

The door also re-exports what `bot` and `web` call in push's parts: `posters`, `relay`, `voice`
and `scheduled` (the jobs) are those parts' own services; types are in `push.views`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.db import Database
from core.scheduler import Leadership, PostgresLeadership
from core.settings import Settings
from push.channels.base import ChannelAdapter, RenderedMessage
from push.dao import deliveries, inbox
from push.dao.probe import probe_write
from push.dao.writing import writing
from push.fanout import AudienceFn, FanOut
from push.gauges import PipelineGauges, pipeline_gauges
from push.jobs import service as scheduled
from push.links import read_token_payload
from push.posters import service as posters
from push.posters import store as poster_store
from push.posters.layout import shared_layout
from push.posters.models import PosterScan
from push.posters.service import poster_of_payload
from push.posters.wechat_code import create_wechat_code
from push.ratelimit import LimiterConfig
from push.receipts import acknowledge, latest_policy_delivery, latest_unacknowledged, reach, record_read
from push.relay import service as relay
from push.reports import dead_letters, sent_per_day
from push.shared_limits import SharedLimits
from push.views import DeliveryView, InboxMessage
from push.voice import service as voice
from push.voice.delivery import send_telegram_voice, with_voice
from push.voice.reading import reading_script
from push.voice.service import set_voice_preference, voice_service_for
from push.waiting import wait_any
from push.wakeup import running as _running
from push.wakeup import wake
from push.worker import DeliveryWorker

__all__ = [
    "DeliveryView",
    "InboxMessage",
    "Pipeline",
    "PipelineGauges",
    "acknowledge",
    "build_channels",
    "can_record",
    "create_wechat_code",
    "dead_letters",
    "get_delivery",
    "latest_policy_delivery",
    "latest_unacknowledged",
    "mark_web_inbox_read",
    "pipeline_gauges",
    "poster_of_payload",
    "posters",
    "reach",
    "read_token_payload",
    "reading_script",
    "record_read",
    "record_wechat_poster_scan",
    "relay",
    "run_workers",
    "scheduled",
    "send_telegram_voice",
    "sent_per_day",
    "set_voice_preference",
    "shared_layout",
    "store_web_message",
    "voice",
    "voice_service_for",
    "wake",
    "web_inbox",
]

log = logging.getLogger(__name__)

FANOUT_POLL_INTERVAL = 0.25  # seconds; `wake()` skips the wait after an in-process publish
SENDER_LOCK_RETRY = 2.0  # seconds between tries for the sole-sender lock (no REDIS_URL, PostgreSQL)
SENDER_LOCK_KEY = 7_245_016  # advisory lock key of the sole sender

class Pipeline:
    """Fan-out loop + delivery worker sharing one nudge, so the first chunk leaves at once."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, ChannelAdapter],
        *,
        base_url: str,
        secret: str,
        audience: AudienceFn | None = None,
        fanout_chunk_size: int = 5_000,
        fanout_poll_interval: float = FANOUT_POLL_INTERVAL,
        run_fanout: bool = True,
        relay_deadline_working_days: int = 3,
        sender_lock: Leadership | None = None,
        **worker_options: Any,
    ) -> None:
        self.db = db
        self.relay_deadline_working_days = relay_deadline_working_days
        self.fanout_wake = asyncio.Event()
        # Messages a hub relayed say so (由XX园区转达); the relay-aware renderer looks that up.
        worker_options.setdefault("renderer", relay.RelayAwareRenderer(db))
        self.worker = DeliveryWorker(db, channels, base_url=base_url, secret=secret, **worker_options)
        self.fanout = FanOut(db, audience=audience, chunk_size=fanout_chunk_size, on_chunk=self.worker.nudge.set)
        self.fanout_poll_interval = fanout_poll_interval
        self.run_fanout = run_fanout
        self.sender_lock = sender_lock

    async def run(self, stop: asyncio.Event) -> None:
        _running.add(self)
        try:
            sending = self.worker.run(stop) if self.sender_lock is None else self._send_as_sole_sender(stop)
            tasks = [asyncio.create_task(sending)]
            if self.run_fanout:
                tasks.append(asyncio.create_task(self._fanout_loop(stop)))
            await asyncio.gather(*tasks)
        finally:
            _running.discard(self)

    async def _send_as_sole_sender(self, stop: asyncio.Event) -> None:
        """Send only while holding `sender_lock`: without a shared limit store, one process at a
        time keeps the platform limits (the others wait and take over if it stops)."""
        lock = self.sender_lock
        assert lock is not None
        announced = False
        while not stop.is_set():
            try:
                leading = await lock.acquire()
            except Exception:
                log.exception("sender lock: cannot ask the database")
                leading = False
            if not leading:
                if not announced:
                    print("另一推送进程正在发送（未配置 REDIS_URL 时只允许一个进程发送），本进程待命", flush=True)
                    announced = True
                await wait_any(stop, timeout=SENDER_LOCK_RETRY)
                continue
            announced = False
            lost = asyncio.Event()
            watch = asyncio.create_task(self._watch_sender_lock(stop, lost))
            try:
                await self.worker.run(lost)
            finally:
                watch.cancel()
                await lock.release()

    async def _watch_sender_lock(self, stop: asyncio.Event, lost: asyncio.Event) -> None:
        while not stop.is_set():
            await wait_any(stop, timeout=SENDER_LOCK_RETRY)
            if not stop.is_set() and not await self.sender_lock.still_leading():  # type: ignore[union-attr]
                log.warning("sender lock lost; sending stops until it is taken again")
                break
        lost.set()

    async def _fanout_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.fanout_wake.clear()
            try:
                report = await self.fanout.run_once()
            except Exception:
                log.exception("fan-out failed; retrying in 1 s")
                await wait_any(stop, timeout=1.0)
                continue
            if report.rows:
                log.info("fan-out: %d events, %d deliveries queued", report.events, report.rows)
            try:
                # Relay tasks follow the same outbox with their own cursor; idempotent.
                await relay.sync_relay_tasks(self.db, working_days=self.relay_deadline_working_days)
            except Exception:
                log.exception("relay task sync failed; retrying on the next round")
            await wait_any(stop, self.fanout_wake, timeout=self.fanout_poll_interval)


async def can_record(db: Database, timeout: float = 5.0) -> bool:  # noqa: ASYNC109 - a health check's own bound
    """Whether outcomes can be recorded: no pipeline in this process is stuck recording, and the
    database takes a write now (not only a read)."""
    if any(pipeline.worker.recording_blocked.is_set() for pipeline in list(_running)):  # type: ignore[attr-defined]
        return False
    try:
        async with asyncio.timeout(timeout), writing(db) as session:
            await probe_write(session, clock.now())
    except Exception:  # noqa: BLE001 - any failure means "cannot record"
        return False
    return True


async def build_channels(
    db: Database, settings: Settings, limiter_config: Any = None, shared: SharedLimits | None = None
) -> dict[str, ChannelAdapter]:
    """The channel adapters configured in `settings`, with the web inbox stored in `db`."""

    async def store_web(address: str, message: RenderedMessage) -> str:
        return str(await store_web_message(db, message, inbox_key=address))

    # late: the adapters load aiogram and wechatpy (seconds of imports); only a process that sends
    # builds them, so the web app and the CLI start without.
    from push.channels import registry

    channels = dict(registry.build_channels(settings, limiter_config, web_store=store_web, shared=shared))
    if getattr(settings, "voice_enabled", False):
        # Chats that chose 语音播报 also get the policy as a voice message (push/voice/delivery.py).
        channels = with_voice(channels, voice_service_for(db, settings))
    return channels


async def shared_limits_for(db: Database, settings: Settings) -> tuple[SharedLimits | None, Leadership | None]:
    """How this process keeps the platform limits together with the others.

    REDIS_URL: shared buckets in Redis. PostgreSQL without it: per-process limits would multiply
    by the number of processes, so only the holder of the sole-sender lock sends. SQLite: one
    process, its own limits."""
    url = getattr(settings, "redis_url", "")
    if url:
        shared = SharedLimits.from_url(url, getattr(settings, "redis_key_prefix", "pd"))
        try:
            await shared.check()
            print("发送频率限制由所有推送进程共享（Redis）", flush=True)
        except Exception:  # noqa: BLE001 - fail closed: sending waits for Redis, the process stays up
            print("无法连接 REDIS_URL：发送已暂停，连接恢复后自动继续", flush=True)
        return shared, None
    if db.dialect == "postgresql":
        print(
            "未配置 REDIS_URL：多个推送进程无法共享发送频率限制，同一时间只由一个进程发送；"
            "多进程发送请配置 REDIS_URL",
            flush=True,
        )
        return None, PostgresLeadership(db, key=SENDER_LOCK_KEY)
    return None, None


async def run_workers(
    db: Database,
    settings: Settings,
    stop_event: asyncio.Event,
    *,
    channels: Mapping[str, ChannelAdapter] | None = None,
    limiter_config: Any = None,
    concurrency: int = 50,
    batch_size: int = 100,
    lease_seconds: float = 60.0,
) -> None:
    """Run fan-out, the lease sweeper and delivery workers until `stop_event` is set.

    Several processes may run this against one PostgreSQL database (claims use SKIP LOCKED);
    on SQLite run it in one process.
    """
    owned = channels is None
    shared, sender_lock = await shared_limits_for(db, settings) if owned else (None, None)
    limiter_config = limiter_config or LimiterConfig.from_settings(settings)
    adapters = dict(channels) if channels is not None else await build_channels(db, settings, limiter_config, shared)
    pipeline = Pipeline(
        db, adapters, base_url=settings.effective_public_base_url, secret=settings.secret_key,
        concurrency=concurrency, batch_size=batch_size, lease_seconds=lease_seconds,
        relay_deadline_working_days=getattr(settings, "relay_deadline_working_days", 3),
        sender_lock=sender_lock,
    )
    try:
        await pipeline.run(stop_event)
    finally:
        if owned:
            for adapter in adapters.values():
                with contextlib.suppress(Exception):
                    await adapter.close()
        if shared is not None:
            with contextlib.suppress(Exception):
                await shared.close()


# -- deliveries ----------------------------------------------------------------------------


async def get_delivery(session: AsyncSession, delivery_id: int) -> DeliveryView | None:
    """The message behind a button press or a tracked link (None when unknown)."""
    row = await deliveries.get_delivery(session, delivery_id)
    if row is None:
        return None
    return DeliveryView.of(row)


# -- web inbox -----------------------------------------------------------------------------


async def store_web_message(db: Database, message: RenderedMessage, *, inbox_key: str | None = None) -> int:
    """The web channel's 'send': keep the message for the visitor's web inbox."""
    async with db.session() as session:
        return await inbox.add_inbox_message(
            session, inbox_key=inbox_key or message.address, title=message.title, text=message.text, url=message.url,
            at=clock.now(),
        )


async def web_inbox(session: AsyncSession, inbox_key: str, limit: int = 50) -> list[InboxMessage]:
    rows = await inbox.inbox_messages(session, inbox_key, limit)
    return [InboxMessage(r.id, r.title, r.text, r.url, r.created_at, r.read) for r in rows]


async def mark_web_inbox_read(session: AsyncSession, inbox_key: str, message_ids: list[int]) -> int:
    return await inbox.mark_inbox_read(session, inbox_key, message_ids)


# -- posters -------------------------------------------------------------------------------


async def record_wechat_poster_scan(
    session: AsyncSession, poster_id: int, policy_id: int, *, day: date, visitor_key: str, at: datetime
) -> bool:
    """Count a scan of a poster's WeChat code (WeChat resolves it without opening our link);
    once per visitor key and day. True when it was counted now."""
    return await poster_store.insert_once(session, PosterScan(
        poster_id=poster_id, policy_id=policy_id, day=day, visitor_key=visitor_key, in_wechat=True, scanned_at=at,
    ))
