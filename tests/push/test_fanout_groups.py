"""Fan-out by recipient groups (one INSERT … SELECT per group) writes exactly the rows the
row-by-row fan-out writes: same addresses, reasons, roles, hubs and due times; on both backends."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.clock import FixedClock
from core.db import Database
from policies import service as policies
from push.fanout import GROUP_STATEMENT_MIN, FanOut
from subscriptions import service as subscriptions
from tests.factories import make_published_policy
from tests.push.helpers import deliveries
from tests.subscriptions.test_audience import County, build_county

POLICY = {
    "title": "泾源县支持高新技术企业和高校毕业生创业若干措施",
    "audience": "both",
    "topics": ["employment", "business"],
    "regions": ["xiangshui"],
    "industries": ["C"],
    "eligibility": ["high_tech", "graduate"],
}


async def _varied_preferences(db: Database, county: County) -> None:
    """A second address, a digest, quiet hours and a daily cap among the recipients."""
    async with db.session() as s:
        await subscriptions.add_address(s, county.resident, "web", "inbox-resident")
        await subscriptions.set_preferences(s, county.owner, daily_cap=2)
        await subscriptions.set_preferences(s, county.finance, frequency="daily")
        await subscriptions.set_preferences(s, county.undeclared, quiet_hours=(time(8, 0), time(10, 0)))


def _rows_of(rows: list[Any], policy_id: int) -> set[tuple[Any, ...]]:
    return {
        (r.kind, r.subscriber_id, r.address_id, r.channel, r.address, tuple(r.reasons), r.role, r.hub_id,
         r.urgent, r.digest, r.due_at, r.next_attempt_at, r.status, r.attempts)
        for r in rows if r.policy_id == policy_id
    }  # fmt: skip


# 1: every group gets its own INSERT … SELECT; the default writes these small groups as rows.
STATEMENT_MIN = pytest.mark.parametrize("statement_min", [1, GROUP_STATEMENT_MIN], ids=["statements", "rows"])


@STATEMENT_MIN
async def test_groups_write_the_same_rows_as_row_by_row(db: Database, clock: FixedClock, statement_min: int) -> None:
    county = await build_county(db)
    await _varied_preferences(db, county)

    by_groups = await make_published_policy(db, **POLICY)
    first = await FanOut(db, chunk_size=2, first_chunk_size=1, group_statement_min=statement_min).run_once()
    by_rows = await make_published_policy(db, **POLICY)
    second = await FanOut(db, audience=subscriptions.audience).run_once()

    rows = await deliveries(db)
    grouped, row_by_row = _rows_of(rows, by_groups.id), _rows_of(rows, by_rows.id)
    assert grouped == row_by_row
    assert first.rows == second.rows == len(grouped)
    addresses = {(r[1], r[4]) for r in grouped}
    assert (county.resident, "inbox-resident") in addresses and (county.resident, "100") in addresses
    assert county.paused not in {r[1] for r in grouped} and county.blocked not in {r[1] for r in grouped}
    relayers = [r for r in grouped if r[6] == "relayer"]
    assert [(r[1], r[7]) for r in relayers] == [(county.park_robot, county.park)]
    assert any(r[9] for r in grouped if r[1] == county.finance)  # the daily digest
    assert {r[10] for r in grouped if r[1] == county.undeclared} == {clock.now() + timedelta(hours=1)}


@STATEMENT_MIN
async def test_daily_cap_books_each_address_in_the_group_path(
    db: Database, clock: FixedClock, statement_min: int
) -> None:
    county = await build_county(db)
    await _varied_preferences(db, county)
    published = [await make_published_policy(db, **{**POLICY, "title": f"第{n}号措施"}) for n in range(3)]
    await FanOut(db, group_statement_min=statement_min).run_once()
    owner_due = sorted(
        r.due_at for r in await deliveries(db) if r.subscriber_id == county.owner and r.policy_id in
        {p.id for p in published}
    )  # fmt: skip
    # Cap 2 a day: the third policy waits for the next day's digest hour (09:00 Beijing).
    assert owner_due[:2] == [clock.now(), clock.now()]
    assert owner_due[2] >= clock.now() + timedelta(hours=23)


@STATEMENT_MIN
async def test_group_fan_out_resumes_after_a_crash_without_duplicates(
    db: Database, clock: FixedClock, statement_min: int
) -> None:
    county = await build_county(db)
    await _varied_preferences(db, county)
    await make_published_policy(db, **POLICY)
    chunks: list[int] = []
    crashed = FanOut(db, chunk_size=2, first_chunk_size=1, on_chunk=lambda: chunks.append(1),
                     group_statement_min=statement_min)  # fmt: skip
    partial = await crashed.run_once(max_chunks=2)
    assert partial.events == 0 and len(chunks) == 2
    written = len(await deliveries(db))
    assert 0 < written == partial.rows
    resumed = await FanOut(db, chunk_size=2, group_statement_min=statement_min).run_once()
    assert resumed.events == 1
    rows = await deliveries(db)
    assert len(rows) == written + resumed.rows
    assert len({(r.subscriber_id, r.address_id) for r in rows}) == len(rows)
    again = await FanOut(db).run_once()
    assert (again.rows, again.events) == (0, 0)
    async with db.reader() as s:
        published = await policies.get_policy(s, rows[0].policy_id)
        expected = {(r.subscriber_id, r.address_id) for r in await subscriptions.audience(s, published)}
    assert {(r.subscriber_id, r.address_id) for r in rows} == expected


@STATEMENT_MIN
async def test_a_slice_whose_rows_partly_exist_writes_only_the_missing_ones(
    db: Database, clock: FixedClock, statement_min: int
) -> None:
    """Rows written without their progress (another runner, an older path): the slice's plain
    INSERT meets the unique key, and the slice is written again with insert-or-ignore."""
    county = await build_county(db)
    await _varied_preferences(db, county)
    published = await make_published_policy(db, **POLICY)
    complete = await FanOut(db, group_statement_min=statement_min).run_once()
    before = _rows_of(await deliveries(db), published.id)
    assert complete.rows == len(before) >= 4
    kept = sorted(before, key=lambda r: (r[1], r[2]))[::2]  # every other row stays
    async with db.session() as s:
        await s.execute(text("DELETE FROM fanout_progress"))
        await s.execute(text("DELETE FROM delivery"))
    await _insert_rows(db, published.id, kept)

    again = await FanOut(db, group_statement_min=statement_min).run_once()

    assert again.events == 1 and again.rows == len(before) - len(kept)
    after = _rows_of(await deliveries(db), published.id)
    assert after == before
    assert len(await deliveries(db)) == len(before)


async def _insert_rows(db: Database, policy_id: int, rows: list[tuple[Any, ...]]) -> None:
    from push.models import Delivery

    async with db.session() as s:
        for kind, sid, aid, channel, address, reasons, role, hub, urgent, digest, due, nxt, status, attempts in rows:
            s.add(Delivery(policy_id=policy_id, revision=1, kind=kind, subscriber_id=sid, address_id=aid,
                           channel=channel, address=address, reasons=list(reasons), role=role, hub_id=hub,
                           urgent=urgent, digest=digest, due_at=due, next_attempt_at=nxt, status=status,
                           attempts=attempts, last_error="", created_at=clock_now(db)))  # fmt: skip


def clock_now(_db: Database) -> Any:
    from core import clock

    return clock.now()
