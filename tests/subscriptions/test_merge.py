"""`service.merge_subscribers`: one person known by two contacts becomes one contact.

Criteria are united, addresses move with their ids (delivery history stays linked), the
target's settings win unless it had subscribed to nothing, the match index (database and
in memory) follows, and refused merges change nothing."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select

from core.clock import FixedClock
from core.db import Database
from core.errors import Conflict, NotFound
from subscriptions import matching, service, store
from subscriptions.match_index import live, load
from subscriptions.match_index.models import MatchChange
from subscriptions.models import MatchKey, Subscriber
from subscriptions.views import SubscriberView
from tests.subscriptions.helpers import credit_code, policy

EMPLOYMENT = policy(id=1, topics=("employment",))
HOUSING_IN_XIANGSHUI = policy(id=2, topics=("housing",), regions=("xiangshui",))


async def _all_index_rows(db: Database) -> set:  # type: ignore[type-arg]
    async with db.reader() as s:
        ids = (await s.execute(select(Subscriber.id))).scalars().all()
        return await store.index_rows_of(s, ids)


async def _two_contacts(db: Database) -> tuple[SubscriberView, SubscriberView]:
    """A web visitor with subscriptions and settings, and a WeChat resident with its own."""
    async with db.session() as s:
        web = await service.ensure_subscriber_for_address(s, "web", "web-visitor-1")
        await service.subscribe_topics(s, web.id, ["employment", "housing"])
        await service.add_keywords(s, web.id, ["光伏", "创业担保贷款"])
        await service.set_townships(s, web.id, ["香水镇"])
        await service.set_resident_profile(s, web.id, groups=["退役军人"])
        await service.set_preferences(s, web.id, frequency="weekly")
        await service.add_address(s, web.id, "telegram", "4242")  # a chat bound earlier
        chat = await service.ensure_subscriber_for_address(s, "wechat", "o_target")
        await service.set_resident_profile(s, chat.id, township="泾河源镇", groups=["脱贫人口"])
        await service.subscribe_topics(s, chat.id, ["tax"])
        await service.add_keywords(s, chat.id, ["光伏"])
        await service.set_audience(s, chat.id, "enterprise")
        await service.set_preferences(
            s, chat.id, frequency="daily", quiet_hours=(datetime.time(22), datetime.time(7)), daily_cap=3
        )
        await service.set_recommend_by_profile(s, chat.id, True)
        return await service.get_subscriber(s, web.id), await service.get_subscriber(s, chat.id)


async def test_merge_unites_criteria_and_moves_addresses_with_their_ids(db: Database, clock: FixedClock) -> None:
    web, chat = await _two_contacts(db)
    async with db.session() as s:
        merged = await service.merge_subscribers(s, web.id, chat.id)

    assert merged.id == chat.id
    assert merged.topics == ("employment", "housing", "tax")
    assert merged.keywords == ("光伏", "创业担保贷款")
    assert set(merged.townships) == {"xiangshui", "jingheyuan"}  # the target's home kept as explicit
    assert set(merged.groups) == {"veteran", "poverty_exit"}
    assert merged.audience == "both"  # resident (web) and enterprise (chat), both had subscribed
    assert merged.recommend_by_profile and not merged.all_topics
    # The target had subscriptions: its settings stay.
    assert merged.preference.frequency == "daily" and merged.preference.daily_cap == 3
    assert (merged.preference.quiet_start, merged.preference.quiet_end) == (datetime.time(22), datetime.time(7))
    # Same address rows (ids, channel, address, state), now the target's; nothing renamed.
    before = {(a.id, a.channel, a.address, a.active) for a in web.addresses + chat.addresses}
    assert {(a.id, a.channel, a.address, a.active) for a in merged.addresses} == before
    assert {a.subscriber_id for a in merged.addresses} == {chat.id}

    async with db.reader() as s:
        source = await service.get_subscriber(s, web.id)
        assert source.merged_into == chat.id and source.addresses == ()
        assert (source.topics, source.keywords, source.townships) == ((), (), ())
        assert not source.all_topics and not source.recommend_by_profile
        for channel, address in (("web", "web-visitor-1"), ("telegram", "4242"), ("wechat", "o_target")):
            found = await service.find_address(s, channel, address)
            assert found is not None and found.subscriber_id == chat.id
    async with db.session() as s:  # the visitor writes again in the web chat: the merged contact
        assert (await service.ensure_subscriber_for_address(s, "web", "web-visitor-1")).id == chat.id


async def test_audience_after_a_merge_names_the_target_for_every_address(db: Database, clock: FixedClock) -> None:
    web, chat = await _two_contacts(db)
    async with db.reader() as s:  # the in-memory index is built before the merge
        assert {r.subscriber_id for r in await service.audience(s, EMPLOYMENT)} == {web.id}
    async with db.session() as s:
        await service.merge_subscribers(s, web.id, chat.id)
        # The merging session sees its own change before committing.
        assert {r.subscriber_id for r in await service.audience(s, EMPLOYMENT)} == {chat.id}
    web_addresses = {a.id for a in web.addresses}
    for p in (EMPLOYMENT, HOUSING_IN_XIANGSHUI):
        async with db.reader() as s:
            recipients = await service.audience(s, p)
            ids = set(await service.match_subscriber_ids(s, p))
        assert {r.subscriber_id for r in recipients} == {chat.id} and ids == {chat.id}
        assert web.id not in ids
        assert {r.address_id for r in recipients} == web_addresses | {a.id for a in chat.addresses}
        assert {r.preference.frequency for r in recipients} == {"daily"}


async def test_the_memory_index_agrees_with_a_fresh_build_after_a_merge(db: Database, clock: FixedClock) -> None:
    live.forget_all()
    web, chat = await _two_contacts(db)
    async with db.session() as s:
        other = await service.create_resident(s, township="香水镇", channel="telegram", address="other")
        await service.subscribe_topics(s, other.id, ["employment"])
    follower = live.LiveIndex()  # another process: built before the merge, follows the log after
    async with db.reader() as s:
        await follower.current(s)
    async with db.session() as s:
        await service.merge_subscribers(s, web.id, chat.id)
    async with db.reader() as s:
        index = await follower.current(s)
        fresh = await load.load(s)
    expected = await _all_index_rows(db)
    assert fresh.rows() == expected  # the database index equals the rows derived from the tables
    assert index.rows() == expected  # and so does the followed in-memory index
    assert not any(r.subscriber_id == web.id for r in expected)
    for p in (EMPLOYMENT, HOUSING_IN_XIANGSHUI, policy(id=3, keywords=("光伏",), tokens=frozenset({"光伏"}))):
        q = matching.query(p)
        assert index.match(q).as_dict() == fresh.match(q).as_dict()
    async with db.reader() as s:
        logged = set((await s.execute(select(MatchChange.subscriber_id))).scalars())
    assert {web.id, chat.id} <= logged
    async with db.session() as s:  # a full rebuild writes the same rows
        await service.rebuild_match_index(s)
    assert await _all_index_rows(db) == expected


async def test_a_target_without_subscriptions_takes_the_source_settings(db: Database, clock: FixedClock) -> None:
    async with db.session() as s:
        web = await service.ensure_subscriber_for_address(s, "web", "web-visitor-2")
        await service.subscribe_all_topics(s, web.id)
        await service.set_preferences(s, web.id, frequency="weekly", quiet_hours=(datetime.time(21), datetime.time(8)))
        await service.pause(s, web.id)
        chat = await service.ensure_subscriber_for_address(s, "telegram", "5151")
        await service.set_resident_profile(s, chat.id, township="泾河源镇")
        await service.set_audience(s, chat.id, "enterprise")  # but nothing subscribed
        merged = await service.merge_subscribers(s, web.id, chat.id)
    assert merged.all_topics and merged.audience == "resident"  # the audience of the side that subscribed
    assert merged.preference.frequency == "weekly" and merged.preference.paused
    assert (merged.preference.quiet_start, merged.preference.quiet_end) == (datetime.time(21), datetime.time(8))
    assert merged.townships == () and merged.township == "jingheyuan"  # the web visitor had no township


async def test_the_enterprise_moves_when_only_the_source_has_one(db: Database, clock: FixedClock) -> None:
    async with db.session() as s:
        ent = await service.save_enterprise(s, name="泾源智造", credit_code=credit_code(7), township="香水镇")
        web = await service.add_enterprise_contact(s, ent.id, channel="web", address="web-ent")
        await service.subscribe_topics(s, web.id, ["business"])
        chat = await service.ensure_subscriber_for_address(s, "wechat", "o_boss")
        await service.subscribe_topics(s, chat.id, ["employment"])
        merged = await service.merge_subscribers(s, web.id, chat.id)
        assert await store.contact_ids_of_enterprise(s, ent.id) == sorted([web.id, chat.id])
    assert merged.kind == "enterprise" and merged.enterprise_id == ent.id and merged.township == "xiangshui"
    assert merged.topics == ("business", "employment") and merged.audience == "both"


async def _snapshot(db: Database, *ids: int) -> tuple:  # type: ignore[type-arg]
    async with db.reader() as s:
        views = [await service.get_subscriber(s, i) for i in ids]
        changes = (await s.execute(select(func.count()).select_from(MatchChange))).scalar_one()
        keys = sorted(
            (r.key, r.township, r.subscriber_id, r.detail) for r in (await s.execute(select(MatchKey))).scalars()
        )
    return views, changes, keys


async def test_refused_merges_change_nothing(db: Database, clock: FixedClock) -> None:
    async with db.session() as s:
        first = await service.save_enterprise(s, name="甲公司", credit_code=credit_code(1))
        second = await service.save_enterprise(s, name="乙公司", credit_code=credit_code(2))
        a = await service.add_enterprise_contact(s, first.id, channel="wechat", address="o_a")
        b = await service.add_enterprise_contact(s, second.id, channel="telegram", address="1001")
        await service.subscribe_topics(s, a.id, ["tax"])
        await service.subscribe_topics(s, b.id, ["employment"])
        hub = await service.create_hub(s, name="泾源工业园", kind="park", township="香水镇")
        operator = await service.add_hub_contact(s, hub.id, channel="wecom_robot", address="robot-key")
        resident = await service.ensure_subscriber_for_address(s, "web", "web-r")
        await service.subscribe_topics(s, resident.id, ["housing"])
    ids = (a.id, b.id, operator.id, resident.id)
    before = await _snapshot(db, *ids)

    refusals = [
        ((a.id, b.id), "enterprise_id", "不同的企业"),
        ((b.id, a.id), "enterprise_id", "不同的企业"),
        ((resident.id, operator.id), "into_id", "园区或协会"),
        ((operator.id, resident.id), "source_id", "园区或协会"),
        ((resident.id, resident.id), "into_id", "自身"),
    ]
    for (source, into), field, words in refusals:
        async with db.session() as s:
            with pytest.raises(Conflict) as refused:
                await service.merge_subscribers(s, source, into)
        assert refused.value.field == field and words in refused.value.message
    async with db.session() as s:
        with pytest.raises(NotFound):
            await service.merge_subscribers(s, resident.id, 999_999)
        with pytest.raises(NotFound):
            await service.merge_subscribers(s, 999_999, resident.id)
    assert await _snapshot(db, *ids) == before


async def test_a_second_merge_is_refused_and_changes_nothing(db: Database, clock: FixedClock) -> None:
    web, chat = await _two_contacts(db)
    async with db.session() as s:
        await service.merge_subscribers(s, web.id, chat.id)
    after_first = await _snapshot(db, web.id, chat.id)
    for source, into, field in ((web.id, chat.id, "source_id"), (chat.id, web.id, "into_id")):
        async with db.session() as s:
            with pytest.raises(Conflict) as refused:
                await service.merge_subscribers(s, source, into)
        assert refused.value.field == field and "已合并" in refused.value.message
    assert await _snapshot(db, web.id, chat.id) == after_first
