"""The first chunk of a large audience is committed before the rest of it is read or planned,
on every fan-out path (a streamed audience, recipient groups, a whole list): the order of
events is asserted, never a time."""

from __future__ import annotations

from typing import Any

import pytest

from core.clock import FixedClock
from core.db import Database
from push.fanout import FanOut
from push.fanout_plan import sorted_unique
from subscriptions.views import AudienceSlice, RecipientGroup
from tests.factories import make_published_policy
from tests.push.helpers import IMMEDIATE, StaticAudience, deliveries, make_recipients

PEOPLE = 23  # a "large" audience at test scale: a first chunk of 2, then chunks of 5


class Log:
    """What happened, in order: "read N" when the audience is asked for its N-th chunk (with
    the rows committed by then), "commit" after each committed chunk (`on_chunk`)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.events: list[str] = []
        self.committed_at_read: list[int] = []

    async def read(self, n: int) -> None:
        self.events.append(f"read {n}")
        self.committed_at_read.append(len(await deliveries(self.db)))

    def commit(self) -> None:
        self.events.append("commit")

    def before_second_read(self) -> list[str]:
        return self.events[: self.events.index("read 2")]


def _chunked(people: list[Any], first: int, size: int) -> list[list[Any]]:
    chunks, start, step = [], 0, first
    while start < len(people):
        chunks.append(people[start : start + step])
        start, step = start + step, size
    return chunks


async def test_streamed_audience_commits_its_first_chunk_before_reading_the_second(
    db: Database, clock: FixedClock
) -> None:
    people = await make_recipients(db, PEOPLE)
    await make_published_policy(db)
    log = Log(db)

    async def audience_chunks(session: Any, policy: Any, *, chunk_size: int, first_chunk_size: int) -> Any:
        for n, chunk in enumerate(_chunked(people, first_chunk_size, chunk_size), start=1):
            await log.read(n)
            yield chunk

    fanout = FanOut(db, audience_chunks=audience_chunks, chunk_size=5, first_chunk_size=2, on_chunk=log.commit)
    report = await fanout.run_once()

    assert log.before_second_read() == ["read 1", "commit"]
    assert log.committed_at_read[:2] == [0, 2]  # the first two rows were in the database already
    assert report.rows == PEOPLE and report.events == 1
    assert log.events.count("read 6") == 1 and "read 7" not in log.events  # each chunk read once
    assert len({(r.subscriber_id, r.address_id) for r in await deliveries(db)}) == PEOPLE


@pytest.mark.parametrize("statement_min", [1, 100], ids=["statements", "rows"])
async def test_recipient_groups_commit_the_first_slice_before_reading_the_second(
    db: Database, clock: FixedClock, statement_min: int
) -> None:
    people = await make_recipients(db, PEOPLE)
    await make_published_policy(db)
    log = Log(db)

    async def audience_groups(
        session: Any, policy: Any, *, chunk_size: int, first_chunk_size: int, after_subscriber_id: int
    ) -> Any:
        ids = [p.subscriber_id for p in people if p.subscriber_id > after_subscriber_id]
        for n, chunk in enumerate(_chunked(ids, first_chunk_size, chunk_size), start=1):
            await log.read(n)
            group = RecipientGroup(("您订阅了“就业创业”",), "subscriber", IMMEDIATE, None, tuple(chunk))
            yield AudienceSlice(chunk[-1], (group,))

    fanout = FanOut(
        db, audience_groups=audience_groups, chunk_size=5, first_chunk_size=2, group_statement_min=statement_min,
        on_chunk=log.commit,
    )  # fmt: skip
    report = await fanout.run_once()

    assert log.before_second_read() == ["read 1", "commit"]
    assert log.committed_at_read[:2] == [0, 2]
    assert report.rows == PEOPLE and report.events == 1
    # On PostgreSQL a later slice is read while the one before it is written (`read_ahead`),
    # never the second before the first is committed.
    assert log.events.count("commit") == 6
    assert len(await deliveries(db)) == PEOPLE


class ListThatLogsSlices(list):  # type: ignore[type-arg]
    """A whole-list audience that notes which slices of it the fan-out plans, and when."""

    def __init__(self, items: list[Any], log: Log) -> None:
        super().__init__(items)
        self.log = log

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            self.log.events.append(f"plan {index.start}:{index.stop}")
        return super().__getitem__(index)


async def test_whole_list_audience_plans_each_chunk_after_the_one_before_is_committed(
    db: Database, clock: FixedClock
) -> None:
    people = await make_recipients(db, PEOPLE)
    await make_published_policy(db)
    log = Log(db)
    audience = ListThatLogsSlices(people, log)

    async def whole(session: Any, policy: Any) -> list[Any]:
        log.events.append("read all")
        return audience

    report = await FanOut(db, audience=whole, chunk_size=5, first_chunk_size=2, on_chunk=log.commit).run_once()

    assert log.events[:5] == ["read all", "plan 0:2", "commit", "plan 2:7", "commit"]
    assert report.rows == PEOPLE


def test_sorted_unique_keeps_a_sorted_audience_and_sorts_any_other() -> None:
    people = [(1, 10), (2, 20), (2, 21), (3, 30)]
    recipients = [_R(sid, aid) for sid, aid in people]
    assert sorted_unique(recipients) is recipients  # several addresses of one contact, in order
    one_each = [_R(1, 10), _R(2, 20), _R(5, 3)]
    assert sorted_unique(one_each) is one_each
    shuffled = [_R(2, 21), _R(1, 10), _R(2, 20), _R(2, 21, "later"), _R(1, 10, "later")]
    assert [(r.subscriber_id, r.address_id, r.note) for r in sorted_unique(shuffled)] == [
        (1, 10, ""), (2, 20, ""), (2, 21, ""),  # the first seen of each key
    ]  # fmt: skip
    same_contact_out_of_order = [_R(4, 41), _R(4, 40)]
    assert [r.address_id for r in sorted_unique(same_contact_out_of_order)] == [40, 41]


class _R:
    def __init__(self, subscriber_id: int, address_id: int, note: str = "") -> None:
        self.subscriber_id, self.address_id, self.note = subscriber_id, address_id, note


async def test_a_static_audience_is_still_fanned_out_in_order(db: Database, clock: FixedClock) -> None:
    people = await make_recipients(db, 7)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(people[::-1]), chunk_size=3, first_chunk_size=2).run_once()
    rows = await deliveries(db)
    assert sorted(r.address_id for r in rows) == sorted(p.address_id for p in people)
