"""What relay tracking needs from `subscriptions`, through its service functions only.

`subscriptions.service` has no "hubs in scope" or "a hub's contacts" query yet, so both are
derived from `audience()`: its relayers are the hubs with members in scope, with their active,
unpaused addresses. A hub without such an address is therefore invisible at release (it is
flagged later, when a reminder finds no address). Should `subscriptions` grow those queries,
this module is the one place to change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from policies.views import PolicyView
from subscriptions import service as subscriptions
from subscriptions.views import Recipient, RecipientRole


async def relayer_addresses(session: AsyncSession, policy: PolicyView) -> dict[int, list[Recipient]]:
    """Hub id → the hub's active contact addresses, for every hub with members in scope."""
    by_hub: dict[int, list[Recipient]] = defaultdict(list)
    for recipient in await subscriptions.audience(session, policy):
        if recipient.role == RecipientRole.RELAYER and recipient.hub_id is not None:
            by_hub[recipient.hub_id].append(recipient)
    return dict(by_hub)


@dataclass(frozen=True)
class MemberContact:
    """A member contact in scope, with the names a ledger shows."""

    recipient: Recipient
    enterprise_id: int | None
    enterprise_name: str
    credit_code: str
    contact_name: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.recipient.subscriber_id, self.recipient.address_id)


async def member_contacts(session: AsyncSession, hub_id: int, policy: PolicyView) -> list[MemberContact]:
    """The hub's member contacts the policy is for, reachable now (active address, not paused)."""
    recipients = await subscriptions.members_in_scope(session, hub_id, policy)
    enterprises: dict[int, tuple[str, str]] = {}
    contacts: list[MemberContact] = []
    for r in recipients:
        subscriber = await subscriptions.get_subscriber(session, r.subscriber_id)
        eid = subscriber.enterprise_id
        if eid is not None and eid not in enterprises:
            ent = await subscriptions.get_enterprise(session, eid)
            enterprises[eid] = (ent.name, ent.credit_code or "")
        name, code = enterprises.get(eid, ("", "")) if eid is not None else ("", "")
        contacts.append(MemberContact(r, eid, name, code, subscriber.display_name))
    return contacts


async def current_member_ids(session: AsyncSession, hub_id: int) -> set[int]:
    """Enterprise ids that are members of the hub now."""
    return {e.id for e in await subscriptions.hub_members(session, hub_id)}
