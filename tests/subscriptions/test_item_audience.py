"""Item-level push precision: contacts whose registered profile meets an item's conditions get
the policy with "您符合…的条件" (免申即享: no application, granted directly); those who may
qualify form a separate group, pushed only once the department includes it."""

from __future__ import annotations

from core.clock import FixedClock
from core.db import Database
from policies import service as policies
from policies.items import service as items
from push.fanout import FanOut
from subscriptions import audience
from subscriptions import service as subscriptions
from tests.bot.helpers import credit_code
from tests.factories import make_published_policy
from tests.fakes.telegram_api import FakeTelegram
from tests.policies.items.helpers import HIGH_TECH_AWARD, STARTUP_GRANT, save_items
from tests.push.relay.helpers import drain, worker


async def _people(db: Database) -> dict[str, int]:
    async with db.session() as session:
        certified = await subscriptions.save_enterprise(
            session, name="六盘山科技有限公司", credit_code=credit_code("91640424MA76AAAAA"), industry="C",
            qualifications=["high_tech"], township="xiangshui")
        undeclared = await subscriptions.save_enterprise(
            session, name="香水镇农产品加工厂", credit_code=credit_code("91640424MA76BBBBB"), industry="C",
            township="xiangshui")
        elsewhere = await subscriptions.save_enterprise(
            session, name="新民镇高新企业", credit_code=credit_code("91640424MA76CCCCC"), industry="C",
            qualifications=["high_tech"], township="xinmin")
        ids = {}
        for key, ent in (("certified", certified), ("undeclared", undeclared), ("elsewhere", elsewhere)):
            contact = await subscriptions.add_enterprise_contact(session, ent.id, channel="telegram",
                                                                 address=str(9000 + ent.id))
            ids[key] = contact.id
        graduate = await subscriptions.create_resident(session, township="xiangshui", groups=["graduate"],
                                                       channel="telegram", address="9100")
        ids["graduate"] = graduate.id
    return ids


async def test_profiles_that_meet_an_item_get_it_with_the_reason(db: Database, clock: FixedClock) -> None:
    people = await _people(db)
    policy = await make_published_policy(db, audience="both")
    await save_items(db, policy.id, [HIGH_TECH_AWARD, STARTUP_GRANT], change_summary="事项清单")
    async with db.reader() as session:
        current = await policies.get_policy(session, policy.id)
        recipients = {r.subscriber_id: r.reasons for r in await audience.audience(session, current)}
        dry = await audience.dry_run(session, current)
    # The 免申即享 award: the certified firm in 香水镇 is told it will be granted without applying.
    assert "您符合“高新技术企业认定奖励”的条件，无需申请，将直接兑现" in recipients[people["certified"]]
    assert people["elsewhere"] not in recipients  # wrong township: not met
    # Qualification undeclared, and a resident whose age is unknown: they only "may qualify".
    assert people["undeclared"] not in recipients and people["graduate"] not in recipients
    assert dry.by_reason == {"符合事项条件": 1} and dry.may_qualify == 2 and not dry.may_qualify_included

    async with db.session() as session:
        await items.set_include_may_qualify(session, policy.id, True, "editor")
    async with db.reader() as session:
        recipients = {r.subscriber_id: r.reasons for r in await audience.audience(session, current)}
        dry = await audience.dry_run(session, current)
    assert recipients[people["undeclared"]] == (
        "您可能符合“高新技术企业认定奖励”的条件（部分条件需核实），请核实后申请",)
    assert "您可能符合“一次性创业补贴”的条件（部分条件需核实），请核实后申请" in recipients[people["graduate"]]
    assert dry.by_reason["可能符合事项条件（需核实）"] == 2 and dry.may_qualify_included


async def test_policies_without_items_reach_the_same_audience_as_before(db: Database, clock: FixedClock) -> None:
    await _people(db)
    policy = await make_published_policy(db, audience="both")
    async with db.reader() as session:
        recipients = await audience.audience(session, await policies.get_policy(session, policy.id))
    assert recipients == []  # nobody subscribed to its topic, and it has no items


async def test_the_pushed_message_says_no_application_is_needed(db: Database, clock: FixedClock,
                                                                fake_telegram: FakeTelegram) -> None:
    people = await _people(db)
    policy = await make_published_policy(db, audience="both")
    await save_items(db, policy.id, [HIGH_TECH_AWARD], change_summary="事项清单")
    await FanOut(db).run_once()
    await drain(worker(db, fake_telegram))
    async with db.reader() as session:
        certified = await subscriptions.get_subscriber(session, people["certified"])
    chat = int(certified.addresses[0].address)
    [message] = fake_telegram.sent_messages(chat)
    assert "您符合“高新技术企业认定奖励”的条件，无需申请，将直接兑现" in message["text"]
    assert fake_telegram.sent_messages(9000 + 2) == []  # undeclared qualification: not pushed by default
