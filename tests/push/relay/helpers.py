"""A county with two hubs whose members overlap, built through the real service functions,
and a delivery worker that sends through the real Telegram adapter to the fake Bot API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from core.db import Database
from policies.views import PolicyView
from push.channels.telegram import TelegramChannel, make_telegram_bot
from push.fanout import FanOut
from push.models import Delivery
from push.ratelimit import LimiterConfig, telegram_limiter
from push.relay import service as relay
from push.render import Renderer
from push.worker import DeliveryWorker
from subscriptions import service as subscriptions
from tests.factories import make_published_policy
from tests.subscriptions.helpers import credit_code

TOKEN = "42:TEST-token_abc"
BASE_URL = "http://policy.test"
SECRET = "relay-test-secret"
AGENCY = "泾源县工业和信息化局"

HUB_A_CHAT, HUB_B_CHAT = 9001, 9002
E1_CHAT, E2_CHAT, E3_CHAT = 1_000_001, 1_000_002, 1_000_003


@dataclass
class County:
    hub_a: int
    hub_b: int
    enterprises: dict[str, int] = field(default_factory=dict)  # "E1" → enterprise id
    hub_addresses: dict[int, int] = field(default_factory=dict)  # hub id → address id


async def make_county(db: Database) -> County:
    """Park A (members E1, E2) and association B (members E2, E3): E2 is in both."""
    async with db.session() as s:
        a = await subscriptions.create_hub(s, name="泾源县工业园区", kind="park")
        b = await subscriptions.create_hub(s, name="泾源县个体私营企业协会", kind="association")
        county = County(a.id, b.id)
        for hub, chat in ((a, HUB_A_CHAT), (b, HUB_B_CHAT)):
            contact = await subscriptions.add_hub_contact(s, hub.id, channel="telegram", address=str(chat),
                                                          display_name="园区联络员王五")
            county.hub_addresses[hub.id] = contact.addresses[0].id
        people = {"E1": ("泾源智造有限公司", E1_CHAT, "张三"), "E2": ("六盘山牧业有限公司", E2_CHAT, "李四"),
                  "E3": ("香水镇商贸有限公司", E3_CHAT, "欧阳小明")}
        for n, (key, (name, chat, person)) in enumerate(people.items(), start=1):
            ent = await subscriptions.save_enterprise(s, name=name, credit_code=credit_code(n))
            await subscriptions.add_enterprise_contact(s, ent.id, channel="telegram", address=str(chat),
                                                       display_name=person)
            county.enterprises[key] = ent.id
        for key in ("E1", "E2"):
            await subscriptions.add_hub_member(s, a.id, county.enterprises[key])
        for key in ("E2", "E3"):
            await subscriptions.add_hub_member(s, b.id, county.enterprises[key])
    return county


async def release(db: Database, **fields: Any) -> PolicyView:
    """Publish an enterprise policy, fan it out and create its relay tasks."""
    values: dict[str, Any] = {"title": "泾源县支持工业企业技术改造若干措施", "agency": AGENCY,
                              "audience": "enterprise", "topics": ["business"]}
    values.update(fields)
    policy = await make_published_policy(db, **values)
    await FanOut(db).run_once()
    await relay.sync_relay_tasks(db)
    return policy


def worker(db: Database, tg: Any, today: date = date(2026, 3, 2)) -> DeliveryWorker:
    limiter = telegram_limiter(LimiterConfig.unlimited().telegram)
    channel = TelegramChannel(make_telegram_bot(TOKEN, tg.base_url), limiter)
    return DeliveryWorker(db, {"telegram": channel}, base_url=BASE_URL, secret=SECRET,
                          renderer=relay.RelayAwareRenderer(db, Renderer(today=lambda: today).render))


async def drain(w: DeliveryWorker) -> None:
    while await w.run_once():
        pass
    await w.channels["telegram"].close()


async def deliveries(db: Database, **where: Any) -> list[Delivery]:
    async with db.reader() as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list((await session.execute(query)).scalars())


async def task_of(db: Database, policy_id: int, hub_id: int) -> relay.RelayTaskView:
    async with db.reader() as session:
        funnel = await relay.relay_funnel(session, policy_id)
    (row,) = [r for r in funnel.hubs if r.task.hub_id == hub_id]
    return row.task
