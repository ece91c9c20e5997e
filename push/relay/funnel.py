"""Relay figures: a policy's funnel and hub table, and a hub's own overview.

Member stages are counted per member contact address from the delivery credited to the hub:
messaged (credited) → reached (the platform accepted it) → read (opened the tracked link) →
acknowledged (确认收到). Across hubs a member counts once, however many hubs relayed to it;
within each hub's row it counts for that hub.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today_in_china
from push.models import DeliveryStatus
from push.relay import store
from push.relay.models import MemberOutcome, RelayStatus
from push.relay.store import MemberTrack
from push.relay.views import (
    EscalationView,
    HubRelayOverview,
    HubRelayRow,
    MemberCounts,
    RelayFunnel,
    RelayTaskView,
    task_view,
)


def count_members(tracks: Iterable[MemberTrack]) -> MemberCounts:
    """Distinct member contact addresses at each stage."""
    stages: dict[str, set[int]] = defaultdict(set)
    for t in tracks:
        stages["in_scope"].add(t.address_id)
        if t.outcome not in MemberOutcome.CREDITED or t.delivery_id is None:
            continue
        stages["messaged"].add(t.address_id)
        if t.delivery_status == DeliveryStatus.SENT:
            stages["reached"].add(t.address_id)
        if t.read_at is not None:
            stages["read"].add(t.address_id)
        if t.acknowledged_at is not None:
            stages["acknowledged"].add(t.address_id)
    return MemberCounts(**{name: len(ids) for name, ids in stages.items()})


async def relay_funnel(session: AsyncSession, policy_id: int, today: date | None = None) -> RelayFunnel:
    today = today or today_in_china()
    tasks = [task_view(t, today) for t in await store.tasks_of_policy(session, policy_id)]
    tracks = await store.member_tracks(session, [t.id for t in tasks])
    by_task: dict[int, list[MemberTrack]] = defaultdict(list)
    for track in tracks:
        by_task[track.task_id].append(track)
    status = [t.status for t in tasks]
    return RelayFunnel(
        policy_id=policy_id,
        hubs_assigned=len(tasks),
        hubs_forwarded=status.count(RelayStatus.FORWARDED),
        hubs_reported=status.count(RelayStatus.REPORTED),
        hubs_declined=status.count(RelayStatus.DECLINED),
        hubs_open=status.count(RelayStatus.OPEN),
        hubs_overdue=sum(1 for t in tasks if t.overdue),
        hubs_withdrawn=status.count(RelayStatus.WITHDRAWN),
        members=count_members(tracks),
        external_reported=sum(t.external_count for t in tasks),
        hubs=tuple(HubRelayRow(t, count_members(by_task[t.id])) for t in tasks),
    )


async def hub_overview(session: AsyncSession, hub_id: int, today: date | None = None) -> HubRelayOverview:
    """A hub's open tasks (soonest deadline first), its history and its members' acknowledgement rate."""
    today = today or today_in_china()
    tasks = [task_view(t, today) for t in await store.tasks_of_hub(session, hub_id)]
    tracks = await store.member_tracks(session, [t.id for t in tasks])
    history = sorted((t for t in tasks if not t.is_open), key=lambda t: (t.released_on, t.id), reverse=True)
    return HubRelayOverview(
        hub_id=hub_id,
        open_tasks=tuple(t for t in tasks if t.is_open),
        history=tuple(history),
        members=count_members(tracks),
    )


async def tasks_of_hub(session: AsyncSession, hub_id: int, *, status: str | None = None,
                       today: date | None = None) -> list[RelayTaskView]:
    today = today or today_in_china()
    return [task_view(t, today) for t in await store.tasks_of_hub(session, hub_id, status=status)]


async def escalations(session: AsyncSession, *, agency: str | None = None,
                      unresolved_only: bool = False) -> list[EscalationView]:
    rows = await store.escalations(session, agency=agency, unresolved_only=unresolved_only)
    return [
        EscalationView(e.id, e.task_id, e.agency, e.policy_id, e.hub_id, e.message, e.escalated_at, e.resolved_at)
        for e in rows
    ]
