"""Items stored with the policy: replaced in a draft, versioned by amendment once published,
checked against the vocabulary and the personal-data guard before anything is written."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from core.db import Database
from core.errors import Conflict, ValidationFailed
from policies import service as policies
from policies.items import service as items
from tests.factories import make_draft, make_published_policy
from tests.policies.items.helpers import HIGH_TECH_AWARD, STARTUP_GRANT, save_items


async def test_draft_items_are_replaced_and_read_back(db: Database, clock: FixedClock) -> None:
    draft = await make_draft(db)
    await save_items(db, draft.id, [STARTUP_GRANT])
    saved = await save_items(db, draft.id, [STARTUP_GRANT, HIGH_TECH_AWARD])
    assert [i.name for i in saved] == ["一次性创业补贴", "高新技术企业认定奖励"]
    grant = saved[0]
    assert grant.amount_text == "5000元" and grant.track_label == "申请办理"
    assert [c.describe() for c in grant.conditions] == [
        "面向对象：个人", "年龄：16至45周岁", "人员类别：高校毕业生或农民工", "正常经营6个月以上"]
    async with db.reader() as session:
        assert len(await items.items_of(session, draft.id)) == 2


async def test_changing_items_of_a_published_policy_is_an_amendment(db: Database, clock: FixedClock) -> None:
    published = await make_published_policy(db)
    await save_items(db, published.id, [STARTUP_GRANT], change_summary="补充事项清单")
    raised = {**STARTUP_GRANT, "amount_yuan": 6000, "benefit": "每户一次性补贴6000元"}
    with pytest.raises(ValidationFailed):
        await save_items(db, published.id, [raised])  # no change summary
    await save_items(db, published.id, [raised], change_summary="补贴提高到6000元")
    async with db.reader() as session:
        current = await items.items_of(session, published.id)
        first = await items.items_of(session, published.id, revision=2)
        policy = await policies.get_policy(session, published.id)
        kinds = [e.kind for e in await policies.events_after(session, 0)]
        assert await items.item_revisions(session, published.id) == [2, 3]
        live = await items.live_items(session)
    assert policy.revision == 3 and kinds == ["published", "amended", "amended"]
    assert current[0].amount_yuan == 6000 and first[0].amount_yuan == 5000
    assert [i.amount_yuan for i in live] == [6000]  # only the version in force is live


async def test_bad_items_are_refused_naming_each_field(db: Database, clock: FixedClock) -> None:
    draft = await make_draft(db)
    bad = {
        "name": "",
        "track": "auto",
        "amount_yuan": -5,
        "phone": "13912345678",
        "conditions": [{"kind": "industry", "codes": ["Z"]}, {"kind": "age", "low": 60, "high": 18},
                       {"kind": "text", "text": "须经审核"}, {"kind": "eval", "codes": ["x"]}],
    }
    with pytest.raises(ValidationFailed) as caught:
        await save_items(db, draft.id, [bad])
    fields = {d["field"] for d in caught.value.details}  # type: ignore[union-attr]
    assert {"items[0].name", "items[0].track", "items[0].amount_yuan", "items[0].phone",
            "items[0].conditions[0]", "items[0].conditions[1]", "items[0].conditions[3]"} <= fields
    assert "免申即享" in caught.value.message and "手机号" in caught.value.message
    async with db.reader() as session:
        assert await items.items_of(session, draft.id) == []


async def test_items_of_a_policy_under_review_cannot_change(db: Database, clock: FixedClock) -> None:
    draft = await make_draft(db)
    async with db.session() as session:
        await policies.submit(session, draft.id, "editor")
    with pytest.raises(Conflict):
        await save_items(db, draft.id, [STARTUP_GRANT])
