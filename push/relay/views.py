"""Read models relay tracking hands to `web`, `bot` and the scheduler (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from push.relay.models import RelayStatus, RelayTask
from push.relay.texts import HUB_KIND_LABELS


@dataclass(frozen=True)
class RelayTaskView:
    id: int
    policy_id: int
    hub_id: int
    hub_name: str
    hub_kind: str
    policy_title: str
    doc_no: str
    agency: str
    interpretation_path: str
    released_on: date
    due_on: date
    remind_on: date
    status: str  # RelayStatus
    acted_at: datetime | None
    acted_by: str
    forwarded_at: datetime | None
    reported_at: datetime | None
    external_count: int
    note: str
    reminded_at: datetime | None
    escalated_at: datetime | None
    hub_unreachable: bool
    created_at: datetime
    overdue: bool  # still open after `due_on` (as of the day the view was made)

    @property
    def status_label(self) -> str:
        return RelayStatus.LABELS.get(self.status, self.status)

    @property
    def hub_kind_label(self) -> str:
        return HUB_KIND_LABELS.get(self.hub_kind, self.hub_kind)

    @property
    def method(self) -> str:
        """How the hub relayed: "system", "external", "system+external", "declined" or ""."""
        if self.status == RelayStatus.DECLINED:
            return "declined"
        parts = [name for name, at in (("system", self.forwarded_at), ("external", self.reported_at)) if at]
        return "+".join(parts)

    @property
    def is_open(self) -> bool:
        return self.status == RelayStatus.OPEN


def task_view(task: RelayTask, today: date) -> RelayTaskView:
    return RelayTaskView(
        id=task.id, policy_id=task.policy_id, hub_id=task.hub_id, hub_name=task.hub_name, hub_kind=task.hub_kind,
        policy_title=task.policy_title, doc_no=task.doc_no, agency=task.agency,
        interpretation_path=task.interpretation_path, released_on=task.released_on, due_on=task.due_on,
        remind_on=task.remind_on, status=task.status, acted_at=task.acted_at, acted_by=task.acted_by,
        forwarded_at=task.forwarded_at, reported_at=task.reported_at, external_count=task.external_count,
        note=task.note, reminded_at=task.reminded_at, escalated_at=task.escalated_at,
        hub_unreachable=task.hub_unreachable, created_at=task.created_at,
        overdue=task.status == RelayStatus.OPEN and today > task.due_on,
    )


@dataclass(frozen=True)
class RelayOutcome:
    """What an operator action did, with a Chinese sentence to show or send back."""

    task: RelayTaskView
    changed: bool  # False: nothing was done (e.g. a second forward), `message` says why
    message: str
    queued: int = 0  # member contacts newly messaged
    already_reached: int = 0  # credited, not messaged again
    left_hub: int = 0
    no_address: int = 0


@dataclass(frozen=True)
class AckReply:
    recorded: bool  # True the first time the acknowledgement counts
    message: str


@dataclass(frozen=True)
class MemberCounts:
    """Member contacts of one or more tasks at each stage (distinct per contact address)."""

    in_scope: int = 0
    messaged: int = 0  # credited with a delivery (newly queued or already reached)
    reached: int = 0  # that delivery was accepted by the platform
    read: int = 0
    acknowledged: int = 0

    @property
    def acknowledgement_rate(self) -> float | None:
        """Acknowledged / reached; None when nobody was reached yet."""
        return self.acknowledged / self.reached if self.reached else None


@dataclass(frozen=True)
class HubRelayRow:
    """One row of a policy's relay table: a hub, what it did and what came of it."""

    task: RelayTaskView
    members: MemberCounts


@dataclass(frozen=True)
class RelayFunnel:
    """hubs assigned → relayed (how) → members reached → read → acknowledged, for one policy."""

    policy_id: int
    hubs_assigned: int
    hubs_forwarded: int  # through the system (possibly also externally)
    hubs_reported: int  # externally only
    hubs_declined: int
    hubs_open: int  # includes the overdue ones
    hubs_overdue: int
    hubs_withdrawn: int
    members: MemberCounts  # distinct member contacts over every hub: a member counts once
    external_reported: int  # sum of the counts hubs reported for forwards made elsewhere
    hubs: tuple[HubRelayRow, ...] = ()

    @property
    def hubs_relayed(self) -> int:
        return self.hubs_forwarded + self.hubs_reported


@dataclass(frozen=True)
class HubRelayOverview:
    hub_id: int
    open_tasks: tuple[RelayTaskView, ...]
    history: tuple[RelayTaskView, ...]  # every other task, newest first
    members: MemberCounts  # over every task of the hub

    @property
    def acknowledgement_rate(self) -> float | None:
        return self.members.acknowledgement_rate


@dataclass(frozen=True)
class EscalationView:
    id: int
    task_id: int
    agency: str
    policy_id: int
    hub_id: int
    message: str
    escalated_at: datetime
    resolved_at: datetime | None


@dataclass
class DeadlineReport:
    """What one reminder or escalation run did."""

    task_ids: list[int] = field(default_factory=list)  # reminded / escalated
    unreachable: list[int] = field(default_factory=list)  # hubs with no active address (flagged)
    withdrawn: list[int] = field(default_factory=list)  # policies gone meanwhile
