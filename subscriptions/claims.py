"""Who may act for an enterprise: registration from a chat, claims and invite codes.

A chat user's word is enough to create a *new* enterprise (marked unverified), never to
change or join an existing one. Naming an existing enterprise opens a pending claim that
one of these approves:

- department staff (admins and editors: departments hold the registries),
- a verified contact of that enterprise,
- an operator of a park the enterprise is a member of;

or the user redeems a one-time invite code issued from the console (kept as a sha256,
single use, expiring). Until then the claimant stays an ordinary subscriber.

Permission is decided here, from an `Approver` the caller builds for who is asking, so the
console, the API and the chats apply one rule. Queries on the two claim tables live here
too: nothing else reads them.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subscriptions import contact_store, store
from subscriptions import validation as valid
from subscriptions.models import (
    ClaimStatus,
    Enterprise,
    EnterpriseClaim,
    EnterpriseInvite,
    Hub,
    HubKind,
    HubMember,
    Subscriber,
    SubscriberKind,
)
from subscriptions.views import EnterpriseView

INVITE_PREFIX = "QY"
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and retyped
INVITE_LENGTH = 10  # ~49 bits after the prefix; guessing is also throttled by the chats' limits
INVITE_DEFAULT_DAYS = 7
INVITE_MAX_DAYS = 30
CLAIM_STATUS_LABELS = {ClaimStatus.PENDING: "待审核", ClaimStatus.APPROVED: "已同意", ClaimStatus.REFUSED: "已拒绝"}


@dataclass(frozen=True)
class Approver:
    """Who is deciding. Build it with one of the constructors; `label` goes into the record."""

    label: str
    department: bool = False
    hub_id: int | None = None
    subscriber_id: int | None = None

    @classmethod
    def department_staff(cls, label: str) -> Approver:
        return cls(label=label[:120], department=True)

    @classmethod
    def hub_operator(cls, hub_id: int, label: str) -> Approver:
        return cls(label=label[:120], hub_id=hub_id)

    @classmethod
    def contact(cls, subscriber_id: int) -> Approver:
        return cls(label="企业已认证联系人", subscriber_id=subscriber_id)


@dataclass(frozen=True)
class ClaimView:
    id: int
    enterprise_id: int
    enterprise_name: str
    subscriber_id: int
    claimant_name: str
    claimed_name: str
    status: str
    decided_by: str
    created_at: datetime.datetime

    @property
    def status_label(self) -> str:
        return CLAIM_STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class ChatRegistration:
    """What naming an enterprise in a chat did.

    created: a new, unverified enterprise with this contact; `enterprise` is it.
    claimed: the enterprise was registered already; a pending claim (`claim_id`) waits.
    already: the contact already acts for it; nothing changed."""

    outcome: Literal["created", "claimed", "already"]
    enterprise: EnterpriseView | None = None
    claim_id: int | None = None


@dataclass(frozen=True)
class IssuedInvite:
    code: str  # shown once; only its hash is stored
    enterprise_id: int
    expires_at: datetime.datetime


def _view(e: Enterprise) -> EnterpriseView:
    return EnterpriseView(
        e.id, e.name, e.credit_code, e.industry, e.size, tuple(e.qualifications or ()), e.township, e.verified
    )


def is_known_to_county(enterprise: EnterpriseView) -> bool:
    """True for enterprises the county registered (console, API, registry import) or approved;
    False for ones only named in a chat, whose profile is unconfirmed."""
    return enterprise.verified


def known_to_county_clause() -> ColumnElement[bool]:
    """`is_known_to_county` as a WHERE clause, for queries over many enterprises."""
    return Enterprise.verified.is_(True)


async def _subscriber(session: AsyncSession, subscriber_id: int) -> Subscriber:
    sub = await session.get(Subscriber, subscriber_id)
    if sub is None:
        raise NotFound("找不到这位订阅者。", field="subscriber_id")
    return sub


async def _enterprise(session: AsyncSession, enterprise_id: int) -> Enterprise:
    ent = await session.get(Enterprise, enterprise_id)
    if ent is None:
        raise NotFound("找不到这家企业。", field="enterprise_id")
    return ent


async def link_contact(session: AsyncSession, sub: Subscriber, enterprise_id: int, *, verified: bool) -> None:
    """Make `sub` a contact of the enterprise (the one place that sets the link)."""
    if sub.kind == SubscriberKind.HUB:
        raise ValidationFailed("园区或协会的联系人不能同时登记为企业联系人。", field="subscriber_id")
    async with store.keeping_index(session, [sub.id]):
        sub.kind = SubscriberKind.ENTERPRISE
        sub.enterprise_id = enterprise_id
        sub.contact_verified = verified
        if sub.audience == "resident":
            sub.audience = "enterprise"
        sub.updated_at = now()


# --- registration from a chat -----------------------------------------------------------


async def register_from_chat(
    session: AsyncSession, subscriber_id: int, *, name: str, credit_code: str
) -> ChatRegistration:
    """A chat user names its enterprise: a new one is created unverified with this contact;
    an existing one is left exactly as it is and gets a pending claim instead."""
    sub = await _subscriber(session, subscriber_id)
    if sub.kind == SubscriberKind.HUB:
        raise ValidationFailed("园区或协会的联系人不能同时登记为企业联系人。", field="subscriber_id")
    name = (name or "").strip()[:200]
    if not name:
        raise ValidationFailed("企业名称不能为空。", field="name")
    code = valid.credit_code(credit_code)
    ent = await contact_store.enterprise_by_credit_code(session, code)
    if ent is None:
        at = now()
        ent = Enterprise(name=name, credit_code=code, industry="", size="", qualifications=[], township="",
                         verified=False, created_at=at, updated_at=at)
        session.add(ent)
        await session.flush()
        await link_contact(session, sub, ent.id, verified=False)
        return ChatRegistration("created", enterprise=_view(ent))
    if sub.enterprise_id == ent.id:
        return ChatRegistration("already", enterprise=_view(ent))
    claim = await _pending_claim(session, ent.id, sub.id)
    if claim is None:
        claim = EnterpriseClaim(enterprise_id=ent.id, subscriber_id=sub.id, claimed_name=name,
                                status=ClaimStatus.PENDING, decided_by="", created_at=now())
        session.add(claim)
        await session.flush()
    return ChatRegistration("claimed", claim_id=claim.id)


async def _pending_claim(session: AsyncSession, enterprise_id: int, subscriber_id: int) -> EnterpriseClaim | None:
    stmt = select(EnterpriseClaim).where(
        EnterpriseClaim.enterprise_id == enterprise_id,
        EnterpriseClaim.subscriber_id == subscriber_id,
        EnterpriseClaim.status == ClaimStatus.PENDING,
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def update_profile_as_contact(
    session: AsyncSession,
    subscriber_id: int,
    *,
    industry: str | None = None,
    size: str | None = None,
    qualifications: Iterable[str] | None = None,
    township: str | None = None,
) -> EnterpriseView:
    """A contact changes its enterprise's profile: allowed for a verified contact, or for the
    contact who created a still unverified enterprise; refused for anyone else."""
    sub = await _subscriber(session, subscriber_id)
    if sub.enterprise_id is None:
        raise Forbidden("您还没有登记为企业联系人。", field="subscriber_id")
    ent = await _enterprise(session, sub.enterprise_id)
    if ent.verified and not sub.contact_verified:
        raise Forbidden("已核实企业的信息只能由部门或企业已认证联系人修改。", field="subscriber_id")
    fields = profile_fields(industry=industry, size=size, qualifications=qualifications, township=township)
    return await apply_profile_changes(session, ent, fields)


def profile_fields(
    *,
    industry: str | None = None,
    size: str | None = None,
    qualifications: Iterable[str] | None = None,
    township: str | None = None,
) -> dict[str, object]:
    """The enterprise profile fields that were given (not None), validated."""
    fields: dict[str, object] = {}
    if industry is not None:
        fields["industry"] = valid.industry(industry)
    if size is not None:
        fields["size"] = valid.size(size)
    if qualifications is not None:
        fields["qualifications"] = valid.eligibility(qualifications, "enterprise", field="qualifications")
    if township is not None:
        fields["township"] = valid.township(township)
    return fields


async def apply_profile_changes(session: AsyncSession, ent: Enterprise, fields: dict[str, object]) -> EnterpriseView:
    """Set the `fields` that differ on the enterprise, keeping its contacts' match index current
    (every contact sees the shared profile); nothing is written when none differ."""
    changed = {k: v for k, v in fields.items() if getattr(ent, k) != v}
    if changed:
        async with store.keeping_index(session, await store.contact_ids_of_enterprise(session, ent.id)):
            for key, value in changed.items():
                setattr(ent, key, value)
            ent.updated_at = now()
    return _view(ent)


async def detach_unverified_contacts(session: AsyncSession, enterprise_id: int) -> int:
    """The enterprise has just become verified (staff or the registry vouched for it): contacts
    linked only on their own word (whoever first typed its code in a chat) stop acting for it
    and get a pending claim instead. Returns how many were detached."""
    ent = await _enterprise(session, enterprise_id)
    stmt = select(Subscriber).where(Subscriber.enterprise_id == enterprise_id,
                                    Subscriber.contact_verified.is_(False), Subscriber.merged_into.is_(None))
    contacts = list((await session.execute(stmt)).scalars())
    for sub in contacts:
        async with store.keeping_index(session, [sub.id]):
            sub.kind = SubscriberKind.RESIDENT
            sub.enterprise_id = None
            sub.contact_verified = True  # nothing left to vouch for: the flag only qualifies a link
            sub.updated_at = now()
        if await _pending_claim(session, enterprise_id, sub.id) is None:
            session.add(EnterpriseClaim(enterprise_id=enterprise_id, subscriber_id=sub.id, claimed_name=ent.name,
                                        status=ClaimStatus.PENDING, decided_by="", created_at=now()))
    await session.flush()
    return len(contacts)


# --- deciding claims --------------------------------------------------------------------


async def _may_act_for(session: AsyncSession, enterprise_id: int, approver: Approver) -> bool:
    if approver.department:
        return True
    if approver.hub_id is not None:
        hub = await session.get(Hub, approver.hub_id)
        member = await session.get(HubMember, (approver.hub_id, enterprise_id))
        return hub is not None and hub.kind == HubKind.PARK and member is not None
    if approver.subscriber_id is not None:
        sub = await session.get(Subscriber, approver.subscriber_id)
        return (sub is not None and sub.merged_into is None and sub.enterprise_id == enterprise_id
                and bool(sub.contact_verified))
    return False


async def _claim_views(session: AsyncSession, claims: Iterable[EnterpriseClaim]) -> list[ClaimView]:
    out = []
    for c in claims:
        ent = await _enterprise(session, c.enterprise_id)
        sub = await session.get(Subscriber, c.subscriber_id)
        out.append(ClaimView(c.id, c.enterprise_id, ent.name, c.subscriber_id, sub.display_name if sub else "",
                             c.claimed_name, c.status, c.decided_by, c.created_at))
    return out


async def claims_for(session: AsyncSession, approver: Approver, *, limit: int = 200) -> list[ClaimView]:
    """Pending claims this approver may decide, oldest first."""
    stmt = select(EnterpriseClaim).where(EnterpriseClaim.status == ClaimStatus.PENDING)
    if approver.hub_id is not None and not approver.department:
        members = select(HubMember.enterprise_id).join(Hub, Hub.id == HubMember.hub_id).where(
            HubMember.hub_id == approver.hub_id, Hub.kind == HubKind.PARK)
        stmt = stmt.where(EnterpriseClaim.enterprise_id.in_(members))
    elif approver.subscriber_id is not None and not approver.department:
        sub = await session.get(Subscriber, approver.subscriber_id)
        if sub is None or sub.enterprise_id is None or not sub.contact_verified or sub.merged_into is not None:
            return []
        stmt = stmt.where(EnterpriseClaim.enterprise_id == sub.enterprise_id,
                          EnterpriseClaim.subscriber_id != sub.id)
    elif not approver.department:
        return []
    rows = (await session.execute(stmt.order_by(EnterpriseClaim.id).limit(limit))).scalars()
    return await _claim_views(session, rows)


async def get_claim(session: AsyncSession, claim_id: int) -> ClaimView:
    claim = await session.get(EnterpriseClaim, claim_id)
    if claim is None:
        raise NotFound("找不到这项认领申请。", field="claim_id")
    return (await _claim_views(session, [claim]))[0]


async def decide_claim(session: AsyncSession, claim_id: int, approver: Approver, *, approve: bool) -> ClaimView:
    """Approve (the claimant becomes a verified contact) or refuse a pending claim.

    Forbidden unless the approver may act for the enterprise; Conflict when already decided."""
    claim = await session.get(EnterpriseClaim, claim_id, with_for_update=True)
    if claim is None:
        raise NotFound("找不到这项认领申请。", field="claim_id")
    if not await _may_act_for(session, claim.enterprise_id, approver):
        raise Forbidden("您无权审核这家企业的认领申请。", field="claim_id")
    if approver.subscriber_id is not None and approver.subscriber_id == claim.subscriber_id:
        raise Forbidden("不能审核自己的认领申请。", field="claim_id")
    if claim.status != ClaimStatus.PENDING:
        raise Conflict(f"这项认领申请已处理（{CLAIM_STATUS_LABELS.get(claim.status, '')}）。", field="claim_id")
    if approve:
        sub = await _subscriber(session, claim.subscriber_id)
        if sub.merged_into is not None:  # the person now speaks through the contact it was merged into
            sub = await _subscriber(session, sub.merged_into)
        await link_contact(session, sub, claim.enterprise_id, verified=True)
    claim.status = ClaimStatus.APPROVED if approve else ClaimStatus.REFUSED
    claim.decided_by = approver.label
    claim.decided_at = now()
    await session.flush()
    return (await _claim_views(session, [claim]))[0]


# --- one-time invite codes --------------------------------------------------------------


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise_code(code).encode()).hexdigest()


async def issue_invite(
    session: AsyncSession, enterprise_id: int, approver: Approver, *, days: int = INVITE_DEFAULT_DAYS
) -> IssuedInvite:
    """A new invite code for the enterprise, returned once (only its hash is stored)."""
    if not 1 <= days <= INVITE_MAX_DAYS:
        raise ValidationFailed(f"有效天数须在 1 到 {INVITE_MAX_DAYS} 之间。", field="days")
    await _enterprise(session, enterprise_id)
    if approver.subscriber_id is not None or not await _may_act_for(session, enterprise_id, approver):
        raise Forbidden("您无权为这家企业签发认领码。", field="enterprise_id")
    code = INVITE_PREFIX + "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    at = now()
    expires = at + datetime.timedelta(days=days)
    session.add(EnterpriseInvite(enterprise_id=enterprise_id, code_hash=_hash(code), issued_by=approver.label,
                                 created_at=at, expires_at=expires))
    await session.flush()
    return IssuedInvite(code, enterprise_id, expires)


def looks_like_invite(text: str) -> bool:
    code = _normalise_code(text)
    return (code.startswith(INVITE_PREFIX) and len(code) == len(INVITE_PREFIX) + INVITE_LENGTH
            and all(ch in INVITE_ALPHABET for ch in code[len(INVITE_PREFIX):]))


async def redeem_invite(session: AsyncSession, subscriber_id: int, code: str) -> EnterpriseView:
    """The chat contact becomes a verified contact of the code's enterprise; the code is spent."""
    sub = await _subscriber(session, subscriber_id)
    if sub.kind == SubscriberKind.HUB:
        raise ValidationFailed("园区或协会的联系人不能同时登记为企业联系人。", field="subscriber_id")
    invalid = NotFound("认领码无效、已使用或已过期，请向发码的部门或园区重新索取。", field="code")
    if not looks_like_invite(code):
        raise invalid
    invite = (await session.execute(
        select(EnterpriseInvite).where(EnterpriseInvite.code_hash == _hash(code)))).scalar_one_or_none()
    at = now()
    if invite is None or invite.used_at is not None or invite.expires_at <= at:
        raise invalid
    # Spent by a conditional update, so two redemptions racing cannot both succeed.
    spent = await session.execute(
        update(EnterpriseInvite)
        .where(EnterpriseInvite.id == invite.id, EnterpriseInvite.used_at.is_(None))
        .values(used_at=at, used_by=sub.id)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise invalid
    await link_contact(session, sub, invite.enterprise_id, verified=True)
    await session.execute(
        update(EnterpriseClaim)
        .where(EnterpriseClaim.subscriber_id == sub.id, EnterpriseClaim.enterprise_id == invite.enterprise_id,
               EnterpriseClaim.status == ClaimStatus.PENDING)
        .values(status=ClaimStatus.APPROVED, decided_by="认领码", decided_at=at)
        .execution_options(synchronize_session=False)
    )
    return _view(await _enterprise(session, invite.enterprise_id))
