"""Keep a process's Q&A engine current with the database, whoever changed it.

Policies change through the lifecycle (publish, amend, repeal, expire), which writes an outbox
event in the same transaction; the follower reads events after its cursor and refreshes each
changed policy once per batch. Word lists a department saves in the console (concept map,
synonyms, under DATA_DIR) are reloaded when their files change, so every process answers
with them, not only the one that saved. Interpretations are saved without an event (they usually follow
a publication by a few days), so their `updated_at` is followed too; FAQ rows are compared when
the FAQ table's (count, last id, last change) moves. Refreshing is idempotent: replaying an
event costs a millisecond and changes nothing.

    engine, follower = await start_engine(db, settings.consultation_phone, data_dir=settings.data_dir)
    app = create_app(db, settings, qa_engine=engine)
    task = asyncio.create_task(follower.run(stop))          # stop: asyncio.Event set at shutdown

The follower also saves the index snapshot (policies/qa/snapshot.py) after every
`save_every` refreshed policies and when it stops, so the next start loads instead of rebuilding.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from policies import service as policies
from policies.qa import snapshot, store
from policies.qa.engine import QaEngine
from policies.search import word_lists
from policies.text.tokenizer import get_tokenizer

log = logging.getLogger(__name__)

EVENT_BATCH = 500
# A snapshot write costs a few hundred milliseconds of a worker thread at 10,000 policies.
SAVE_EVERY_CHANGES = 50
SNAPSHOT_DIR_NAME = "qa_index"


@dataclass(frozen=True, slots=True)
class FollowerCursor:
    """Where following starts: after this outbox event, and at interpretations saved at or after
    this time. The default replays everything (idempotent, but slow for a large library)."""

    event_id: int = 0
    interpretation_at: datetime | None = None


async def current_cursor(db: Database) -> FollowerCursor:
    """The database's latest event and interpretation change: read it *before* loading an
    engine, so nothing committed during the load is missed (it is replayed instead)."""
    async with db.reader() as session:
        return FollowerCursor(event_id=await store.latest_event_id(session),
                              interpretation_at=await store.latest_interpretation_change(session))


class IndexFollower:
    def __init__(
        self,
        db: Database,
        engine: QaEngine,
        *,
        poll_interval: float = 2.0,
        cursor: FollowerCursor | None = None,
        snapshot_dir: Path | None = None,
        save_every: int = SAVE_EVERY_CHANGES,
        data_dir: Path | None = None,
    ) -> None:
        self.db = db
        self.engine = engine
        self.poll_interval = poll_interval
        self.cursor = cursor or FollowerCursor()
        self.snapshot_dir = snapshot_dir
        self.save_every = save_every
        self.saved_fingerprint: str | None = None
        self._seen_interpretations: set[tuple[int, datetime]] = set()
        self._faq_state: tuple[int, int, str] | None = None
        self._unsaved = 0
        self._lock = asyncio.Lock()
        # Where the edited word lists live; the engine was built with the lists as they are now.
        self.data_dir = data_dir
        self.lists_version = word_lists.lists_version(data_dir)

    async def catch_up(self) -> int:
        """Apply every change committed since the last call; returns how many policies (and
        FAQ entries) were refreshed."""
        async with self._lock, self.db.reader() as session:
            changed: dict[int, None] = {}
            event_id = self.cursor.event_id
            while True:
                events = await policies.events_after(session, event_id, EVENT_BATCH)
                changed.update((e.policy_id, None) for e in events)
                if events:
                    event_id = events[-1].id
                if len(events) < EVENT_BATCH:
                    break
            since = self.cursor.interpretation_at
            saved = await store.interpretations_changed_since(session, since)
            changed.update((pid, None) for pid, at in saved if (pid, at) not in self._seen_interpretations)
            since = max((at for _, at in saved), default=since)
            refreshed = await self.engine.refresh_policies(session, changed)
            refreshed += await self._follow_faqs(session)
            self.follow_word_lists()
        # The query is "at or after the cursor" (another may be saved in the same instant), so
        # those at the cursor's instant are remembered and not refreshed again at every poll.
        self._seen_interpretations = {(pid, at) for pid, at in saved if at == since}
        self.cursor = FollowerCursor(event_id=event_id, interpretation_at=since)
        self._unsaved += refreshed
        return refreshed

    def follow_word_lists(self) -> bool:
        """Reload the concept map and synonyms when a list was saved since the last look (by
        this process or another); True when reloaded. Costs two stat calls otherwise."""
        version = word_lists.lists_version(self.data_dir)
        if version == self.lists_version:
            return False
        self.engine.use_word_lists(word_lists.load_table(self.data_dir))
        self.lists_version = version
        log.info("Q&A word lists reloaded")
        return True

    async def _follow_faqs(self, session: AsyncSession) -> int:
        state = await store.faq_state(session)
        if state == self._faq_state:
            return 0
        self._faq_state = state
        return self.engine.sync_faqs(await store.load_faqs(session))

    async def save_snapshot(self) -> bool:
        """Save the engine as a snapshot labelled with the database state it reflects. Skipped
        (False) without a snapshot folder, when nothing changed since the last save, or when the
        database moved while saving (the next call tries again)."""
        if self.snapshot_dir is None:
            return False
        async with self.db.reader() as session:
            faqs = await store.load_faqs(session)
            fingerprint = await snapshot.database_fingerprint(session, faqs)
        if fingerprint == self.saved_fingerprint:
            self._unsaved = 0
            return False
        # Read the fingerprint first, then catch up: the engine is then at least as new as
        # the label, never older (a newer engine only costs a rebuild at the next start).
        await self.catch_up()
        if self.engine.sync_faqs(faqs):
            return False  # FAQ rows moved under us; the next poll reloads them
        captured = snapshot.capture(self.engine, fingerprint)
        async with self.db.reader() as session:
            if await snapshot.database_fingerprint(session, await store.load_faqs(session)) != fingerprint:
                return False
        await asyncio.to_thread(snapshot.write_snapshot, captured, self.snapshot_dir)
        self.saved_fingerprint = fingerprint
        self._unsaved = 0
        log.info("Q&A index snapshot saved (%d policies)", len(self.engine))
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; then save a snapshot if anything changed. Errors (a
        database restarting) are logged and retried at the next poll."""
        while not stop.is_set():
            try:
                await self.catch_up()
                if self._unsaved >= self.save_every:
                    await self.save_snapshot()
            except Exception:
                log.exception("Q&A index follower: catch-up failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_interval)
        try:
            await self.save_snapshot()
        except Exception:
            log.exception("Q&A index follower: could not save the snapshot at shutdown")


async def start_engine(
    db: Database,
    phone: str | None,
    *,
    snapshot_dir: Path | None = None,
    poll_interval: float = 2.0,
    data_dir: Path | None = None,
) -> tuple[QaEngine, IndexFollower]:
    """The process's Q&A engine, ready to answer, and the follower that keeps it current
    (run `follower.run(stop)` as a task). `data_dir` is the settings' DATA_DIR: the edited
    word lists are read (and followed) there. Loads the snapshot in `snapshot_dir` (default
    `<data_dir>/qa_index`; neither given: no snapshot) when it matches the database; otherwise
    builds from stored tokens and saves a snapshot for the next start."""
    directory = snapshot_dir if snapshot_dir is not None else (
        data_dir / SNAPSHOT_DIR_NAME if data_dir is not None else None)
    # jieba loads its dictionary (a second or two): off the event loop.
    await asyncio.to_thread(get_tokenizer().initialize)
    cursor = await current_cursor(db)
    # Read before the lists themselves: a list saved meanwhile is reloaded at the first poll.
    lists_version = word_lists.lists_version(data_dir)
    async with db.reader() as session:
        loaded = await snapshot.open_engine(session, directory, phone=phone,
                                            synonyms=word_lists.load_table(data_dir))
    follower = IndexFollower(db, loaded.engine, poll_interval=poll_interval, cursor=cursor, snapshot_dir=directory,
                             data_dir=data_dir)
    follower.lists_version = lists_version
    if loaded.from_snapshot:
        follower.saved_fingerprint = loaded.fingerprint
    elif directory is not None:
        try:
            await asyncio.to_thread(snapshot.write_snapshot, snapshot.capture(loaded.engine, loaded.fingerprint),
                                    directory)
            follower.saved_fingerprint = loaded.fingerprint
        except OSError:
            log.warning("Q&A index snapshot could not be written to %s", directory, exc_info=True)
    return loaded.engine, follower
