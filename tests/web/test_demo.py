from __future__ import annotations

from core.clock import FixedClock
from core.db import Database
from policies import service as policies
from subscriptions import service as subscriptions
from web.demo import load_demo


async def test_demo_loads_once_and_its_policies_have_an_audience(db: Database, clock: FixedClock) -> None:
    first = await load_demo(db)
    assert len(first.policies) == 8 and first.faqs == 2 and len(first.hubs) == 2
    assert {a.split("（")[0] for a in first.accounts} == {"admin", "renshe", "shenhe"}

    second = await load_demo(db)
    assert second.policies == [] and second.subscribers == 0 and second.faqs == 0 and second.accounts == []

    async with db.reader() as session:
        views, total = await policies.list_policies(session, statuses=["published"])
        assert total == 8
        startup = next(v for v in views if v.doc_no == "泾人社规发〔2026〕1号")
        recipients = await subscriptions.audience(session, await policies.get_policy(session, startup.id))
    addresses = {r.address for r in recipients}
    # The migrant worker and the graduate subscribed to 就业创业.
    assert {"demo-resident-1", "demo-resident-3"} <= addresses
