"""The in-memory match index: after any sequence of changes it equals a fresh build, it
notices an emptied log, and a session sees its own uncommitted changes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import FixedClock
from core.db import Database
from subscriptions import matching, service, store
from subscriptions.match_index import live, load, memory
from subscriptions.models import Subscriber
from tests.conftest import empty_all_tables
from tests.subscriptions.helpers import credit_code, policy

TOPICS = ["employment", "business", "tax"]
TOWNS = ["xiangshui", "liupanshan", "dawan"]

change = st.one_of(
    st.tuples(st.just("topics"), st.integers(0, 3), st.sets(st.sampled_from(TOPICS), min_size=1, max_size=2)),
    st.tuples(st.just("unsubscribe_topic"), st.integers(0, 3), st.sampled_from(TOPICS)),
    st.tuples(st.just("keywords"), st.integers(0, 3), st.sets(st.sampled_from(["贷款", "创业担保贷款"]), min_size=1)),
    st.tuples(st.just("townships"), st.integers(0, 3), st.sets(st.sampled_from([*TOWNS, "*"]), max_size=2)),
    st.tuples(st.just("audience"), st.integers(0, 3), st.sampled_from(["both", "resident", "enterprise"])),
    st.tuples(st.just("recommend"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("all_topics"), st.integers(0, 3), st.none()),
    st.tuples(st.just("unsubscribe_all"), st.integers(0, 3), st.none()),
    st.tuples(st.just("enterprise"), st.integers(0, 3), st.sampled_from(["A", "C", ""])),
    st.tuples(st.just("new_contact"), st.integers(0, 3), st.sampled_from(TOWNS)),
    st.tuples(st.just("match"), st.integers(0, 3), st.none()),
)


async def _apply(s, ids: list[int], enterprise: int, op: str, who: int, arg) -> None:  # type: ignore[no-untyped-def]
    sid = ids[who % len(ids)]
    if op == "topics":
        await service.subscribe_topics(s, sid, sorted(arg))
    elif op == "unsubscribe_topic":
        await service.unsubscribe_topic(s, sid, arg)
    elif op == "keywords":
        await service.add_keywords(s, sid, sorted(arg))
    elif op == "townships":
        await service.set_townships(s, sid, sorted(arg))
    elif op == "audience":
        await service.set_audience(s, sid, arg)
    elif op == "recommend":
        await service.set_recommend_by_profile(s, sid, arg)
    elif op == "all_topics":
        await service.subscribe_all_topics(s, sid)
    elif op == "unsubscribe_all":
        await service.unsubscribe_all(s, sid)
    elif op == "enterprise":
        await service.update_enterprise(s, enterprise, industry=arg)
    elif op == "new_contact":
        contact = await service.create_resident(s, township=arg, channel="telegram", address=f"n{len(ids)}")
        await service.subscribe_topics(s, contact.id, ["employment"])
        ids.append(contact.id)


async def _all_rows(db: Database) -> set:  # type: ignore[type-arg]
    from sqlalchemy import select

    async with db.reader() as s:
        ids = (await s.execute(select(Subscriber.id))).scalars().all()
        return await store.index_rows_of(s, ids)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(change, min_size=1, max_size=12), compact_after=st.sampled_from([2, 1000]))
async def test_incremental_index_equals_a_fresh_build(db: Database, clock: FixedClock, changes, compact_after) -> None:  # type: ignore[no-untyped-def]
    await empty_all_tables(db)
    live.forget_all()
    async with db.session() as s:
        ent = await service.save_enterprise(
            s, name="泾源智造", credit_code=credit_code(1), industry="C", township="香水镇",
            qualifications=["高新技术企业"],
        )  # fmt: skip
        ids = [(await service.add_enterprise_contact(s, ent.id, channel="wechat", address="e1")).id]
        ids.append((await service.create_resident(s, township="香水镇", channel="telegram", address="r1")).id)
        await service.subscribe_topics(s, ids[0], ["business"])
    follower = live.LiveIndex()  # another process: built now, follows the log afterwards
    async with db.reader() as s:
        await follower.current(s)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memory, "COMPACT_AFTER", compact_after)
        for op, who, arg in changes:
            async with db.session() as s:
                await _apply(s, ids, ent.id, op, who, arg)
            if op == "match":
                async with db.reader() as s:
                    await follower.current(s)
        async with db.reader() as s:
            index = await follower.current(s)
            fresh = await load.load(s)
    expected = await _all_rows(db)
    assert fresh.rows() == expected
    assert index.rows() == expected
    for p in (policy(topics=("business", "employment")), policy(topics=("tax",), regions=("xiangshui",))):
        q = matching.query(p)
        assert index.match(q).as_dict() == fresh.match(q).as_dict()


async def test_an_emptied_log_means_a_rebuild(db: Database, clock: FixedClock) -> None:
    async with db.session() as s:
        a = await service.create_resident(s, township="香水镇", channel="telegram", address="a")
        await service.subscribe_topics(s, a.id, ["employment"])
    employment = policy(topics=("employment",))
    async with db.reader() as s:
        assert set(await service.match_subscriber_ids(s, employment)) == {a.id}
    await empty_all_tables(db)  # ids and log sequence numbers start again from 1
    async with db.session() as s:
        b = await service.create_resident(s, township="香水镇", channel="telegram", address="b")
        await service.subscribe_topics(s, b.id, ["tax"])
    async with db.reader() as s:
        assert await service.match_subscriber_ids(s, employment) == {}


async def test_a_session_sees_its_own_uncommitted_changes(db: Database, clock: FixedClock) -> None:
    async with db.session() as s:
        a = await service.create_resident(s, township="香水镇", channel="telegram", address="a")
    employment = policy(topics=("employment",))
    async with db.reader() as s:
        assert await service.match_subscriber_ids(s, employment) == {}  # the memory index is built
    async with db.session() as s:
        await service.subscribe_topics(s, a.id, ["employment"])
        assert set(await service.match_subscriber_ids(s, employment)) == {a.id}
        assert [r.subscriber_id for r in await service.audience(s, employment)] == [a.id]


async def test_audience_chunks_are_the_audience_in_order(db: Database, clock: FixedClock) -> None:
    async with db.session() as s:
        for i in range(7):
            c = await service.create_resident(s, township="香水镇", channel="telegram", address=f"c{i}")
            await service.subscribe_topics(s, c.id, ["employment"])
            if i % 3 == 0:
                await service.add_address(s, c.id, "wechat", f"o-{i}")
            if i == 4:
                await service.pause(s, c.id)
    employment = policy(topics=("employment",))
    async with db.reader() as s:
        whole = await service.audience(s, employment)
        chunks = [c async for c in service.audience_chunks(s, employment, chunk_size=3, first_chunk_size=1)]
    assert all(chunks) and len({r.subscriber_id for r in chunks[0]}) == 1  # chunks count contacts
    assert [r for c in chunks for r in c] == whole
    assert [(r.subscriber_id, r.address_id) for r in whole] == sorted((r.subscriber_id, r.address_id) for r in whole)
    assert len(whole) == 7 + 3 - 1  # seven contacts, three with a second address, one paused (with one)


async def test_the_build_time_is_read_from_the_timer_passed_in(db: Database, clock: FixedClock) -> None:
    ticks = iter([100.0, 102.5])
    index = live.LiveIndex(timer=lambda: next(ticks))
    async with db.reader() as s:
        await index.current(s)
    assert index.build_seconds == 2.5
