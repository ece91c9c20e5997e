"""Hubs (parks and associations): their operators, member enterprises and invites."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subscriptions import contact_store, hub_store
from subscriptions import validation as valid
from subscriptions.contacts import attach_address, new_subscriber
from subscriptions.lookups import enterprise_row, enterprise_view, get_subscriber, hub_row, hub_view, subscriber_row
from subscriptions.models import Hub, HubMember, SubscriberKind
from subscriptions.views import EnterpriseView, HubView, SubscriberView

INVITE_PREFIX = "hub-"


async def create_hub(
    session: AsyncSession, *, name: str, kind: str, township: str = "", join_code: str | None = None
) -> HubView:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("园区或协会名称不能为空。", field="name")
    if await hub_store.hub_by_name(session, name) is not None:
        raise Conflict(f"“{name}”已登记。", field="name")
    code = valid.join_code(join_code) if join_code else secrets.token_urlsafe(9)
    if await hub_store.hub_by_join_code(session, code) is not None:
        raise Conflict("这个邀请码已被使用。", field="join_code")
    hub = Hub(
        name=name[:200], kind=valid.hub_kind(kind), township=valid.township(township), join_code=code, created_at=now()
    )
    session.add(hub)
    await session.flush()
    return hub_view(hub)


async def add_hub_contact(
    session: AsyncSession, hub_id: int, *, channel: str, address: str, display_name: str = ""
) -> SubscriberView:
    """An operator of the hub (or its WeCom group robot) who receives policies to relay."""
    hub = await hub_row(session, hub_id)
    existing = await contact_store.address_by_channel(session, valid.channel(channel), valid.address(address))
    if existing is not None:
        owner = await subscriber_row(session, existing.subscriber_id)
        if owner.hub_id != hub.id:
            raise Conflict("这个渠道地址已登记在另一位订阅者名下。", field="address")
        return await get_subscriber(session, owner.id)
    sub = new_subscriber(SubscriberKind.HUB, display_name or hub.name, hub_id=hub.id, township=hub.township)
    session.add(sub)
    await session.flush()
    await attach_address(session, sub, channel, address)
    return await get_subscriber(session, sub.id)


async def add_hub_member(session: AsyncSession, hub_id: int, enterprise_id: int, *, via: str = "console") -> bool:
    """Add a member enterprise; False when it already was one."""
    await hub_row(session, hub_id)
    await enterprise_row(session, enterprise_id)
    if await session.get(HubMember, (hub_id, enterprise_id)) is not None:
        return False
    session.add(HubMember(hub_id=hub_id, enterprise_id=enterprise_id, via=via, joined_at=now()))
    await session.flush()
    return True


async def remove_hub_member(session: AsyncSession, hub_id: int, enterprise_id: int) -> None:
    await hub_store.remove_member(session, hub_id, enterprise_id)


def parse_invite_payload(payload: str) -> str | None:
    """The join code in a deep-link payload `hub-<code>` (≤ 64 chars, [A-Za-z0-9_-]), or None."""
    text = (payload or "").strip()
    if len(text) > 64 or not text.startswith(INVITE_PREFIX):
        return None
    code = text[len(INVITE_PREFIX) :]
    return code if valid.JOIN_CODE.match(code) else None


async def find_hub_by_invite(session: AsyncSession, payload_or_code: str) -> HubView | None:
    code = parse_invite_payload(payload_or_code) or payload_or_code.strip()
    hub = await hub_store.hub_by_join_code(session, code)
    return hub_view(hub) if hub else None


async def join_hub(session: AsyncSession, payload_or_code: str, subscriber_id: int) -> HubView:
    """The contact's enterprise joins the hub whose invite it followed (idempotent)."""
    hub = await find_hub_by_invite(session, payload_or_code)
    if hub is None:
        raise NotFound("邀请码无效或已过期，请向园区或协会重新索取。", field="join_code")
    sub = await subscriber_row(session, subscriber_id)
    if sub.enterprise_id is None:
        raise ValidationFailed(
            "请先登记企业信息（企业名称和统一社会信用代码），再加入园区或协会。", field="enterprise_id"
        )
    ent = await enterprise_row(session, sub.enterprise_id)
    if ent.verified and not sub.contact_verified:
        raise Forbidden("只有企业已认证联系人可以代表企业加入园区或协会。", field="subscriber_id")
    await add_hub_member(session, hub.id, sub.enterprise_id, via="invite")
    return hub


async def hub_members(session: AsyncSession, hub_id: int) -> list[EnterpriseView]:
    await hub_row(session, hub_id)
    return [enterprise_view(e) for e in await hub_store.member_enterprises(session, hub_id)]


async def hubs_of_enterprise(session: AsyncSession, enterprise_id: int) -> list[HubView]:
    return [hub_view(h) for h in await hub_store.hubs_of_enterprise(session, enterprise_id)]
