"""What a hub operator does with a relay task (chat buttons and the console call these), and a
member's acknowledgement.

Each action locks its task row first, so two presses of 转发给会员 (two devices, a double tap,
the chat and the console at once) forward once; the second one changes nothing and says so.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.clock import CHINA_TZ, today_in_china
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from policies import service as policies
from policies.service import mask_pii
from policies.views import PolicyView
from push.dao import deliveries
from push.dao.fanout import NewDelivery, insert_deliveries
from push.receipts import acknowledge
from push.relay import hubs, store, texts
from push.relay.models import MemberOutcome, RelayMember, RelayStatus, RelayTask
from push.relay.tasks import add_members, withdraw
from push.relay.views import AckReply, RelayOutcome, task_view
from push.schedule import after_quiet_hours

MAX_EXTERNAL_COUNT = 100_000
MAX_NOTE = 500


def _when(at: datetime | None) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


async def _locked_task(session: AsyncSession, task_id: int) -> RelayTask:
    task = await store.task_by_id(session, task_id, lock=True)
    if task is None:
        raise NotFound(texts.TASK_NOT_FOUND, field="task_id")
    return task


def _outcome(task: RelayTask, changed: bool, message: str, **counts: int) -> RelayOutcome:
    return RelayOutcome(task_view(task, today_in_china()), changed, message, **counts)


async def _live_policy(session: AsyncSession, task: RelayTask) -> PolicyView:
    """The task's policy if it may still be relayed; a repealed one withdraws the task."""
    try:
        policy = await policies.get_policy(session, task.policy_id)
    except NotFound as exc:
        raise NotFound(texts.POLICY_UNKNOWN, field="policy_id") from exc
    if policy.status in texts.POLICY_GONE:
        if task.status == RelayStatus.OPEN:
            await withdraw(session, task, clock.now())
        raise Conflict(texts.WITHDRAWN, field="policy_id")
    if not policy.is_valid:
        raise Conflict(texts.POLICY_NOT_RELEASED, field="policy_id")
    return policy


def _refuse_closed(task: RelayTask) -> None:
    if task.status == RelayStatus.DECLINED:
        raise Conflict(texts.CANNOT_ACT_DECLINED, field="task_id")
    if task.status == RelayStatus.WITHDRAWN:
        raise Conflict(texts.WITHDRAWN, field="task_id")


def _mark_acted(task: RelayTask, actor: str, now: datetime) -> None:
    if task.acted_at is None:
        task.acted_at = now
        task.acted_by = actor[:200]


# -- forward through the system ------------------------------------------------------------


async def forward_through_system(session: AsyncSession, task_id: int, actor: str) -> RelayOutcome:
    """Message every member contact in scope once, marked 由<hub>转达, and credit the hub.

    A member who already has the policy (directly, or through another hub) is not messaged
    again: the hub is credited with that delivery. Members who left the hub, or who have no
    active address any more, are recorded as such and not messaged.
    """
    task = await _locked_task(session, task_id)
    if task.status == RelayStatus.FORWARDED:
        return _outcome(task, False, texts.ALREADY_FORWARDED.format(when=_when(task.forwarded_at)))
    _refuse_closed(task)
    policy = await _live_policy(session, task)
    now = clock.now()
    reachable = {c.key: c for c in await hubs.member_contacts(session, task.hub_id, policy)}
    await add_members(session, task, list(reachable.values()))  # members who joined since the release
    members_now = await hubs.current_member_ids(session, task.hub_id)
    members = [m for m in await store.members_of(session, task.id) if m.outcome == MemberOutcome.PENDING]

    to_message: list[RelayMember] = []
    counts = {"left_hub": 0, "no_address": 0, "already_reached": 0, "queued": 0}
    for m in members:
        if m.enterprise_id is not None and m.enterprise_id not in members_now:
            m.outcome = MemberOutcome.LEFT_HUB
        elif (m.subscriber_id, m.address_id) not in reachable:
            m.outcome = MemberOutcome.NO_ADDRESS
        else:
            to_message.append(m)
            continue
        counts[m.outcome] += 1

    existing = await deliveries.live_policy_deliveries(session, policy.id, [m.address_id for m in to_message])
    rows: list[NewDelivery] = []
    for m in to_message:
        if m.address_id in existing:
            m.outcome, m.delivery_id = MemberOutcome.ALREADY_REACHED, existing[m.address_id]
            counts["already_reached"] += 1
            continue
        preference = reachable[(m.subscriber_id, m.address_id)].recipient.preference
        rows.append(
            NewDelivery(
                policy.id, policy.revision, "relay", m.subscriber_id, m.address_id, m.channel, m.address,
                tuple(reachable[(m.subscriber_id, m.address_id)].recipient.reasons), "subscriber", task.hub_id,
                False, False, after_quiet_hours(now, preference.quiet_start, preference.quiet_end), now,
            )
        )
    await insert_deliveries(session, rows)
    keys = [(r.subscriber_id, r.address_id) for r in rows]
    ids = await deliveries.relay_delivery_ids(session, policy.id, policy.revision, keys)
    for m in to_message:
        if m.outcome == MemberOutcome.PENDING:
            m.outcome, m.delivery_id = MemberOutcome.QUEUED, ids.get((m.subscriber_id, m.address_id))
            counts["queued"] += 1

    task.status = RelayStatus.FORWARDED
    task.forwarded_at = now
    _mark_acted(task, actor, now)
    await store.resolve_escalation(session, task.id, now)
    await session.flush()
    return _outcome(task, True, _forward_message(task, counts), **counts)


def _forward_message(task: RelayTask, counts: dict[str, int]) -> str:
    if not counts["queued"] and not counts["already_reached"]:
        return texts.FORWARDED_NOBODY
    parts = [texts.FORWARDED.format(queued=counts["queued"], hub=task.hub_name).rstrip("。")]
    if counts["already_reached"]:
        parts.append(texts.FORWARDED_EXTRA.format(already=counts["already_reached"]))
    if counts["left_hub"]:
        parts.append(texts.FORWARDED_LEFT.format(left=counts["left_hub"]))
    if counts["no_address"]:
        parts.append(texts.FORWARDED_NO_ADDRESS.format(no_address=counts["no_address"]))
    return "；".join(parts) + "。"


async def forward_from_delivery(session: AsyncSession, delivery_id: int, *, by_address: str | None) -> RelayOutcome:
    """The 转发给会员 button under a pushed policy (callback `fwd:<delivery_id>`).

    `by_address` is the chat the press came from; it must be the hub address the message went to.
    """
    delivery = await deliveries.get_delivery(session, delivery_id)
    if delivery is None:
        raise NotFound(texts.DELIVERY_UNKNOWN, field="delivery_id")
    if delivery.role != "relayer" or delivery.hub_id is None:
        raise ValidationFailed(texts.NOT_A_RELAY_MESSAGE, field="delivery_id")
    if by_address is not None and str(by_address) != delivery.address:
        raise Forbidden(texts.NOT_YOUR_MESSAGE, field="delivery_id")
    task = await store.task_by_key(session, delivery.policy_id, delivery.hub_id)
    if task is None:
        raise NotFound(texts.TASK_NOT_YET, field="delivery_id")
    return await forward_through_system(session, task.id, f"chat:{delivery.channel}")


# -- report and decline --------------------------------------------------------------------


async def report_external_forward(
    session: AsyncSession, task_id: int, count: int, note: str, actor: str
) -> RelayOutcome:
    """Record a forward made outside the system (e.g. the hub's own WeChat group).

    On a forwarded task it adds the external count; a second report corrects the first.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_EXTERNAL_COUNT:
        raise ValidationFailed(texts.COUNT_INVALID, field="count")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(texts.NOTE_TOO_LONG, field="note")
    task = await _locked_task(session, task_id)
    _refuse_closed(task)
    if task.status == RelayStatus.OPEN:
        await _live_policy(session, task)
    now = clock.now()
    correcting = task.reported_at is not None
    task.external_count = count
    task.note = mask_pii(note)  # free text: keep no phone numbers or ID numbers in the ledger
    task.reported_at = now
    if task.status == RelayStatus.OPEN:
        task.status = RelayStatus.REPORTED
    _mark_acted(task, actor, now)
    await store.resolve_escalation(session, task.id, now)
    await session.flush()
    message = (texts.REPORT_UPDATED if correcting else texts.REPORTED).format(count=count)
    return _outcome(task, True, message)


async def decline(session: AsyncSession, task_id: int, reason: str, actor: str) -> RelayOutcome:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(texts.REASON_REQUIRED, field="reason")
    if len(reason) > MAX_NOTE:
        raise ValidationFailed(texts.REASON_TOO_LONG, field="reason")
    task = await _locked_task(session, task_id)
    if task.status == RelayStatus.DECLINED:
        return _outcome(task, False, texts.ALREADY_DECLINED.format(when=_when(task.acted_at)))
    if task.status == RelayStatus.WITHDRAWN:
        raise Conflict(texts.WITHDRAWN, field="task_id")
    if task.status in RelayStatus.DONE:
        raise Conflict(texts.CANNOT_DECLINE_DONE, field="task_id")
    now = clock.now()
    task.status = RelayStatus.DECLINED
    task.note = mask_pii(reason)
    _mark_acted(task, actor, now)
    await store.resolve_escalation(session, task.id, now)
    await session.flush()
    return _outcome(task, True, texts.DECLINED.format(reason=task.note))


# -- members acknowledge -------------------------------------------------------------------


async def acknowledge_member(session: AsyncSession, delivery_id: int, *, by_address: str | None) -> AckReply:
    """确认收到 for any pushed policy, relayed or not, with a clear reply when the policy is
    unknown or no longer applies (then nothing is recorded, so counts stay those of live policies).

    Every hub credited with the delivery counts the acknowledgement (the funnel reads it from
    the delivery row). Raises NotFound for an unknown delivery, Forbidden for someone else's.
    """
    delivery = await deliveries.get_delivery(session, delivery_id)
    if delivery is None:
        raise NotFound(texts.DELIVERY_UNKNOWN, field="delivery_id")
    try:
        policy = await policies.get_policy(session, delivery.policy_id)
    except NotFound:
        return AckReply(False, texts.POLICY_UNKNOWN)
    if policy.status in texts.POLICY_GONE:
        return AckReply(False, texts.POLICY_GONE[policy.status])
    first = await acknowledge(session, delivery_id, by_address=by_address)
    return AckReply(first, texts.ACKNOWLEDGED if first else texts.ALREADY_ACKNOWLEDGED)
