"""Who gets a policy: the indexed matcher, hub relayers, hub members, and the dry run.

The rule itself is in `matching` (module docstring); this module runs it on the database.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today_in_china
from core.errors import NotFound
from policies.text import taxonomy
from policies.views import PolicyView
from subscriptions import matching, store
from subscriptions.matching import Hits
from subscriptions.models import Hub, Subscriber
from subscriptions.views import Coverage, DeliveryPreference, DryRun, Recipient, RecipientRole

NO_TOWNSHIP_LABEL = "未填写乡镇"


async def match_subscriber_ids(session: AsyncSession, policy: PolicyView) -> dict[int, Hits]:
    """Contacts whose criteria match the policy, with why; before pause and address checks.

    This is the index look-up alone (what the bench times as "match")."""
    if matching.window_closed(policy, today_in_china()):
        return {}
    q = matching.query(policy)
    hits: dict[int, Hits] = {}
    for key, sid, detail, rest, kind, industry in await store.match_index(session, q):
        found = hits.get(sid)
        if found is None:
            found = hits[sid] = Hits()
        matching.add_hit(found, key, detail, rest, kind, industry, q)
    return {sid: h for sid, h in hits.items() if h}


def _preference(row: Any) -> DeliveryPreference:
    return DeliveryPreference(row.frequency, row.quiet_start, row.quiet_end, row.daily_cap, row.paused)


def _profile(row: Any) -> tuple[frozenset[str], str]:
    tags = matching.profile_tags(row.kind, row.qualifications or (), row.size or "", row.groups or ())
    industry = (row.industry or "") if row.kind == "enterprise" else ""
    return tags, industry


def _home(row: Any) -> str:
    return (row.enterprise_township if row.enterprise_id else row.own_township) or ""


class _Match:
    """Recipients of one policy, with the hits and homes the dry run breaks them down by."""

    def __init__(self) -> None:
        self.recipients: dict[tuple[int, int], Recipient] = {}
        self.hits: dict[int, Hits] = {}
        self.lines: dict[int, tuple[str, ...]] = {}
        self.home: dict[int, str] = {}
        self.enterprise_of: dict[int, int | None] = {}
        self.relayers: set[int] = set()


async def _match(session: AsyncSession, policy: PolicyView) -> _Match:
    result = _Match()
    today = today_in_china()
    if matching.window_closed(policy, today):
        return result
    result.hits = await match_subscriber_ids(session, policy)
    q = matching.query(policy)
    for row in await store.reachable_addresses_of_matches(session, q):
        hits = result.hits.get(row.subscriber_id)
        if hits is None:
            continue
        lines = result.lines.get(row.subscriber_id)
        if lines is None:
            tags, industry = _profile(row)
            lines = result.lines[row.subscriber_id] = matching.reasons(hits, row.kind, tags, industry, policy)
            result.home[row.subscriber_id] = _home(row)
            result.enterprise_of[row.subscriber_id] = row.enterprise_id
        result.recipients[(row.subscriber_id, row.address_id)] = Recipient(
            row.subscriber_id,
            row.address_id,
            row.channel,
            row.address,
            lines,
            RecipientRole.SUBSCRIBER,
            _preference(row),
        )
    await _add_relayers(session, policy, result)
    return result


async def _add_relayers(session: AsyncSession, policy: PolicyView, result: _Match) -> None:
    today = today_in_china()
    in_scope = Counter(
        hub_id
        for hub_id, _eid, township, industry in await store.hub_members_with_profile(session)
        if matching.member_in_scope(township, industry, policy, today)
    )
    if not in_scope:
        return
    names = await store.hub_names(session)
    rows = await store.reachable_addresses(session, Subscriber.hub_id.in_(sorted(in_scope)), Subscriber.kind == "hub")
    for row in rows:
        relay = f"经园区/协会转达：{names[row.hub_id]}有{in_scope[row.hub_id]}家会员企业在政策范围内，请转告"
        own = result.lines.get(row.subscriber_id, ())
        lines = (*own, relay)
        result.lines[row.subscriber_id] = lines
        result.home.setdefault(row.subscriber_id, _home(row))
        result.enterprise_of.setdefault(row.subscriber_id, None)
        result.relayers.add(row.subscriber_id)
        result.recipients[(row.subscriber_id, row.address_id)] = Recipient(
            row.subscriber_id,
            row.address_id,
            row.channel,
            row.address,
            lines,
            RecipientRole.RELAYER,
            _preference(row),
            hub_id=row.hub_id,
        )


async def audience(session: AsyncSession, policy: PolicyView) -> list[Recipient]:
    """Each (contact, active address) that should get the policy, once, with its reasons.

    Paused contacts and inactive addresses are left out; hub operators whose members are in
    scope come with role "relayer" and their hub_id. Sorted by (subscriber_id, address_id)."""
    result = await _match(session, policy)
    return [result.recipients[k] for k in sorted(result.recipients)]


async def members_in_scope(session: AsyncSession, hub_id: int, policy: PolicyView) -> list[Recipient]:
    """The hub's member contacts the policy is for, to relay to (role "subscriber", hub_id set)."""
    hub = await session.get(Hub, hub_id)
    if hub is None:
        raise NotFound("找不到这个园区或协会。", field="hub_id")
    today = today_in_china()
    members = [
        eid
        for _hub, eid, township, industry in await store.hub_members_with_profile(session, [hub_id])
        if matching.member_in_scope(township, industry, policy, today)
    ]
    recipients: list[Recipient] = []
    for part in store.chunks(members):
        for row in await store.reachable_addresses(session, Subscriber.enterprise_id.in_(part)):
            tags, industry = _profile(row)
            lines = (f"经{hub.name}转达", *matching.eligibility_reasons(row.kind, tags, industry, policy))
            recipients.append(
                Recipient(
                    row.subscriber_id,
                    row.address_id,
                    row.channel,
                    row.address,
                    lines,
                    RecipientRole.SUBSCRIBER,
                    _preference(row),
                    hub_id=hub_id,
                )
            )
    return sorted(recipients, key=lambda r: (r.subscriber_id, r.address_id))


def _township_name(code: str) -> str:
    region = taxonomy.region_by_code(code) if code else None
    return region.name if region else (code or NO_TOWNSHIP_LABEL)


def _described_tags(eligibility: tuple[str, ...], audience: str) -> set[str] | None:
    """P's tags of one audience; None when P names tags but none for that audience."""
    own = {c for c in eligibility if (t := taxonomy.eligibility_by_code(c)) is None or t.audience == audience}
    if eligibility and not own:
        return None
    return own


async def _coverage(session: AsyncSession, policy: PolicyView, result: _Match) -> Coverage:
    towns = matching.regional_townships(policy)
    reached_enterprises = {e for e in result.enterprise_of.values() if e is not None}
    reached_contacts = set(result.lines)
    enterprises, residents = await store.population(session)
    described = reachable = in_audience = 0
    ent_tags = _described_tags(policy.eligibility, "enterprise")
    if policy.audience != "resident" and ent_tags is not None:
        for eid, township, industry, quals, size, is_reachable in enterprises:
            if towns is not None and township not in towns:
                continue
            if policy.industries and industry and industry not in policy.industries:
                continue
            if ent_tags and not ent_tags & matching.profile_tags("enterprise", quals or (), size, ()):
                continue
            described += 1
            reachable += bool(is_reachable)
            in_audience += eid in reached_enterprises
    res_tags = _described_tags(policy.eligibility, "resident")
    if policy.audience != "enterprise" and res_tags is not None:
        for sid, township, groups, is_reachable in residents:
            if towns is not None and township not in towns:
                continue
            if res_tags and not res_tags & set(groups or ()):
                continue
            described += 1
            reachable += bool(is_reachable)
            in_audience += sid in reached_contacts
    return Coverage(described, reachable, in_audience)


async def dry_run(session: AsyncSession, policy: PolicyView, *, sample_size: int = 10) -> DryRun:
    """What publishing would do, without doing it: counts by reason, channel and township,
    a sample of recipients, and the coverage of the population the policy describes."""
    result = await _match(session, policy)
    recipients = [result.recipients[k] for k in sorted(result.recipients)]
    by_reason: Counter[str] = Counter()
    for sid, lines in result.lines.items():
        kinds = matching.reason_kinds(result.hits.get(sid, Hits()), lines)
        if sid in result.relayers:
            kinds.append("relay")
        by_reason.update(matching.REASON_KIND_LABELS[k] for k in kinds)
    excluded = ""
    if matching.window_closed(policy, today_in_china()) and policy.application_closes:
        excluded = f"申报已于{policy.application_closes:%Y年%m月%d日}截止，不再推送"
    return DryRun(
        recipients=len(recipients),
        subscribers=len(result.lines),
        relayers=len(result.relayers),
        by_reason=dict(by_reason.most_common()),
        by_channel=dict(Counter(r.channel for r in recipients).most_common()),
        by_township=dict(Counter(_township_name(h) for h in result.home.values()).most_common()),
        sample=tuple(recipients[:sample_size]),
        coverage=await _coverage(session, policy, result),
        excluded_because=excluded,
    )
