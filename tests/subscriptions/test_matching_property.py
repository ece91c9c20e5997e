"""The indexed matcher agrees with the rule applied contact by contact (brute force)."""

from __future__ import annotations

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import FixedClock
from core.db import Database
from subscriptions import matching, service, store
from tests.conftest import empty_all_tables
from tests.subscriptions.helpers import TODAY, credit_code, policy

TOPICS = ["employment", "business", "tax", "education"]
TOWNS = ["xiangshui", "liupanshan", "dawan"]
KEYWORDS = ["贷款", "补贴", "创业担保贷款"]  # the last one is matched as one whole token
TOKENS = ["贷款", "补贴", "创业", "担保", "创业担保贷款", "通知"]
ENT_TAGS = ["high_tech", "zjtx"]
RES_TAGS = ["graduate", "veteran"]
INDUSTRIES = ["A", "C"]

contact = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["resident", "enterprise", "enterprise", "hub"]),
        "topics": st.sets(st.sampled_from(TOPICS), max_size=2),
        "all_topics": st.booleans(),
        "keywords": st.sets(st.sampled_from(KEYWORDS), max_size=2),
        "home": st.sampled_from(["", *TOWNS]),
        "townships": st.sets(st.sampled_from([*TOWNS, "*"]), max_size=2),
        "audience": st.sampled_from([None, "both", "resident", "enterprise"]),
        "recommend": st.booleans(),
        "tags": st.sets(st.sampled_from(ENT_TAGS + RES_TAGS), max_size=2),
        "industry": st.sampled_from(["", *INDUSTRIES]),
        "size": st.sampled_from(["", "small", "large"]),
        "paused": st.booleans(),
        "active": st.booleans(),
    }
)
policy_args = st.fixed_dictionaries(
    {
        "audience": st.sampled_from(["both", "enterprise", "resident"]),
        "topics": st.sets(st.sampled_from(TOPICS), max_size=2).map(tuple),
        "regions": st.sampled_from([(), ("xiangshui",), ("liupanshan", "dawan"), ("jingyuan",)]),
        "industries": st.sets(st.sampled_from(INDUSTRIES), max_size=1).map(tuple),
        "eligibility": st.sets(st.sampled_from(ENT_TAGS + RES_TAGS), max_size=2).map(tuple),
        "tokens": st.sets(st.sampled_from(TOKENS), max_size=4).map(frozenset),
        "closes": st.sampled_from([None, TODAY, TODAY - datetime.timedelta(days=1)]),
    }
)


async def _create(s, i: int, c: dict) -> int:  # type: ignore[no-untyped-def, type-arg]
    kind = c["kind"]
    if kind == "resident":
        groups = [t for t in c["tags"] if t in RES_TAGS]
        sub = await service.create_resident(s, township=c["home"], groups=groups, channel="telegram", address=f"r{i}")
    elif kind == "enterprise":
        quals = [t for t in c["tags"] if t in ENT_TAGS]
        ent = await service.save_enterprise(
            s, name=f"企业{i}", credit_code=credit_code(i), industry=c["industry"], size=c["size"],
            qualifications=quals, township=c["home"],
        )  # fmt: skip
        sub = await service.add_enterprise_contact(s, ent.id, channel="wechat", address=f"e{i}")
    else:
        hub = await service.create_hub(s, name=f"园区{i}", kind="park", township=c["home"])
        sub = await service.add_hub_contact(s, hub.id, channel="wecom_robot", address=f"h{i}")
    sid = sub.id
    if c["topics"]:
        await service.subscribe_topics(s, sid, sorted(c["topics"]))
    if c["all_topics"]:
        await service.subscribe_all_topics(s, sid)
    if c["keywords"]:
        await service.add_keywords(s, sid, sorted(c["keywords"]))
    if c["townships"]:
        await service.set_townships(s, sid, sorted(c["townships"]))
    if c["audience"]:
        await service.set_audience(s, sid, c["audience"])
    if c["recommend"]:
        await service.set_recommend_by_profile(s, sid, True)
    if c["paused"]:
        await service.pause(s, sid)
    if not c["active"]:
        view = await service.get_subscriber(s, sid)
        await service.deactivate_address(s, view.addresses[0].id, "blocked")
    return sid


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contacts=st.lists(contact, min_size=1, max_size=5), args=policy_args)
async def test_indexed_matcher_equals_brute_force(db: Database, clock: FixedClock, contacts, args) -> None:  # type: ignore[no-untyped-def]
    await empty_all_tables(db)
    p = policy(
        audience=args["audience"], topics=args["topics"], regions=args["regions"],
        industries=args["industries"], eligibility=args["eligibility"], tokens=args["tokens"],
        application_closes=args["closes"],
    )  # fmt: skip
    async with db.session() as s:
        ids = [await _create(s, i + 1, c) for i, c in enumerate(contacts)]
    async with db.reader() as s:
        indexed = await service.match_subscriber_ids(s, p)
        facts = await store.load_facts(s, ids)
        recipients = await service.audience(s, p)
    expected = {sid: h for sid in ids if (h := matching.brute_force(facts[sid], p, TODAY))}
    assert indexed == expected
    # The recipients are exactly the matched contacts that are reachable (plus relayers).
    reachable = {sid for sid, c in zip(ids, contacts, strict=True) if c["active"] and not c["paused"]}
    direct = {r.subscriber_id for r in recipients if r.role == "subscriber"}
    assert direct == set(expected) & reachable
