"""Who sees what: drafts (one rule, every role), subscribers' names and chat addresses,
hub invite codes."""

from __future__ import annotations

import httpx

from core.db import Database
from subscriptions import service as subscriptions
from tests.bot.helpers import credit_code
from tests.factories import make_draft
from tests.security.roles import ACTORS, HR, PASSWORD, cast
from tests.web.conftest import bearer, csrf_of
from web.accounts import Principal
from web.auth import may_see_unreleased

SEES_DRAFTS = {"admin": True, "editor_own": True, "editor_other": False, "reviewer": True, "hub_operator": False,
               "viewer": False}


async def _console_login(client: httpx.AsyncClient, username: str) -> None:
    client.cookies.clear()
    page = await client.get("/console/login")
    done = await client.post("/console/login", data={"username": username, "password": PASSWORD,
                                                     "csrf_token": csrf_of(page.text), "next": "/console/policies"})
    assert done.status_code == 303, done.text


async def test_drafts_are_seen_by_their_department_reviewers_and_admins_only(db: Database,
                                                                              client: httpx.AsyncClient) -> None:
    assert {a.name for a in ACTORS} == set(SEES_DRAFTS)
    people = await cast(db, console=True)
    draft = await make_draft(db, author="editor_own", title="关于草稿可见范围的测试通知", agency=HR)
    for actor in ACTORS:
        sees = SEES_DRAFTS[actor.name]
        principal = Principal(actor=actor.name, role=actor.role, agency=actor.agency,
                              hub_id=people.park_id if actor.own_hub else None)
        assert may_see_unreleased(principal, HR) is sees, actor
        api = bearer(people.tokens[actor.name])
        detail = await client.get(f"/api/policies/{draft.id}", headers=api)
        assert detail.status_code == (200 if sees else 403), (actor, detail.text)
        listed = await client.get("/api/policies", params={"status": "draft", "agency": HR}, headers=api)
        assert listed.status_code == 200
        assert (draft.id in [p["id"] for p in listed.json()["items"]]) is sees, actor
        assert listed.json()["total"] == len(listed.json()["items"])
        reach = await client.get(f"/api/policies/{draft.id}/reach", headers=api)
        assert reach.status_code == 200 if sees and actor.name != "editor_other" else reach.status_code == 403
        await _console_login(client, actor.name)
        page = await client.get(f"/console/policies/{draft.id}")
        assert page.status_code == (200 if sees else 403), actor
        listing = await client.get("/console/policies", params={"agency": HR})
        assert (draft.title in listing.text) is sees, actor


async def _contacts(db: Database, park_id: int) -> tuple[int, int, int]:
    """(a resident, a contact of the park's member enterprise, a contact of another enterprise)."""
    async with db.session() as s:
        resident = await subscriptions.create_resident(s, display_name="马小红", channel="telegram",
                                                       address="500012345")
        member = await subscriptions.save_enterprise(s, name="园区会员企业", credit_code=credit_code())
        await subscriptions.add_hub_member(s, park_id, member.id)
        member_contact = await subscriptions.add_enterprise_contact(s, member.id, channel="wechat",
                                                                    address="o_member_openid_01", display_name="李会员")
        outsider = await subscriptions.save_enterprise(s, name="园区外企业",
                                                       credit_code=credit_code("91640424MA76XYAB1"))
        outsider_contact = await subscriptions.add_enterprise_contact(
            s, outsider.id, channel="wechat", address="o_outsider_0000001", display_name="赵外人")
    return resident.id, member_contact.id, outsider_contact.id


# (status, names and addresses shown in full) per actor and contact
CONTACT_RULES = {
    "admin": {"resident": (200, True), "member": (200, True), "outsider": (200, True)},
    "editor_own": {"resident": (200, False), "member": (200, False), "outsider": (200, False)},
    "editor_other": {"resident": (200, False), "member": (200, False), "outsider": (200, False)},
    "viewer": {"resident": (200, False), "member": (200, False), "outsider": (200, False)},
    "reviewer": {"resident": (403, False), "member": (403, False), "outsider": (403, False)},
    "hub_operator": {"resident": (403, False), "member": (200, True), "outsider": (403, False)},
}
PLAIN = {"resident": ("马小红", "500012345"), "member": ("李会员", "o_member_openid_01"),
         "outsider": ("赵外人", "o_outsider_0000001")}


async def test_names_and_chat_addresses_only_to_admins_and_the_members_hub(db: Database,
                                                                           client: httpx.AsyncClient) -> None:
    people = await cast(db)
    ids = dict(zip(("resident", "member", "outsider"), await _contacts(db, people.park_id), strict=True))
    for actor in ACTORS:
        for who, subscriber_id in ids.items():
            status, full = CONTACT_RULES[actor.name][who]
            got = await client.get(f"/api/subscribers/{subscriber_id}", headers=bearer(people.tokens[actor.name]))
            assert got.status_code == status, (actor.name, who, got.text)
            if status != 200:
                continue
            body = got.json()
            name, address = PLAIN[who]
            assert (body["display_name"] == name) is full, (actor.name, who)
            assert (body["addresses"][0]["address"] == address) is full, (actor.name, who)
            assert body["contacts_masked"] is not full
            if not full:
                assert name not in got.text and address not in got.text
                assert body["display_name"].startswith(name[0]) and "****" in body["addresses"][0]["address"]


async def test_hub_invite_codes_only_to_admins_and_that_hubs_operators(db: Database,
                                                                        client: httpx.AsyncClient) -> None:
    people = await cast(db)
    for actor in ACTORS:
        headers = bearer(people.tokens[actor.name])
        own = await client.get(f"/api/hubs/{people.park_id}", headers=headers)
        assert own.status_code == 200
        assert (own.json()["invite_payload"] == "hub-park-cast1") is (actor.role in ("admin", "hub_operator"))
        other = await client.get(f"/api/hubs/{people.other_hub_id}", headers=headers)
        if actor.role == "hub_operator":
            assert other.status_code == 403
        else:
            assert other.status_code == 200
            assert (other.json()["invite_payload"] is not None) is (actor.role == "admin")
            assert "assoc-cast" not in other.text or actor.role == "admin"
