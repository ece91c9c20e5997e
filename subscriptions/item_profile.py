"""A subscriber's registered profile as the calculator's `Profile`.

Only what is registered is known: an enterprise's industry, size, qualifications and township;
a resident's township and person groups. An empty list is "not declared", so it stays unknown
(需核实) rather than "holds none"."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from policies.views import Profile
from subscriptions.lookups import get_enterprise
from subscriptions.models import SubscriberKind
from subscriptions.views import EnterpriseView, SubscriberView


def enterprise_profile(enterprise: EnterpriseView) -> Profile:
    return Profile(
        kind="enterprise",
        township=enterprise.township or None,
        industry=enterprise.industry or None,
        size=enterprise.size or None,
        qualifications=frozenset(enterprise.qualifications) or None,
    )


def resident_profile(subscriber: SubscriberView) -> Profile:
    return Profile(kind="resident", township=subscriber.township or None, groups=frozenset(subscriber.groups) or None)


async def registered_profile(session: AsyncSession, subscriber: SubscriberView) -> Profile | None:
    """The profile the subscriber registered, or None when there is nothing to go on."""
    if subscriber.kind == SubscriberKind.ENTERPRISE and subscriber.enterprise_id is not None:
        return enterprise_profile(await get_enterprise(session, subscriber.enterprise_id))
    if subscriber.kind == SubscriberKind.RESIDENT and (subscriber.township or subscriber.groups):
        return resident_profile(subscriber)
    return None
