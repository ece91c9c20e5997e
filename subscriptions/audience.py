"""Who gets a policy: the indexed matcher, hub relayers, hub members, and the dry run.

The rule itself is in `matching` (module docstring); this module runs it on the database.

Matching reads the process's in-memory index (`match_index`), or the database index when
that is off or the session has uncommitted subscription changes. Recipients are then read
in chunks of contact ids with one plain SQL statement each (`store.reachable_rows`), and
their reasons and preferences are made once per distinct combination and shared, so the
per-recipient Python work is a couple of dictionary look-ups. `audience_chunks` yields the
recipients chunk by chunk so that a fan-out can commit and send the first ones while the
rest are still being read.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today_in_china
from core.errors import NotFound
from policies.views import PolicyView
from subscriptions import audience_store, hub_store, item_audience, matching, store
from subscriptions.match_index import live
from subscriptions.match_index.memory import Matched
from subscriptions.matching import Hits, PolicyQuery
from subscriptions.models import Hub, Subscriber
from subscriptions.views import (
    AudienceSlice,
    Coverage,
    DeliveryPreference,
    DryRun,
    Recipient,
    RecipientGroup,
    RecipientRole,
)
from vocabulary import taxonomy

NO_TOWNSHIP_LABEL = "未填写乡镇"
CHUNK_SIZE = 5_000  # contact ids per statement when reading recipients
FIRST_CHUNK_SIZE = 200  # the first chunk is small: the first messages can leave at once
WHOLE_AUDIENCE_CHUNK = 20_000


# --- matching ---------------------------------------------------------------------------


async def matched(session: AsyncSession, policy: PolicyView) -> Matched:
    """Contacts whose criteria match the policy, grouped by why; before pause and address checks."""
    if matching.window_closed(policy, today_in_china()):
        return Matched()
    q = matching.query(policy)
    if live.usable(session):
        index = await live.live_index(session).current(session)
        return index.match(q)
    return Matched.from_dict(await match_in_database(session, q))


async def match_in_database(session: AsyncSession, q: PolicyQuery) -> dict[int, Hits]:
    """The same match read from the database index (the source of truth and the fallback)."""
    hits: dict[int, Hits] = {}
    for key, sid, detail, rest, kind, industry in await audience_store.match_index(session, q):
        found = hits.get(sid)
        if found is None:
            found = hits[sid] = Hits()
        matching.add_hit(found, key, detail, rest, kind, industry, q)
    return {sid: h for sid, h in hits.items() if h}


async def match_subscriber_ids(session: AsyncSession, policy: PolicyView) -> dict[int, Hits]:
    """Contacts whose criteria match the policy, with why; before pause and address checks.

    This is the index look-up alone (what the bench times as "match"). Contacts with the
    same hits share one `Hits` object: treat them as read-only."""
    return (await matched(session, policy)).as_dict()


# --- recipients -------------------------------------------------------------------------


@dataclass
class _Plan:
    """Who is looked up for one policy: matched contacts and hub operators asked to relay."""

    policy: PolicyView
    matched: Matched
    relay: dict[int, str]  # hub operator's subscriber id → the relay reason line
    ids: np.ndarray  # every contact id to read, sorted
    items: item_audience.ItemGroups = field(default_factory=item_audience.ItemGroups)
    item_lines: dict[int, str] = field(default_factory=dict)  # contact id → "您符合…的条件"


async def _plan(session: AsyncSession, policy: PolicyView) -> _Plan:
    found = await matched(session, policy)
    relay = await _relay_lines(session, policy)
    ids = np.union1d(found.ids, np.array(sorted(relay), dtype=np.int64)) if relay else found.ids
    # Item-level groups (policies with items only): those whose profile meets an item's conditions.
    groups = await item_audience.item_groups(session, policy)
    item_lines = groups.lines()
    if item_lines:
        ids = np.union1d(ids, np.array(sorted(item_lines), dtype=np.int64))
    return _Plan(policy, found, relay, ids, groups, item_lines)


async def _relay_lines(session: AsyncSession, policy: PolicyView) -> dict[int, str]:
    today = today_in_china()
    if matching.window_closed(policy, today):
        return {}
    in_scope = Counter(
        hub_id
        for hub_id, _eid, township, industry in await hub_store.hub_members_with_profile(session)
        if matching.member_in_scope(township, industry, policy, today)
    )
    if not in_scope:
        return {}
    names = await store.hub_names(session)
    return {
        sid: f"经园区/协会转达：{names[hub_id]}有{in_scope[hub_id]}家会员企业在政策范围内，请转告"
        for sid, hub_id in await hub_store.hub_contacts(session, sorted(in_scope))
    }


def _json_key(value: Any) -> Any:
    """A hashable form of a JSON list column as the driver returns it (text or a list)."""
    if value is None or isinstance(value, str):
        return value
    return tuple(value)


def _json_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(json.loads(value) if isinstance(value, str) else value)


def _time(value: Any) -> datetime.time | None:
    if value is None or isinstance(value, datetime.time):
        return value
    return datetime.time.fromisoformat(value)


@dataclass
class _Seen:
    """What the dry run breaks recipients down by, per contact."""

    lines: dict[int, tuple[str, ...]] = field(default_factory=dict)
    home: dict[int, str] = field(default_factory=dict)
    enterprise_of: dict[int, int | None] = field(default_factory=dict)
    relayers: set[int] = field(default_factory=set)


def _verified(value: Any) -> bool:
    """The enterprise-verified column as read (bool, SQLite's 0/1, or None without enterprise)."""
    return value is None or bool(value)


class _Recipients:
    """Turns reachable rows into `Recipient`s, sharing reasons and preferences between them."""

    def __init__(self, plan: _Plan, seen: _Seen | None = None) -> None:
        self.plan = plan
        self.seen = seen
        # Reasons depend on the profile only when P names eligibility tags or industries.
        self.profile_matters = bool(plan.policy.eligibility or plan.policy.industries)
        self.needs_enterprise = self.profile_matters or seen is not None
        self.reasons: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self.preferences: dict[tuple[Any, ...], DeliveryPreference] = {}
        self.times: dict[Any, datetime.time | None] = {}

    def _lines(self, group: int, row: store.ContactRow | store.ReachableRow) -> tuple[str, ...]:
        kind = row[1]
        if self.profile_matters:
            key: tuple[Any, ...] = (group, kind, _json_key(row[10]), row[11], _json_key(row[5]), row[12], row[14])
        else:
            key = (group, kind)
        lines = self.reasons.get(key)
        if lines is None:
            tags = matching.profile_tags(kind, _json_list(row[10]), row[11] or "", _json_list(row[5]))
            industry = (row[12] or "") if kind == "enterprise" else ""
            hits = self.plan.matched.hits[group]
            lines = self.reasons[key] = matching.reasons(hits, kind, tags, industry, self.plan.policy,
                                                         verified=_verified(row[14]))
        return lines

    def _time(self, value: Any) -> datetime.time | None:
        if value not in self.times:
            self.times[value] = _time(value)
        return self.times[value]

    def _preference(self, row: store.ContactRow | store.ReachableRow) -> DeliveryPreference:
        key = (row[6], row[7], row[8], row[9])
        preference = self.preferences.get(key)
        if preference is None:
            preference = self.preferences[key] = DeliveryPreference(
                row[6], self._time(row[7]), self._time(row[8]), row[9], False
            )
        return preference

    def _groups_of(self, chunk_ids: np.ndarray) -> dict[int, int]:
        """Matched contact id → its hit group, for the matched ids among `chunk_ids`."""
        m = self.plan.matched
        pos = np.searchsorted(m.ids, chunk_ids)
        pos[pos >= len(m.ids)] = 0
        hit = m.ids[pos] == chunk_ids if len(m.ids) else np.zeros(len(chunk_ids), dtype=bool)
        return dict(zip(chunk_ids[hit].tolist(), m.group[pos[hit]].tolist(), strict=True))

    def groups(self, chunk_ids: np.ndarray, contacts: dict[int, store.ContactRow]) -> tuple[RecipientGroup, ...]:
        """The contacts of one chunk grouped by (reasons, role, preference, hub): the same
        recipients `build` makes, without their addresses."""
        group_of = self._groups_of(chunk_ids)
        relay = self.plan.relay
        members: dict[tuple[Any, ...], list[int]] = {}
        for sid in sorted(contacts):
            row = contacts[sid]
            group = group_of.get(sid)
            own = self._lines(group, row) if group is not None else ()
            line = relay.get(sid)
            if line is None:
                if group is None:
                    continue
                key: tuple[Any, ...] = (own, RecipientRole.SUBSCRIBER, self._preference(row), None)
            else:
                key = ((*own, line), RecipientRole.RELAYER, self._preference(row), row[2])
            found = members.get(key)
            if found is None:
                members[key] = [sid]
            else:
                found.append(sid)
        return tuple(
            RecipientGroup(lines, role, preference, hub_id, tuple(ids))
            for (lines, role, preference, hub_id), ids in members.items()
        )

    def build(self, chunk_ids: np.ndarray, rows: Sequence[store.ReachableRow]) -> list[Recipient]:
        group_of = self._groups_of(chunk_ids)
        relay = self.plan.relay
        out: list[Recipient] = []
        for row in rows:
            sid = row[0]
            group = group_of.get(sid)
            own = self._lines(group, row) if group is not None else ()
            item_line = self.plan.item_lines.get(sid)
            if item_line is not None:
                own = (*own, item_line)
            line = relay.get(sid)
            if line is None:
                if group is None and item_line is None:
                    continue
                out.append(
                    Recipient(sid, row[15], row[16], row[17], own, RecipientRole.SUBSCRIBER, self._preference(row))
                )
                lines = own
            else:
                lines = (*own, line)
                out.append(
                    Recipient(
                        sid, row[15], row[16], row[17], lines, RecipientRole.RELAYER, self._preference(row),
                        hub_id=row[2],
                    )
                )  # fmt: skip
            if self.seen is not None:
                self.seen.lines[sid] = lines
                self.seen.home.setdefault(sid, (row[13] if row[3] else row[4]) or "")
                self.seen.enterprise_of.setdefault(sid, row[3])
                if line is not None:
                    self.seen.relayers.add(sid)
        return out


async def _chunks(
    session: AsyncSession, plan: _Plan, seen: _Seen | None, chunk_size: int, first_chunk_size: int
) -> AsyncIterator[list[Recipient]]:
    make = _Recipients(plan, seen)
    start, size = 0, max(1, min(first_chunk_size, chunk_size))
    while start < len(plan.ids):
        chunk_ids = plan.ids[start : start + size]
        start, size = start + size, max(1, chunk_size)
        rows = await store.reachable_rows(session, chunk_ids.tolist(), with_enterprise=make.needs_enterprise)
        recipients = make.build(chunk_ids, rows)
        if recipients:
            yield recipients


async def audience_chunks(
    session: AsyncSession, policy: PolicyView, *, chunk_size: int = CHUNK_SIZE, first_chunk_size: int = FIRST_CHUNK_SIZE
) -> AsyncIterator[list[Recipient]]:
    """`audience()` in chunks, in the same (subscriber_id, address_id) order, none empty.

    Matching is done once up front (milliseconds); each chunk then costs one statement for
    up to `chunk_size` contacts (the first for `first_chunk_size`), so a caller can commit
    and start sending the first recipients while the rest are still being read. All chunks
    are read in the caller's session (one snapshot on SQLite)."""
    plan = await _plan(session, policy)
    async for chunk in _chunks(session, plan, None, chunk_size, first_chunk_size):
        yield chunk


async def audience_groups(
    session: AsyncSession,
    policy: PolicyView,
    *,
    chunk_size: int = CHUNK_SIZE,
    first_chunk_size: int = FIRST_CHUNK_SIZE,
    after_subscriber_id: int = 0,
) -> AsyncIterator[AudienceSlice]:
    """The recipients of `audience()` as groups of contact ids, slice by slice in ascending id
    order, leaving out contacts with ids up to `after_subscriber_id` (a resumed fan-out).

    Each slice costs one read of up to `chunk_size` contacts (the first `first_chunk_size`) and
    no read of addresses: a fan-out inserts each group's rows with `reachable_addresses_sql`,
    so a 77,000-recipient policy never passes through Python row by row."""
    plan = await _plan(session, policy)
    ids = plan.ids[plan.ids > after_subscriber_id] if after_subscriber_id else plan.ids
    make = _Recipients(plan)
    start, size = 0, max(1, min(first_chunk_size, chunk_size))
    while start < len(ids):
        chunk_ids = ids[start : start + size]
        start, size = start + size, max(1, chunk_size)
        contacts = await store.contact_rows(session, chunk_ids.tolist(), with_enterprise=make.needs_enterprise)
        yield AudienceSlice(int(chunk_ids[-1]), make.groups(chunk_ids, contacts))


def reachable_addresses_sql(dialect: str) -> str:
    """See `store.reachable_addresses_sql`: the statement that lists a group's addresses."""
    return store.reachable_addresses_sql(dialect)


async def audience(session: AsyncSession, policy: PolicyView) -> list[Recipient]:
    """Each (contact, active address) that should get the policy, once, with its reasons.

    Paused contacts and inactive addresses are left out; hub operators whose members are in
    scope come with role "relayer" and their hub_id. Sorted by (subscriber_id, address_id)."""
    recipients: list[Recipient] = []
    async for chunk in audience_chunks(
        session, policy, chunk_size=WHOLE_AUDIENCE_CHUNK, first_chunk_size=WHOLE_AUDIENCE_CHUNK
    ):
        recipients += chunk
    return recipients


# --- hub members ------------------------------------------------------------------------


def _preference(row: Any) -> DeliveryPreference:
    return DeliveryPreference(row.frequency, row.quiet_start, row.quiet_end, row.daily_cap, row.paused)


def _profile(row: Any) -> tuple[frozenset[str], str]:
    tags = matching.profile_tags(row.kind, row.qualifications or (), row.size or "", row.groups or ())
    industry = (row.industry or "") if row.kind == "enterprise" else ""
    return tags, industry


async def members_in_scope(session: AsyncSession, hub_id: int, policy: PolicyView) -> list[Recipient]:
    """The hub's member contacts the policy is for, to relay to (role "subscriber", hub_id set)."""
    hub = await session.get(Hub, hub_id)
    if hub is None:
        raise NotFound("找不到这个园区或协会。", field="hub_id")
    today = today_in_china()
    members = [
        eid
        for _hub, eid, township, industry in await hub_store.hub_members_with_profile(session, [hub_id])
        if matching.member_in_scope(township, industry, policy, today)
    ]
    recipients: list[Recipient] = []
    for part in store.chunks(members):
        for row in await audience_store.reachable_addresses(session, Subscriber.enterprise_id.in_(part)):
            tags, industry = _profile(row)
            lines = (f"经{hub.name}转达", *matching.eligibility_reasons(row.kind, tags, industry, policy,
                                                                    verified=_verified(row.enterprise_verified)))
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


async def _coverage(session: AsyncSession, policy: PolicyView, result: _Seen) -> Coverage:
    towns = matching.regional_townships(policy)
    reached_enterprises = {e for e in result.enterprise_of.values() if e is not None}
    reached_contacts = set(result.lines)
    enterprises, residents = await audience_store.population(session)
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
    plan = await _plan(session, policy)
    result = _Seen()
    recipients = [
        r async for chunk in _chunks(session, plan, result, WHOLE_AUDIENCE_CHUNK, WHOLE_AUDIENCE_CHUNK) for r in chunk
    ]
    hits = plan.matched.as_dict()
    by_reason: Counter[str] = Counter()
    for sid, lines in result.lines.items():
        kinds = matching.reason_kinds(hits.get(sid, Hits()), lines)
        if sid in result.relayers:
            kinds.append("relay")
        by_reason.update(matching.REASON_KIND_LABELS[k] for k in kinds)
        if sid in plan.item_lines:
            kind = item_audience.QUALIFIED_KIND if sid in plan.items.qualified else item_audience.MAY_QUALIFY_KIND
            by_reason[item_audience.KIND_LABELS[kind]] += 1
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
        may_qualify=len(plan.items.may_qualify),
        may_qualify_included=plan.items.include_may_qualify,
    )
