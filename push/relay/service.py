"""The one door into relay tracking for `web`, `bot`, the scheduler and `run.py`.

Tasks (from the policies outbox; run after each fan-out round, or on a timer):
    await sync_relay_tasks(db, working_days=3) -> tasks created
    await create_relay_tasks_for_event(session, event, working_days=3) -> [task ids]
Hub operator actions (the caller checks that the actor may act for the task's hub):
    await forward_through_system(session, task_id, actor) -> RelayOutcome
    await forward_from_delivery(session, delivery_id, by_address=chat) -> RelayOutcome   # fwd: button
    await report_external_forward(session, task_id, count, note, actor) -> RelayOutcome
    await decline(session, task_id, reason, actor) -> RelayOutcome
Members:
    await acknowledge_member(session, delivery_id, by_address=chat) -> AckReply           # ack: button
Scheduler (daily; safe to repeat):
    await send_relay_reminders(db_or_session, today=None) -> DeadlineReport
    await escalate_overdue(db_or_session, today=None) -> DeadlineReport
Figures and exports:
    await relay_funnel(session, policy_id) -> RelayFunnel
    await hub_overview(session, hub_id) -> HubRelayOverview
    await tasks_of_hub(session, hub_id, status=None) -> [RelayTaskView]
    await get_task(session, task_id) -> RelayTaskView;  await task_members(session, task_id)
    await escalations(session, agency=None, unresolved_only=False) -> [EscalationView]
    await export_ledger(session, "xlsx" | "csv", policy_id=, agency=, quarter="2026Q1") -> bytes
Rendering:
    RelayAwareRenderer(db)   # pass as the delivery worker's renderer so relays say 由XX转达
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today_in_china
from core.errors import NotFound
from push.relay import store, texts
from push.relay.actions import (
    acknowledge_member,
    decline,
    forward_from_delivery,
    forward_through_system,
    report_external_forward,
)
from push.relay.deadlines import escalate_overdue, send_relay_reminders
from push.relay.funnel import escalations, hub_overview, relay_funnel, tasks_of_hub
from push.relay.ledger import export_ledger, ledger_filename, mask_identifier, mask_name, parse_quarter
from push.relay.models import MemberOutcome, RelayStatus
from push.relay.render import RelayAwareRenderer
from push.relay.tasks import DEFAULT_DEADLINE_WORKING_DAYS, create_relay_tasks_for_event, sync_relay_tasks
from push.relay.views import (
    AckReply,
    DeadlineReport,
    EscalationView,
    HubRelayOverview,
    HubRelayRow,
    MemberCounts,
    RelayFunnel,
    RelayOutcome,
    RelayTaskView,
    task_view,
)

__all__ = [
    "DEFAULT_DEADLINE_WORKING_DAYS",
    "AckReply",
    "DeadlineReport",
    "EscalationView",
    "HubRelayOverview",
    "HubRelayRow",
    "MemberCounts",
    "MemberOutcome",
    "MemberView",
    "RelayAwareRenderer",
    "RelayFunnel",
    "RelayOutcome",
    "RelayStatus",
    "RelayTaskView",
    "acknowledge_member",
    "create_relay_tasks_for_event",
    "decline",
    "escalate_overdue",
    "escalations",
    "export_ledger",
    "forward_from_delivery",
    "forward_through_system",
    "get_task",
    "hub_overview",
    "ledger_filename",
    "parse_quarter",
    "relay_funnel",
    "report_external_forward",
    "send_relay_reminders",
    "sync_relay_tasks",
    "task_members",
    "tasks_of_hub",
]


async def get_task(session: AsyncSession, task_id: int, today: date | None = None) -> RelayTaskView:
    task = await store.task_by_id(session, task_id)
    if task is None:
        raise NotFound(texts.TASK_NOT_FOUND, field="task_id")
    return task_view(task, today or today_in_china())


@dataclass(frozen=True)
class MemberView:
    """A member contact of a task, personal data masked (what the console and API show)."""

    enterprise_name: str
    credit_code: str
    contact: str  # masked
    channel: str
    address: str  # masked
    outcome: str  # MemberOutcome
    outcome_label: str
    sent_at: datetime | None
    read_at: datetime | None
    acknowledged_at: datetime | None


async def task_members(session: AsyncSession, task_id: int) -> list[MemberView]:
    tracks = {t.member_id: t for t in await store.member_tracks(session, [task_id])}
    out: list[MemberView] = []
    for m in await store.members_of(session, task_id):
        t = tracks.get(m.id)
        credited = t is not None and m.outcome in MemberOutcome.CREDITED
        out.append(
            MemberView(
                m.enterprise_name, m.credit_code, mask_name(m.contact_name), m.channel, mask_identifier(m.address),
                m.outcome, MemberOutcome.LABELS.get(m.outcome, m.outcome),
                t.sent_at if credited and t else None, t.read_at if credited and t else None,
                t.acknowledged_at if credited and t else None,
            )
        )
    return out
