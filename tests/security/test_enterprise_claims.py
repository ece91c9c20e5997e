"""Enterprise identity: nobody changes or joins a registered enterprise on their own word.

The take-over is tried on all three fronts (web chat API, Telegram through the fake Bot API
and the real aiogram dispatcher, WeChat callback XML) with several payloads; then every
way a claim can be approved, and refused for everyone else."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import httpx
import pytest
from httpx import ASGITransport, AsyncClient

from bot.webchat.identity import COOKIE_NAME, address_of
from core.clock import FixedClock
from core.db import Database
from core.errors import Forbidden, NotFound
from subscriptions import service as subscriptions
from subscriptions.views import EnterpriseView
from tests.bot.helpers import credit_code
from tests.bot.test_telegram import Chat, chat, subscriber_of  # noqa: F401  (chat is a fixture)
from tests.bot.test_webchat import chat_app
from tests.bot.test_wechat import WeChat, wechat  # noqa: F401  (wechat is a fixture)
from tests.web.conftest import bearer, make_token

NAME = "泾源县六盘山农产品有限公司"
CODE = credit_code("91640424MA76ABCDE")
OWNER_OPENID = "o_owner_000000000001"
HR = "泾源县人力资源和社会保障局"
# The same registered code, written the ways a person (or an attacker) would type it.
PAYLOADS = (
    f"{CODE} 冒名顶替科技有限公司",
    f"{CODE.lower()}，假冒商贸有限公司",
    f"新名字农业合作社 {CODE}",
)


@dataclass
class County:
    enterprise: EnterpriseView
    owner_id: int
    park_id: int
    association_id: int
    other_park_id: int


async def registered(db: Database) -> County:
    """A verified enterprise with a verified contact, member of a park and an association."""
    async with db.session() as s:
        ent = await subscriptions.save_enterprise(s, name=NAME, credit_code=CODE, industry="A", size="small",
                                                  qualifications=["高新技术企业"], township="香水镇")
        owner = await subscriptions.add_enterprise_contact(s, ent.id, channel="wechat", address=OWNER_OPENID,
                                                           display_name="王经理")
        park = await subscriptions.create_hub(s, name="泾源县工业园区", kind="park", join_code="park-0001")
        assoc = await subscriptions.create_hub(s, name="泾源县农业协会", kind="association", join_code="assoc-01")
        other = await subscriptions.create_hub(s, name="泾源县物流园区", kind="park", join_code="park-0002")
        await subscriptions.add_hub_member(s, park.id, ent.id)
        await subscriptions.add_hub_member(s, assoc.id, ent.id)
    assert ent.verified
    return County(ent, owner.id, park.id, assoc.id, other.id)


async def assert_not_taken_over(db: Database, county: County, attacker_id: int, replies: list[str]) -> None:
    async with db.reader() as s:
        assert await subscriptions.get_enterprise(s, county.enterprise.id) == county.enterprise
        attacker = await subscriptions.get_subscriber(s, attacker_id)
        assert attacker.enterprise_id is None and attacker.kind != "enterprise"
        assert attacker.topics == ("employment",)  # an ordinary subscriber with what it chose
        pending = await subscriptions.claims_for(s, subscriptions.Approver.department_staff("test"))
        assert attacker_id in [c.subscriber_id for c in pending if c.enterprise_id == county.enterprise.id]
        members = {m.id for m in await subscriptions.hub_members(s, county.park_id)}
        assert members == {county.enterprise.id}
    joined = "\n".join(replies)
    assert "认领申请" in joined
    for secret in (NAME, "香水镇", "工业园区", "农业协会"):  # no enterprise data shown to the claimant
        assert secret not in joined


async def test_web_chat_cannot_take_over_a_registered_enterprise(db: Database) -> None:
    county = await registered(db)
    for payload in PAYLOADS:
        async with AsyncClient(transport=ASGITransport(app=chat_app(db)), base_url="http://test") as c:
            await c.get("/chat")
            replies: list[str] = []

            async def said(path: str, body: dict[str, str] | None = None, c: AsyncClient = c,
                           replies: list[str] = replies) -> None:
                response = await c.post(f"/chat/api/{path}", json=body) if body else await c.post(f"/chat/api/{path}")
                assert response.status_code == 200, response.text
                replies.extend(r["text"] for r in response.json()["replies"])

            await said("start")
            for action in ("who:enterprise", "town:skip", "tp:employment", "tpok", "freq:skip"):
                await said("press", {"action": action})
            assert "统一社会信用代码" in replies[-1]
            del replies[:]  # what the claimant is told from here on
            await said("message", {"text": payload})
            await said("message", {"text": "我的订阅"})
            async with db.reader() as s:
                found = await subscriptions.find_address(s, "web", address_of(c.cookies[COOKIE_NAME]))
            assert found is not None
        await assert_not_taken_over(db, county, found.subscriber_id, replies)


async def test_telegram_cannot_take_over_a_registered_enterprise(chat: Chat, db: Database) -> None:  # noqa: F811
    county = await registered(db)
    for n, payload in enumerate(PAYLOADS):
        tg_chat = 7001 + n
        await chat.say("/start", chat=tg_chat)
        for label in ("企业", "跳过", "就业创业", "完成", "跳过"):
            data, message_id = chat.button(label, chat=tg_chat)
            await chat.press(data, message_id, chat=tg_chat)
        assert "统一社会信用代码" in chat.texts(tg_chat)[-1]
        before = len(chat.texts(tg_chat))
        await chat.say(payload, chat=tg_chat)
        await chat.say("/my", chat=tg_chat)
        attacker = await subscriber_of(db, tg_chat)
        await assert_not_taken_over(db, county, attacker.id, chat.texts(tg_chat)[before:])


async def test_telegram_park_invite_does_not_hand_over_the_members_profile(chat: Chat, db: Database) -> None:  # noqa: F811
    county = await registered(db)
    await chat.say("/start hub-park-0001", chat=7101)  # the park's public invite, then the member's code
    await chat.say(f"{CODE} 泾源县某某公司", chat=7101)
    attacker = await subscriber_of(db, 7101)
    async with db.reader() as s:
        assert await subscriptions.get_enterprise(s, county.enterprise.id) == county.enterprise
        assert (await subscriptions.get_subscriber(s, attacker.id)).enterprise_id is None
    assert not any("已加入" in t for t in chat.texts(7101))


async def test_wechat_cannot_take_over_a_registered_enterprise(wechat: WeChat, db: Database) -> None:  # noqa: F811
    county = await registered(db)
    for n, payload in enumerate(PAYLOADS):
        openid = f"o_attacker_{n:010d}"
        replies = [await wechat.say("设置", openid=openid)]
        for label in ("企业", "跳过", "就业创业", "完成", "跳过"):
            replies.append(await wechat.say(label, openid=openid))
        assert "统一社会信用代码" in replies[-1]
        replies = [await wechat.say(payload, openid=openid), await wechat.say("我的订阅", openid=openid)]
        async with db.reader() as s:
            found = await subscriptions.find_address(s, "wechat", openid)
        assert found is not None
        await assert_not_taken_over(db, county, found.subscriber_id, replies)


async def test_a_new_enterprise_from_chat_is_unverified_and_its_creator_may_edit_it(wechat: WeChat,  # noqa: F811
                                                                                   db: Database) -> None:
    code = credit_code("91640424MA76NEWC8")
    await wechat.say("设置", openid="o_new_0000000001")
    for label in ("企业", "跳过", "完成", "跳过"):
        await wechat.say(label, openid="o_new_0000000001")
    reply = await wechat.say(f"{code} 泾源县新办企业有限公司", openid="o_new_0000000001")
    assert "待部门核实" in reply
    async with db.session() as s:
        found = await subscriptions.find_address(s, "wechat", "o_new_0000000001")
        assert found is not None
        sub = await subscriptions.get_subscriber(s, found.subscriber_id)
        ent = await subscriptions.get_enterprise(s, sub.enterprise_id or 0)
        assert not subscriptions.is_known_to_county(ent) and not await subscriptions.enterprise_is_verified(s, ent.id)
        edited = await subscriptions.update_profile_as_contact(s, sub.id, industry="A")
        assert edited.industry == "A"
        # Staff registering it from the registry makes it known to the county.
        again = await subscriptions.save_enterprise(s, name="泾源县新办企业有限公司", credit_code=code)
        assert again.id == ent.id and subscriptions.is_known_to_county(again)


async def test_verified_profile_changes_only_through_staff_or_a_verified_contact(db: Database) -> None:
    county = await registered(db)
    async with db.session() as s:
        stranger = await subscriptions.create_resident(s, channel="telegram", address="8801")
        outcome = await subscriptions.register_from_chat(s, stranger.id, name="冒名", credit_code=CODE)
        assert outcome.outcome == "claimed" and outcome.enterprise is None
        with pytest.raises(Forbidden):
            await subscriptions.update_profile_as_contact(s, stranger.id, industry="C")
        changed = await subscriptions.update_profile_as_contact(s, county.owner_id, size="medium")
        assert changed.size == "medium"


# --- approving claims --------------------------------------------------------------------


async def _claim(db: Database, address: str) -> tuple[int, int]:
    """(claimant subscriber id, claim id) of a chat user naming the registered enterprise."""
    async with db.session() as s:
        sub = await subscriptions.create_resident(s, display_name="李四", channel="telegram", address=address)
        outcome = await subscriptions.register_from_chat(s, sub.id, name="六盘山农产品", credit_code=CODE)
    assert outcome.claim_id is not None
    return sub.id, outcome.claim_id


async def _contact_of(db: Database, subscriber_id: int) -> tuple[int | None, bool]:
    async with db.reader() as s:
        view = await subscriptions.get_subscriber(s, subscriber_id)
        mine = await subscriptions.my_subscriptions(s, subscriber_id)
    return view.enterprise_id, NAME in "\n".join(mine.lines)


async def test_a_department_editor_approves_and_others_are_refused(db: Database, client: httpx.AsyncClient) -> None:
    county = await registered(db)
    claimant, claim_id = await _claim(db, "8802")
    async with db.session() as s:
        operator_of = {hub: await _hub_token(s, hub) for hub in (county.association_id, county.other_park_id)}
    for token in (await make_token(db, HR, "viewer"), await make_token(db, HR, "reviewer"), *operator_of.values()):
        refused = await client.post(f"/api/enterprise-claims/{claim_id}/approve", headers=bearer(token))
        assert refused.status_code == 403, refused.text
        assert "无权" in refused.json()["error"] or "只有" in refused.json()["error"]
    assert (await client.post(f"/api/enterprise-claims/{claim_id}/approve")).status_code == 401
    assert await _contact_of(db, claimant) == (None, False)

    editor = bearer(await make_token(db, HR, "editor"))
    listed = await client.get("/api/enterprise-claims", headers=editor)
    assert [c["id"] for c in listed.json()] == [claim_id] and listed.json()[0]["status_label"] == "待审核"
    approved = await client.post(f"/api/enterprise-claims/{claim_id}/approve", headers=editor)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert await _contact_of(db, claimant) == (county.enterprise.id, True)
    again = await client.post(f"/api/enterprise-claims/{claim_id}/refuse", headers=editor)
    assert again.status_code == 409


async def _hub_token(session: object, hub_id: int) -> str:
    from web import accounts

    return await accounts.create_token(session, "园区管委会", "hub_operator", hub_id=hub_id)  # type: ignore[arg-type]


async def test_the_operator_of_the_members_park_approves(db: Database, client: httpx.AsyncClient) -> None:
    county = await registered(db)
    claimant, claim_id = await _claim(db, "8803")
    async with db.session() as s:
        park = bearer(await _hub_token(s, county.park_id))
        other = bearer(await _hub_token(s, county.other_park_id))
    assert (await client.get("/api/enterprise-claims", headers=other)).json() == []
    assert [c["id"] for c in (await client.get("/api/enterprise-claims", headers=park)).json()] == [claim_id]
    refused = await client.post(f"/api/enterprise-claims/{claim_id}/refuse", headers=park)
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert await _contact_of(db, claimant) == (None, False)
    claimant2, claim2 = await _claim(db, "8804")
    assert (await client.post(f"/api/enterprise-claims/{claim2}/approve", headers=park)).status_code == 200
    assert await _contact_of(db, claimant2) == (county.enterprise.id, True)


async def test_the_verified_contact_approves_in_the_chat(wechat: WeChat, db: Database) -> None:  # noqa: F811
    county = await registered(db)
    await wechat.say("设置", openid="o_claimant_000001")
    await wechat.say("企业", openid="o_claimant_000001")
    for label in ("跳过", "完成", "跳过"):
        await wechat.say(label, openid="o_claimant_000001")
    assert "认领申请" in await wechat.say(f"{CODE} 六盘山农产品", openid="o_claimant_000001")
    async with db.reader() as s:
        claimant = await subscriptions.find_address(s, "wechat", "o_claimant_000001")
        assert claimant is not None
        (claim,) = await subscriptions.claims_for(s, subscriptions.Approver.department_staff("test"))
    # Neither the claimant nor a bystander may decide it.
    assert "无权" in await wechat.say(f"同意认领 {claim.id}", openid="o_claimant_000001")
    assert "无权" in await wechat.say(f"同意认领 {claim.id}", openid="o_bystander_00001")
    assert "没有待您审核" in await wechat.say("认领申请", openid="o_bystander_00001")
    listing = await wechat.say("认领申请", openid=OWNER_OPENID)
    assert f"编号 {claim.id}" in listing and "王经理" not in listing
    assert "已同意" in await wechat.say(f"同意认领 {claim.id}", openid=OWNER_OPENID)
    assert await _contact_of(db, claimant.subscriber_id) == (county.enterprise.id, True)


async def test_a_one_time_invite_code(db: Database, client: httpx.AsyncClient, clock: FixedClock,
                                      wechat: WeChat) -> None:  # noqa: F811
    county = await registered(db)
    editor = bearer(await make_token(db, HR, "editor"))
    viewer = bearer(await make_token(db, HR, "viewer"))
    url = f"/api/enterprises/{county.enterprise.id}/invites"
    assert (await client.post(url, headers=viewer, json={"days": 3})).status_code == 403
    assert (await client.post(url, headers=editor, json={"days": 999})).status_code == 422
    issued = await client.post(url, headers=editor, json={"days": 3})
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    async with db.session() as s:
        # Stored hashed: the code itself is nowhere in the table.
        from sqlalchemy import text

        stored = (await s.execute(text("SELECT code_hash FROM enterprise_invite"))).scalars().all()
        assert stored and code not in stored[0]
        second = await subscriptions.create_resident(s, channel="telegram", address="8806")
    assert NAME in await wechat.say(f"认领 {code.lower()}", openid="o_invited_0000001")
    async with db.reader() as s:
        first = await subscriptions.find_address(s, "wechat", "o_invited_0000001")
    assert first is not None
    assert "已使用" in await wechat.say(f"认领 {code}", openid="o_invited_0000002")
    async with db.session() as s:
        with pytest.raises(NotFound):
            await subscriptions.redeem_enterprise_invite(s, second.id, code)
    assert await _contact_of(db, first.subscriber_id) == (county.enterprise.id, True)
    assert await _contact_of(db, second.id) == (None, False)
    # An expired code is refused.
    late = (await client.post(url, headers=editor, json={"days": 1})).json()["code"]
    clock.advance(datetime.timedelta(days=1, seconds=1))
    async with db.session() as s:
        with pytest.raises(NotFound):
            await subscriptions.redeem_enterprise_invite(s, second.id, late)


async def test_profile_matching_says_an_unverified_profile_is_unverified(db: Database, clock: FixedClock) -> None:
    from tests.subscriptions.helpers import policy

    async with db.session() as s:
        known = await subscriptions.save_enterprise(s, name="已核实企业", credit_code=credit_code("91640424MA76AAAA1"),
                                                    industry="C", qualifications=["高新技术企业"])
        known_contact = await subscriptions.add_enterprise_contact(s, known.id, channel="telegram", address="9101")
        await subscriptions.set_recommend_by_profile(s, known_contact.id, True)
        typed = await subscriptions.create_resident(s, channel="telegram", address="9102")
        made = await subscriptions.register_from_chat(s, typed.id, name="自报企业", credit_code=credit_code())
        assert made.outcome == "created" and made.enterprise is not None and not made.enterprise.verified
        await subscriptions.update_profile_as_contact(s, typed.id, industry="C", qualifications=["高新技术企业"])
        await subscriptions.set_recommend_by_profile(s, typed.id, True)
    high_tech = policy(industries=("C",), eligibility=("high_tech",), audience="enterprise")
    async with db.reader() as s:
        got = {r.subscriber_id: r.reasons for r in await subscriptions.audience(s, high_tech)}
    assert "根据您登记的企业信息推荐" in got[known_contact.id] and "贵企业为高新技术企业" in got[known_contact.id]
    assert not any("未经核实" in line for line in got[known_contact.id])
    unverified = got[typed.id]
    assert "根据您登记的企业信息推荐（未经核实，请自行核对）" in unverified
    assert "贵企业自报为高新技术企业（未经核实，请自行核对）" in unverified
    assert any(line.startswith("贵企业自报属于") and "未经核实" in line for line in unverified)


async def test_console_claims_page_approves_and_issues_codes(db: Database, client: httpx.AsyncClient) -> None:
    from tests.web.conftest import console_csrf, login, make_user

    county = await registered(db)
    claimant, claim_id = await _claim(db, "8807")
    await make_user(db, "viewer1", "viewer", HR)
    await login(client, "viewer1")
    assert (await client.get("/console/claims")).status_code == 403
    await client.post("/console/logout", data={"csrf_token": await console_csrf(client)})
    client.cookies.clear()
    await make_user(db, "editor1", "editor", HR)
    await login(client, "editor1")
    page = await client.get("/console/claims")
    assert page.status_code == 200 and "六盘山农产品" in page.text
    assert f"/console/claims/{claim_id}/approve" in page.text
    token = await console_csrf(client, "/console/claims")
    assert (await client.post(f"/console/claims/{claim_id}/approve")).status_code == 403  # no CSRF token
    done = await client.post(f"/console/claims/{claim_id}/approve", data={"csrf_token": token})
    assert done.status_code == 303
    assert await _contact_of(db, claimant) == (county.enterprise.id, True)
    issued = await client.post("/console/claims/invites",
                               data={"csrf_token": token, "enterprise_id": str(county.enterprise.id), "days": "5"})
    assert issued.status_code == 201 and "只显示这一次" in issued.text
    shown = issued.text.split('class="code">', 1)[1].split("<", 1)[0]
    assert subscriptions.looks_like_invite(shown)
    assert shown not in (await client.get("/console/claims")).text


async def test_whoever_named_an_enterprise_first_in_a_chat_must_claim_it_once_the_county_verifies_it(
        db: Database) -> None:
    """A squatter who types a real enterprise's code before the county registers it does not
    keep acting for it once staff register it: it becomes a claimant like everybody else."""
    code = credit_code("91640424MA76QQQQ1")
    async with db.session() as s:
        squatter = await subscriptions.create_resident(s, channel="telegram", address="8810")
        made = await subscriptions.register_from_chat(s, squatter.id, name="抢先登记的名字", credit_code=code)
        assert made.outcome == "created" and made.enterprise is not None
        assert (await subscriptions.get_subscriber(s, squatter.id)).enterprise_id == made.enterprise.id
    async with db.session() as s:
        real = await subscriptions.save_enterprise(s, name="泾源县真实企业有限公司", credit_code=code, industry="C")
    assert real.id == made.enterprise.id and real.verified and real.name == "泾源县真实企业有限公司"
    assert await _contact_of(db, squatter.id) == (None, False)
    async with db.reader() as s:
        (claim,) = await subscriptions.claims_for(s, subscriptions.Approver.department_staff("test"))
    assert claim.subscriber_id == squatter.id and claim.enterprise_id == real.id
    async with db.session() as s:  # saving it again changes nothing more
        await subscriptions.save_enterprise(s, name="泾源县真实企业有限公司", credit_code=code, industry="C")
        assert len(await subscriptions.claims_for(s, subscriptions.Approver.department_staff("test"))) == 1
