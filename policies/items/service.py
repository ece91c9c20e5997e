"""The door to policy items for web, bot, subscriptions and push.

Items of a draft are replaced in place. Changing the items of a published policy is an
amendment: it adds a revision (same text, the change summary saying what changed) and a new
version of the items, so the push pipeline announces it and the old version stays readable."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.errors import Conflict, ValidationFailed
from policies import lifecycle, store
from policies.items import store as item_store
from policies.items.conditions import conditions_from_json
from policies.items.inputs import ItemInput, parse_items
from policies.items.models import ItemPushChoice, PolicyItem
from policies.items.views import ItemView
from policies.models import PolicyHistory, PolicyStatus

__all__ = ["ItemInput", "catalogue_stamp", "includes_may_qualify", "item_revisions", "items_at", "items_of",
           "live_items", "parse_items", "set_include_may_qualify", "set_items"]


def item_view(row: PolicyItem, policy_title: str = "", agency: str = "") -> ItemView:
    return ItemView(
        id=row.id, policy_id=row.policy_id, revision=row.revision, position=row.position, name=row.name,
        benefit=row.benefit, amount_yuan=row.amount_yuan, rate_percent=row.rate_percent, cap_yuan=row.cap_yuan,
        track=row.track, conditions=conditions_from_json(row.conditions or ()), apply_url=row.apply_url,
        apply_place=row.apply_place, materials=row.materials, deadline=row.deadline, phone=row.phone,
        policy_title=policy_title, agency=agency,
    )  # fmt: skip


async def items_of(session: AsyncSession, policy_id: int, revision: int | None = None) -> list[ItemView]:
    """The policy's items at `revision` (default: its current revision), in order."""
    policy = await store.policy_by_id(session, policy_id)
    rows = await item_store.versions_upto(session, policy_id, revision or policy.current_revision)
    return [item_view(r, policy.title, policy.agency) for r in rows]


async def items_at(session: AsyncSession, policy_id: int, revision: int) -> list[ItemView]:
    """The items in force at `revision`, without the policy title ([] when there are none)."""
    return [item_view(r) for r in await item_store.versions_upto(session, policy_id, revision)]


async def item_revisions(session: AsyncSession, policy_id: int) -> list[int]:
    """The policy revisions at which its items changed."""
    return await item_store.item_revisions(session, policy_id)


async def set_items(
    session: AsyncSession, policy_id: int, items: list[ItemInput], actor: str, change_summary: str = ""
) -> list[ItemView]:
    """Replaces the policy's items (a draft) or amends them (a published policy)."""
    policy = await store.policy_for_update(session, policy_id)
    if policy.status == PolicyStatus.DRAFT:
        revision = policy.current_revision
        await item_store.drop_version(session, policy.id, revision)
    elif policy.status == PolicyStatus.PUBLISHED:
        if not change_summary.strip():
            raise ValidationFailed("已发布政策的事项变更是一次修订，请说明改了什么", field="change_summary")
        body = (await store.revision(session, policy.id, policy.current_revision)).body
        policy = await lifecycle.amend(
            session, policy.id, lifecycle.AmendmentInput(body=body, change_summary=change_summary), actor
        )
        revision = policy.current_revision
    else:
        raise Conflict("已提交审核或已失效的政策不能修改事项；审核中的请先退回", field="status")
    at = now()
    for position, item in enumerate(items, start=1):
        session.add(PolicyItem(
            policy_id=policy.id, revision=revision, position=position, name=item.name, benefit=item.benefit,
            amount_yuan=item.amount_yuan, rate_percent=item.rate_percent, cap_yuan=item.cap_yuan, track=item.track,
            conditions=[c.as_json() for c in item.conditions], apply_url=item.apply_url,
            apply_place=item.apply_place, materials=item.materials, deadline=item.deadline, phone=item.phone,
            created_by=actor, created_at=at,
        ))  # fmt: skip
    session.add(PolicyHistory(policy_id=policy.id, action="items", actor=actor, at=at,
                              detail=f"第{revision}版事项：{len(items)}项"))
    await session.flush()
    return await items_of(session, policy.id, revision)


async def live_items(session: AsyncSession) -> list[ItemView]:
    """Every item in force of every published policy."""
    return [item_view(row, title, agency) for row, title, agency in await item_store.live_rows(session)]


async def catalogue_stamp(session: AsyncSession) -> tuple[object, ...]:
    return await item_store.catalogue_stamp(session)


async def includes_may_qualify(session: AsyncSession, policy_id: int) -> bool:
    """Whether the department chose to push to those who may qualify (需核实) too."""
    choice = await session.get(ItemPushChoice, policy_id)
    return bool(choice and choice.include_may_qualify)


async def set_include_may_qualify(session: AsyncSession, policy_id: int, include: bool, actor: str) -> None:
    await store.policy_by_id(session, policy_id)
    choice = await session.get(ItemPushChoice, policy_id)
    if choice is None:
        session.add(ItemPushChoice(policy_id=policy_id, include_may_qualify=include, chosen_by=actor, chosen_at=now()))
    else:
        choice.include_may_qualify, choice.chosen_by, choice.chosen_at = include, actor, now()
