"""Read models other packages receive from `subscriptions.service` (never ORM rows)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from policies.views import Outcome
from subscriptions.item_roster.models import STATUS_LABELS
from subscriptions.models import InactiveReason, SubscriberKind
from vocabulary.codes import ChannelName

__all__ = [
    "AddressView",
    "AudienceSlice",
    "ChannelName",
    "Coverage",
    "DeliveryPreference",
    "DryRun",
    "EnterpriseView",
    "HubView",
    "ImportReport",
    "InactiveReason",
    "MySubscriptions",
    "Recipient",
    "RecipientGroup",
    "RecipientRole",
    "RosterEntry",
    "RowError",
    "SubscriberKind",
    "SubscriberView",
]


class RecipientRole:
    SUBSCRIBER = "subscriber"
    RELAYER = "relayer"  # a hub operator who should pass the policy on to its members


@dataclass(frozen=True)
class DeliveryPreference:
    frequency: str  # "immediate" | "daily" | "weekly"
    quiet_start: datetime.time | None  # local Asia/Shanghai time
    quiet_end: datetime.time | None
    daily_cap: int | None  # None = no cap
    paused: bool


@dataclass(frozen=True)
class Recipient:
    subscriber_id: int
    address_id: int
    channel: str
    address: str  # telegram chat id as string, wechat openid, wecom robot webhook key, web inbox key
    reasons: tuple[str, ...]  # plain Chinese, e.g. 您订阅了“就业创业”
    role: str  # RecipientRole
    preference: DeliveryPreference
    hub_id: int | None = None  # the hub relaying (role "relayer") or relayed through (members_in_scope)


@dataclass(frozen=True)
class RecipientGroup:
    """Contacts who get a policy for the same reasons, with the same role and preference.

    Their active addresses are not listed: a caller inserts one row per address with
    `reachable_addresses_sql` and these ids, in one statement, instead of reading them."""

    reasons: tuple[str, ...]
    role: str  # RecipientRole
    preference: DeliveryPreference
    hub_id: int | None
    subscriber_ids: tuple[int, ...]  # ascending, not paused


@dataclass(frozen=True)
class AudienceSlice:
    """The recipients among a range of matched contact ids, as groups. Every contact with an id
    up to `last_subscriber_id` is in this slice or an earlier one (a slice may have no groups)."""

    last_subscriber_id: int
    groups: tuple[RecipientGroup, ...]


@dataclass(frozen=True)
class AddressView:
    id: int
    subscriber_id: int
    channel: str
    address: str
    active: bool
    inactive_reason: str
    inactive_at: datetime.datetime | None


@dataclass(frozen=True)
class EnterpriseView:
    id: int
    name: str
    credit_code: str | None
    industry: str
    size: str
    qualifications: tuple[str, ...]
    township: str
    # False: first named in a chat, profile unconfirmed (see `service.is_known_to_county`).
    verified: bool = True


@dataclass(frozen=True)
class HubView:
    id: int
    name: str
    kind: str  # "park" | "association"
    township: str
    join_code: str

    @property
    def invite_payload(self) -> str:
        """The Telegram deep-link payload (`/start <payload>`) that joins this hub."""
        return f"hub-{self.join_code}"


@dataclass(frozen=True)
class SubscriberView:
    id: int
    kind: str  # "resident" | "enterprise" | "hub"
    display_name: str
    enterprise_id: int | None
    hub_id: int | None
    township: str  # the home township (the enterprise's for an enterprise contact); "" = none
    groups: tuple[str, ...]
    audience: str  # which policy audiences the contact wants
    all_topics: bool
    recommend_by_profile: bool
    topics: tuple[str, ...]
    keywords: tuple[str, ...]
    townships: tuple[str, ...]  # explicit township criteria; () = the home township
    preference: DeliveryPreference
    addresses: tuple[AddressView, ...] = ()
    merged_into: int | None = None  # the contact this one was merged into (it is empty since)


@dataclass(frozen=True)
class MySubscriptions:
    """What a contact is subscribed to, in words a resident understands."""

    subscriber_id: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Coverage:
    """Of the registered profiles a policy describes, how many can be reached at all."""

    described: int  # enterprises and residents whose profile fits the policy's conditions
    reachable: int  # of those, with an active address on a contact that is not paused
    in_audience: int  # of those, in this policy's audience


@dataclass(frozen=True)
class DryRun:
    recipients: int  # (contact, address) pairs
    subscribers: int  # distinct contacts
    relayers: int  # hub contacts asked to relay
    by_reason: dict[str, int]  # reason kind (Chinese label) → contacts
    by_channel: dict[str, int]
    by_township: dict[str, int]  # township name ("未填写乡镇" when none) → contacts
    sample: tuple[Recipient, ...]
    coverage: Coverage
    excluded_because: str = ""  # a hard exclusion that empties the audience, e.g. 申报已截止
    may_qualify: int = 0  # contacts who may qualify for an item (需核实), pushed only when included
    may_qualify_included: bool = False


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line of the file, the header being row 1
    field: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class RosterEntry:
    """An enterprise on an item's roster (see `service.item_roster`)."""

    enterprise: EnterpriseView
    outcome: str  # Outcome.MET or Outcome.UNKNOWN
    to_verify: tuple[str, ...]
    status: str  # "" (nothing recorded), "applied" or "granted"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def judgement(self) -> str:
        return "符合" if self.outcome == Outcome.MET else "可能符合（需核实）"
