"""Item-level audience groups of a policy: contacts whose registered profile meets every
condition of one of the policy's items ("您符合…的条件"), and, kept apart, those who may
qualify because their profile does not settle a condition ("可能符合，请核实"). The second
group is pushed only when the department includes it in the dry run.

A 免申即享 item says so in the reason: nobody has to apply, it will be granted directly.
Profiles are what is registered (`subscriptions.item_profile`); unknown is never taken as met.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today_in_china
from policies.service import item_outcome, items
from policies.views import ConditionKind, ItemView, Outcome, PolicyView, Profile, Track
from subscriptions import matching
from subscriptions.models import Enterprise, Subscriber, SubscriberKind

QUALIFIED_KIND = "item_qualified"
MAY_QUALIFY_KIND = "item_may_qualify"
KIND_LABELS = {QUALIFIED_KIND: "符合事项条件", MAY_QUALIFY_KIND: "可能符合事项条件（需核实）"}


@dataclass
class ItemGroups:
    qualified: dict[int, str] = field(default_factory=dict)  # contact id → reason line
    may_qualify: dict[int, str] = field(default_factory=dict)
    include_may_qualify: bool = False

    def lines(self) -> dict[int, str]:
        """The reason line of every contact the push goes to because of the items."""
        return {**self.may_qualify, **self.qualified} if self.include_may_qualify else dict(self.qualified)


def _names(found: list[ItemView]) -> str:
    return "".join(f"“{i.name}”" for i in found)


def qualified_line(met: list[ItemView]) -> str:
    auto = [i for i in met if i.track == Track.AUTO]
    line = f"您符合{_names(met)}的条件"
    if auto and len(auto) == len(met):
        return line + "，无需申请，将直接兑现"
    if auto:
        return line + f"；其中{_names(auto)}无需申请，将直接兑现"
    return line + "，请按政策说明申请"


def may_qualify_line(unsure: list[ItemView]) -> str:
    return f"您可能符合{_names(unsure)}的条件（部分条件需核实），请核实后申请"


def _standing(profile: Profile, live: list[ItemView], today: object) -> tuple[list[ItemView], list[ItemView]]:
    met, unsure = [], []
    for item in live:
        outcome = item_outcome(item.conditions, profile, today)  # type: ignore[arg-type]
        if outcome == Outcome.MET:
            met.append(item)
        elif outcome == Outcome.UNKNOWN:
            unsure.append(item)
    return met, unsure


def _kinds(live: list[ItemView]) -> tuple[str, ...]:
    """The contact kinds the items can be for: an item without an audience condition is for both."""
    kinds: set[str] = set()
    for item in live:
        audience = next((c.codes for c in item.conditions if c.kind == ConditionKind.AUDIENCE), None)
        kinds |= set(audience) if audience else {SubscriberKind.ENTERPRISE, SubscriberKind.RESIDENT}
    return tuple(sorted(kinds))


async def _profiles(session: AsyncSession, kinds: tuple[str, ...]) -> list[tuple[int, Profile]]:
    """(contact id, registered profile) of every enterprise contact and resident of `kinds`."""
    enterprises = {
        eid: Profile(kind="enterprise", township=town or None, industry=industry or None, size=size or None,
                     qualifications=frozenset(quals or ()) or None)
        for eid, town, industry, size, quals in (await session.execute(
            select(Enterprise.id, Enterprise.township, Enterprise.industry, Enterprise.size,
                   Enterprise.qualifications))).all()
    }  # fmt: skip
    contacts = (await session.execute(
        select(Subscriber.id, Subscriber.kind, Subscriber.enterprise_id, Subscriber.township, Subscriber.groups)
        .where(Subscriber.merged_into.is_(None), Subscriber.kind.in_(kinds)))).all()  # fmt: skip
    out: list[tuple[int, Profile]] = []
    for sid, kind, eid, town, groups in contacts:
        if kind == SubscriberKind.ENTERPRISE and eid in enterprises:
            out.append((sid, enterprises[eid]))
        elif kind == SubscriberKind.RESIDENT:
            out.append((sid, Profile(kind="resident", township=town or None, groups=frozenset(groups or ()) or None)))
    return out


async def item_groups(session: AsyncSession, policy: PolicyView) -> ItemGroups:
    today = today_in_china()
    if matching.window_closed(policy, today):
        return ItemGroups()
    live = [i for i in await items.items_at(session, policy.id, policy.revision)
            if i.deadline is None or i.deadline >= today]  # fmt: skip
    if not live:
        return ItemGroups()
    groups = ItemGroups(include_may_qualify=await items.includes_may_qualify(session, policy.id))
    judged: dict[Profile, tuple[str | None, str | None]] = {}
    for sid, profile in await _profiles(session, _kinds(live)):
        lines = judged.get(profile)
        if lines is None:
            met, unsure = _standing(profile, live, today)
            lines = judged[profile] = (qualified_line(met) if met else None,
                                       may_qualify_line(unsure) if unsure and not met else None)
        if lines[0]:
            groups.qualified[sid] = lines[0]
        elif lines[1]:
            groups.may_qualify[sid] = lines[1]
    return groups
