"""The demo data set comes with items, so the calculator answers something on a fresh install."""

from __future__ import annotations

from core.clock import FixedClock
from core.db import Database
from policies.items.catalogue_cache import CatalogueCache
from policies.items.profile import Profile
from web.demo import load_demo


async def test_demo_items_answer_the_calculator(db: Database, clock: FixedClock) -> None:
    await load_demo(db)
    async with db.reader() as session:
        catalogue = await CatalogueCache().current(session)
    assert catalogue.size == 8
    elder = catalogue.calculate(Profile(kind="resident", age=85, hukou_local=True), clock.now().date())
    assert [a.item.name for a in elder.qualified] == ["高龄老人津贴（80至89周岁）"]
    firm = catalogue.calculate(Profile(kind="enterprise", size="small", qualifications=frozenset({"high_tech"})),
                               clock.now().date())
    assert [a.item.name for a in firm.qualified] == ["同时认定高新技术企业奖励", "失业保险稳岗返还"]
