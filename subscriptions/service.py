"""The door to the subscriptions package: subscribers, criteria, preferences, addresses,
hubs, and who gets a policy (`audience`, `members_in_scope`, `dry_run`).

Every function takes an open session (a unit of work) and leaves committing to the caller.
Inputs in codes or Chinese names are accepted; bad input raises `ValidationFailed` with a
Chinese message naming the field. Every change to what a contact matches goes through
`store.keeping_index`, so the match index never lags the tables.

This module only names what other packages may call; the work is done in `contacts`,
`criteria`, `hubs`, `merging`, `claims`, `audience` and their store modules.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from subscriptions import store
from subscriptions.audience import (
    audience,
    audience_chunks,
    audience_groups,
    dry_run,
    match_subscriber_ids,
    members_in_scope,
    reachable_addresses_sql,
)
from subscriptions.claims import (
    INVITE_DEFAULT_DAYS,
    INVITE_MAX_DAYS,
    Approver,
    ChatRegistration,
    ClaimView,
    IssuedInvite,
    claims_for,
    decide_claim,
    get_claim,
    is_known_to_county,
    looks_like_invite,
    register_from_chat,
    update_profile_as_contact,
)
from subscriptions.claims import issue_invite as issue_enterprise_invite
from subscriptions.claims import redeem_invite as redeem_enterprise_invite
from subscriptions.contacts import (
    add_address,
    add_enterprise_contact,
    attach_to_enterprise,
    create_resident,
    deactivate_address,
    ensure_subscriber_for_address,
    replace_address,
    save_enterprise,
    set_resident_profile,
    update_enterprise,
)
from subscriptions.criteria import (
    add_keywords,
    my_subscriptions,
    pause,
    remove_keyword,
    resume,
    set_audience,
    set_preferences,
    set_recommend_by_profile,
    set_townships,
    subscribe_all_topics,
    subscribe_topics,
    unsubscribe_all,
    unsubscribe_topic,
)
from subscriptions.hubs import (
    add_hub_contact,
    add_hub_member,
    create_hub,
    find_hub_by_invite,
    hub_members,
    hubs_of_enterprise,
    join_hub,
    parse_invite_payload,
    remove_hub_member,
)
from subscriptions.importer import import_subscribers
from subscriptions.item_profile import registered_profile
from subscriptions.item_roster.service import record as record_item_status
from subscriptions.item_roster.service import roster as item_roster
from subscriptions.item_roster.service import roster_csv as item_roster_csv
from subscriptions.lookups import (
    enterprise_is_verified,
    find_address,
    get_address,
    get_enterprise,
    get_hub,
    get_subscriber,
)
from subscriptions.match_index import live as match_index
from subscriptions.merging import merge_subscribers
from subscriptions.views import (
    AddressView,
    AudienceSlice,
    ChannelName,
    DeliveryPreference,
    DryRun,
    EnterpriseView,
    HubView,
    ImportReport,
    InactiveReason,
    MySubscriptions,
    Recipient,
    RecipientGroup,
    RecipientRole,
    SubscriberKind,
    SubscriberView,
)

__all__ = [
    "INVITE_DEFAULT_DAYS",
    "INVITE_MAX_DAYS",
    "AddressView",
    "Approver",
    "AudienceSlice",
    "ChannelName",
    "ChatRegistration",
    "ClaimView",
    "DeliveryPreference",
    "DryRun",
    "EnterpriseView",
    "HubView",
    "ImportReport",
    "InactiveReason",
    "IssuedInvite",
    "MySubscriptions",
    "Recipient",
    "RecipientGroup",
    "RecipientRole",
    "SubscriberKind",
    "SubscriberView",
    "add_address",
    "add_enterprise_contact",
    "add_hub_contact",
    "add_hub_member",
    "add_keywords",
    "attach_to_enterprise",
    "audience",
    "audience_chunks",
    "audience_groups",
    "claims_for",
    "create_hub",
    "create_resident",
    "deactivate_address",
    "decide_claim",
    "dry_run",
    "ensure_subscriber_for_address",
    "enterprise_is_verified",
    "find_address",
    "find_hub_by_invite",
    "get_address",
    "get_claim",
    "get_enterprise",
    "get_hub",
    "get_subscriber",
    "hub_members",
    "hubs_of_enterprise",
    "import_subscribers",
    "is_known_to_county",
    "issue_enterprise_invite",
    "item_roster",
    "item_roster_csv",
    "join_hub",
    "looks_like_invite",
    "match_subscriber_ids",
    "members_in_scope",
    "merge_subscribers",
    "my_subscriptions",
    "parse_invite_payload",
    "pause",
    "reachable_addresses_sql",
    "rebuild_match_index",
    "record_item_status",
    "redeem_enterprise_invite",
    "register_from_chat",
    "registered_profile",
    "remove_hub_member",
    "remove_keyword",
    "replace_address",
    "resume",
    "save_enterprise",
    "set_audience",
    "set_preferences",
    "set_recommend_by_profile",
    "set_resident_profile",
    "set_townships",
    "subscribe_all_topics",
    "subscribe_topics",
    "unsubscribe_all",
    "unsubscribe_topic",
    "update_enterprise",
    "update_profile_as_contact",
    "warm_up_match_index",
]


async def rebuild_match_index(session: AsyncSession) -> int:
    """Rewrite the match index from the tables; returns the number of index rows."""
    return await store.rebuild_index(session)


async def warm_up_match_index(db: Database) -> float:
    """Build this process's in-memory match index now; returns the seconds it took.

    Call once at start-up in every process that publishes or fans out, so that the first
    match after start-up does not wait for the build (seconds at 1M contacts)."""
    return (await match_index.warm_up(db)).build_seconds
