"""A hand-written county: every reason kind, every exclusion, hubs; on both backends."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from core.clock import FixedClock
from core.db import Database
from policies.text.tokenizer import get_tokenizer
from subscriptions import service, store
from subscriptions.models import MatchKey
from subscriptions.views import RecipientRole
from tests.subscriptions.helpers import TODAY, credit_code, policy


@dataclass
class County:
    resident: int
    borrower: int
    paused: int
    blocked: int
    owner: int
    finance: int
    farm: int
    undeclared: int
    far_away: int
    park_robot: int
    other_hub_robot: int
    park: int
    high_tech: int


async def build_county(db: Database) -> County:
    async with db.session() as s:
        resident = await service.create_resident(
            s, display_name="小王", township="香水镇", groups=["高校毕业生"], channel="telegram", address="100"
        )
        await service.subscribe_topics(s, resident.id, ["就业创业"])
        borrower = await service.create_resident(s, channel="wechat", address="o-borrower")
        await service.add_keywords(s, borrower.id, ["创业担保贷款"])
        paused = await service.create_resident(s, township="xiangshui", channel="telegram", address="101")
        await service.subscribe_topics(s, paused.id, ["employment"])
        await service.pause(s, paused.id)
        blocked = await service.create_resident(s, township="xiangshui", channel="telegram", address="102")
        await service.subscribe_topics(s, blocked.id, ["employment"])
        await service.deactivate_address(s, blocked.addresses[0].id, "blocked")

        high_tech = await service.save_enterprise(
            s, name="泾源智造有限公司", credit_code=credit_code(1), industry="制造业", size="小",
            qualifications=["高新技术企业"], township="香水镇",
        )  # fmt: skip
        owner = await service.add_enterprise_contact(s, high_tech.id, channel="telegram", address="200")
        await service.subscribe_topics(s, owner.id, ["惠企政策"])
        finance = await service.add_enterprise_contact(s, high_tech.id, channel="wechat", address="o-finance")
        await service.set_recommend_by_profile(s, finance.id, True)

        farm_ent = await service.save_enterprise(
            s, name="六盘山牧业", credit_code=credit_code(2), industry="A", township="香水镇"
        )
        farm = await service.add_enterprise_contact(s, farm_ent.id, channel="telegram", address="300")
        await service.subscribe_topics(s, farm.id, ["business"])
        plain = await service.save_enterprise(s, name="某商贸公司", credit_code=credit_code(3), township="香水镇")
        undeclared = await service.add_enterprise_contact(s, plain.id, channel="telegram", address="400")
        await service.subscribe_topics(s, undeclared.id, ["business"])
        far = await service.save_enterprise(
            s, name="六盘山镇企业", credit_code=credit_code(4), industry="C", township="六盘山镇"
        )
        far_away = await service.add_enterprise_contact(s, far.id, channel="telegram", address="500")
        await service.subscribe_topics(s, far_away.id, ["business"])

        park = await service.create_hub(s, name="泾源县工业园区", kind="园区", join_code="park-2026")
        park_robot = await service.add_hub_contact(s, park.id, channel="wecom_robot", address="robot-key-1")
        await service.add_hub_member(s, park.id, high_tech.id, via="import")
        await service.add_hub_member(s, park.id, far.id, via="import")
        other = await service.create_hub(s, name="六盘山商会", kind="协会")
        other_robot = await service.add_hub_contact(s, other.id, channel="wecom_robot", address="robot-key-2")
        await service.add_hub_member(s, other.id, far.id)
    return County(
        resident.id, borrower.id, paused.id, blocked.id, owner.id, finance.id, farm.id, undeclared.id,
        far_away.id, park_robot.id, other_robot.id, park.id, high_tech.id,
    )  # fmt: skip


REGIONAL = policy(
    topics=("employment", "business"),
    regions=("xiangshui",),
    industries=("C",),
    eligibility=("high_tech", "graduate"),
)


async def test_regional_policy_reaches_exactly_the_right_people_with_reasons(db: Database, clock: FixedClock) -> None:
    county = await build_county(db)
    async with db.reader() as s:
        recipients = await service.audience(s, REGIONAL)
    got = {r.subscriber_id: r for r in recipients}
    assert set(got) == {county.resident, county.owner, county.finance, county.undeclared, county.park_robot}
    assert got[county.resident].reasons == ("您订阅了“就业创业”", "您属于高校毕业生")
    assert got[county.owner].reasons == ("您订阅了“惠企政策”", "贵企业为高新技术企业", "贵企业属于制造业")
    assert got[county.finance].reasons == ("根据您登记的企业信息推荐", "贵企业为高新技术企业", "贵企业属于制造业")
    assert got[county.undeclared].reasons == (
        "您订阅了“惠企政策”",
        "请核对是否符合条件：高新技术企业",
        "请核对是否符合条件：属于制造业",
    )
    relay = got[county.park_robot]
    assert (relay.role, relay.hub_id, relay.channel, relay.address) == (
        RecipientRole.RELAYER, county.park, "wecom_robot", "robot-key-1",
    )  # fmt: skip
    assert relay.reasons == ("经园区/协会转达：泾源县工业园区有1家会员企业在政策范围内，请转告",)
    assert got[county.resident].preference.frequency == "immediate"
    assert all(r.role == RecipientRole.SUBSCRIBER for r in recipients if r.subscriber_id != county.park_robot)


async def test_keyword_and_county_wide_policy(db: Database, clock: FixedClock) -> None:
    county = await build_county(db)
    tokens = frozenset(get_tokenizer().index_tokens("关于申请创业担保贷款的通知"))
    loan = policy(audience="resident", tokens=tokens)
    async with db.reader() as s:
        recipients = await service.audience(s, loan)
    assert [(r.subscriber_id, r.reasons) for r in recipients] == [(county.borrower, ("您关注的关键词“创业担保贷款”",))]
    # Sub-words alone are not enough: the keyword needs its whole token.
    partial = policy(audience="resident", tokens=frozenset({"创业", "担保"}))
    async with db.reader() as s:
        assert await service.audience(s, partial) == []


async def test_closed_application_window_excludes_everyone(db: Database, clock: FixedClock) -> None:
    await build_county(db)
    closed = policy(topics=("employment", "business"), application_closes=TODAY - datetime.timedelta(days=1))
    still_open = policy(topics=("employment",), application_closes=TODAY)
    async with db.reader() as s:
        assert await service.audience(s, closed) == []
        reached = await service.audience(s, still_open)
        assert [r.reasons[0] for r in reached if r.role == RecipientRole.SUBSCRIBER] == ["您订阅了“就业创业”"]
        report = await service.dry_run(s, closed)
    assert report.recipients == 0
    assert "截止" in report.excluded_because


async def test_hub_members_in_scope(db: Database, clock: FixedClock) -> None:
    county = await build_county(db)
    async with db.reader() as s:
        members = await service.members_in_scope(s, county.park, REGIONAL)
    assert {m.subscriber_id for m in members} == {county.owner, county.finance}
    assert all(m.hub_id == county.park and m.role == "subscriber" for m in members)
    assert members[0].reasons[0] == "经泾源县工业园区转达"


async def test_dry_run_breakdown_and_coverage(db: Database, clock: FixedClock) -> None:
    await build_county(db)
    async with db.reader() as s:
        report = await service.dry_run(s, REGIONAL, sample_size=2)
    assert (report.recipients, report.subscribers, report.relayers) == (5, 5, 1)
    assert report.by_channel == {"telegram": 3, "wechat": 1, "wecom_robot": 1}
    assert report.by_township == {"香水镇": 4, "未填写乡镇": 1}
    assert report.by_reason["订阅主题"] == 3
    assert report.by_reason["画像推荐"] == 1
    assert report.by_reason["需核对条件"] == 1
    assert report.by_reason["园区/协会转达"] == 1
    assert len(report.sample) == 2
    # Described: the high-tech enterprise in 香水镇 and the graduate resident there.
    assert (report.coverage.described, report.coverage.reachable, report.coverage.in_audience) == (2, 2, 2)


async def test_pause_resume_and_unsubscribe(db: Database, clock: FixedClock) -> None:
    county = await build_county(db)
    employment = policy(topics=("employment",), regions=("xiangshui",), audience="resident")
    async with db.session() as s:
        await service.resume(s, county.paused)
    async with db.reader() as s:
        ids = {r.subscriber_id for r in await service.audience(s, employment)}
    assert ids == {county.resident, county.paused}
    async with db.session() as s:
        await service.unsubscribe_topic(s, county.resident, "就业创业")
        await service.unsubscribe_all(s, county.paused)
    async with db.reader() as s:
        assert await service.audience(s, employment) == []


async def test_township_criteria_and_profile_changes_follow_the_index(db: Database, clock: FixedClock) -> None:
    county = await build_county(db)
    far_policy = policy(topics=("employment",), regions=("liupanshan",), audience="resident")
    async with db.session() as s:
        await service.set_townships(s, county.resident, ["香水镇", "六盘山镇"])
    async with db.reader() as s:
        assert [r.subscriber_id for r in await service.audience(s, far_policy)] == [county.resident]
    # The enterprise moves to 六盘山镇: all its contacts follow, through the shared profile.
    business = policy(topics=("business",), regions=("liupanshan",), audience="enterprise")
    async with db.session() as s:
        await service.update_enterprise(s, county.high_tech, township="六盘山镇")
    async with db.reader() as s:
        ids = {r.subscriber_id for r in await service.audience(s, business)}
    assert ids == {county.owner, county.far_away, county.park_robot, county.other_hub_robot}
    async with db.reader() as s:
        await _assert_index_consistent(s)


async def _assert_index_consistent(session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from subscriptions.matching import IndexRow
    from subscriptions.models import Subscriber

    stored = {
        IndexRow(r.key, r.township, r.subscriber_id, r.detail, r.kind, r.audience, r.industry, r.rest)
        for r in (await session.execute(select(MatchKey))).scalars()
    }
    ids = (await session.execute(select(Subscriber.id))).scalars().all()
    assert stored == await store.index_rows_of(session, ids)


async def test_addresses_lifecycle(db: Database, clock: FixedClock) -> None:
    async with db.session() as s:
        first = await service.ensure_subscriber_for_address(s, "telegram", "-100")
        again = await service.ensure_subscriber_for_address(s, "telegram", "-100")
        assert first.id == again.id
        address = await service.find_address(s, "telegram", "-100")
        assert address is not None
        await service.deactivate_address(s, address.id, "blocked")
        gone = await service.get_address(s, address.id)
        assert (gone.active, gone.inactive_reason, gone.inactive_at) == (False, "blocked", clock.now())
        await service.replace_address(s, address.id, "-1009999")
        assert (await service.get_address(s, address.id)).address == "-1009999"
        assert await service.find_address(s, "telegram", "-100") is None
        back = await service.ensure_subscriber_for_address(s, "telegram", "-1009999")
        assert back.id == first.id and back.addresses[0].active


async def test_invite_payload_joins_the_hub(db: Database, clock: FixedClock) -> None:
    county = await build_county(db)
    async with db.session() as s:
        hub = await service.get_hub(s, county.park)
        assert len(hub.invite_payload) <= 64
        assert service.parse_invite_payload(hub.invite_payload) == "park-2026"
        assert service.parse_invite_payload("hub-bad code!") is None
        farm = await service.get_subscriber(s, county.farm)
        joined = await service.join_hub(s, hub.invite_payload, county.farm)
        assert joined.id == county.park
        # A member may belong to several hubs.
        other = await service.create_hub(s, name="农业协会", kind="association")
        await service.join_hub(s, other.join_code, county.farm)
        hubs = await service.hubs_of_enterprise(s, farm.enterprise_id)  # type: ignore[arg-type]
        assert [h.name for h in hubs] == ["泾源县工业园区", "农业协会"]
        members = await service.hub_members(s, county.park)
        assert farm.enterprise_id in {m.id for m in members}


async def test_my_subscriptions_in_plain_chinese(db: Database, clock: FixedClock) -> None:
    county = await build_county(db)
    async with db.session() as s:
        await service.set_preferences(
            s, county.owner, frequency="每日", quiet_hours=(datetime.time(22), datetime.time(7)), daily_cap=5
        )
        await service.add_keywords(s, county.owner, ["技术改造"])
        text = (await service.my_subscriptions(s, county.owner)).text
    assert "您订阅的主题：惠企政策。" in text
    assert "技术改造" in text
    assert "泾源智造有限公司" in text and "高新技术企业" in text
    assert "所属园区/协会：泾源县工业园区。" in text
    assert "每天汇总推送一次" in text and "22:00–07:00" in text and "每天最多推送5条" in text


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: service.save_enterprise(s, name="x", credit_code=credit_code(7)[:-1] + "0"), "credit_code"),
        (lambda s: service.create_resident(s, township="北京"), "township"),
        (lambda s: service.create_resident(s, groups=["高新技术企业"]), "groups"),
    ],
)
async def test_bad_input_names_the_field(db: Database, clock: FixedClock, call, field) -> None:  # type: ignore[no-untyped-def]
    from core.errors import ValidationFailed

    async with db.session() as s:
        with pytest.raises(ValidationFailed) as info:
            await call(s)
    assert info.value.field == field


async def test_unknown_topic_and_duplicate_address(db: Database, clock: FixedClock) -> None:
    from core.errors import Conflict, ValidationFailed

    async with db.session() as s:
        a = await service.create_resident(s, channel="telegram", address="1")
        with pytest.raises(ValidationFailed) as info:
            await service.subscribe_topics(s, a.id, ["火星移民"])
        assert info.value.field == "topic" and "火星移民" in info.value.message
        b = await service.create_resident(s)
        with pytest.raises(Conflict):
            await service.add_address(s, b.id, "telegram", "1")
