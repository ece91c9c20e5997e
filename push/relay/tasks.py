"""Relay tasks from the policies outbox: one task per (policy, hub), created idempotently.

published  every hub with members in scope gets a task due `working_days` working days after
           the release, with a snapshot of its member contacts in scope
amended    hubs newly in scope get a task; open tasks gain members newly in scope
repealed / expired  open tasks are withdrawn (nothing left to relay; no reminder, no escalation)

`sync_relay_tasks(db)` consumes new events after its own cursor (table `relay_cursor`), each
batch in one transaction with the cursor, so a crash repeats a batch harmlessly.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.clock import today_in_china
from core.db import Database
from core.errors import NotFound
from core.workdays import add_working_days, previous_working_day
from policies import service as policies
from policies.views import PolicyView
from push.relay import hubs, store
from push.relay.hubs import MemberContact
from push.relay.models import MemberOutcome, RelayStatus, RelayTask
from subscriptions import service as subscriptions

log = logging.getLogger(__name__)

DEFAULT_DEADLINE_WORKING_DAYS = 3
WITHDRAWING_EVENTS = ("repealed", "expired")


def deadline(released_on: date, working_days: int = DEFAULT_DEADLINE_WORKING_DAYS) -> tuple[date, date]:
    """(due_on, remind_on): due `working_days` working days after release, reminded one before."""
    due_on = add_working_days(released_on, max(1, working_days))
    return due_on, max(released_on, previous_working_day(due_on))


def interpretation_path(policy_id: int) -> str:
    # The public page shows the interpretation under this anchor (as the push buttons link it).
    return f"/p/{policy_id}#interpretation"


async def create_relay_tasks_for_event(
    session: AsyncSession, event: Any, *, working_days: int = DEFAULT_DEADLINE_WORKING_DAYS
) -> list[int]:
    """Apply one `PolicyEventView` to relay tasks; returns ids of tasks created now. Idempotent."""
    if event.kind in WITHDRAWING_EVENTS:
        await withdraw_open_tasks(session, event.policy_id)
        return []
    if event.kind not in ("published", "amended"):
        return []
    try:
        policy = await policies.get_policy(session, event.policy_id)
    except NotFound:
        return []
    if not policy.is_valid:  # repealed or expired since: its own event withdraws the tasks
        return []
    created: list[int] = []
    released_on = today_in_china(event.created_at)
    for hub_id in sorted(await hubs.relayer_addresses(session, policy)):
        task, is_new = await _ensure_task(session, policy, hub_id, event.id, released_on, working_days)
        if is_new:
            created.append(task.id)
        if task.status == RelayStatus.OPEN:
            await add_members(session, task, await hubs.member_contacts(session, hub_id, policy))
    return created


async def _ensure_task(
    session: AsyncSession, policy: PolicyView, hub_id: int, event_id: int, released_on: date, working_days: int
) -> tuple[RelayTask, bool]:
    hub = await subscriptions.get_hub(session, hub_id)
    due_on, remind_on = deadline(released_on, working_days)
    is_new = await store.insert_task(
        session,
        {
            "policy_id": policy.id, "hub_id": hub_id, "event_id": event_id, "hub_name": hub.name,
            "hub_kind": hub.kind, "policy_title": policy.title[:300], "doc_no": policy.doc_no or "",
            "agency": policy.agency, "interpretation_path": interpretation_path(policy.id),
            "released_on": released_on, "due_on": due_on, "remind_on": remind_on,
            "status": RelayStatus.OPEN, "acted_by": "", "external_count": 0, "note": "",
            "hub_unreachable": False, "created_at": clock.now(),
        },
    )
    task = await store.task_by_key(session, policy.id, hub_id)
    assert task is not None
    return task, is_new


async def add_members(session: AsyncSession, task: RelayTask, contacts: list[MemberContact]) -> int:
    """Add member contacts to the task's snapshot (existing ones are kept as they are)."""
    now = clock.now()
    return await store.insert_members(
        session,
        [
            {
                "task_id": task.id, "enterprise_id": c.enterprise_id, "enterprise_name": c.enterprise_name[:200],
                "credit_code": c.credit_code, "subscriber_id": c.recipient.subscriber_id,
                "contact_name": c.contact_name[:120], "address_id": c.recipient.address_id,
                "channel": c.recipient.channel, "address": c.recipient.address,
                "reasons": "；".join(c.recipient.reasons), "outcome": MemberOutcome.PENDING,
                "delivery_id": None, "added_at": now,
            }
            for c in contacts
        ],
    )


async def withdraw_open_tasks(session: AsyncSession, policy_id: int) -> int:
    now = clock.now()
    tasks = await store.open_tasks_of_policy(session, policy_id)
    for task in tasks:
        await withdraw(session, task, now)
    return len(tasks)


async def withdraw(session: AsyncSession, task: RelayTask, now: datetime) -> None:
    task.status = RelayStatus.WITHDRAWN
    await store.resolve_escalation(session, task.id, now)


async def sync_relay_tasks(
    db: Database, *, working_days: int = DEFAULT_DEADLINE_WORKING_DAYS, batch_size: int = 50
) -> int:
    """Consume every outbox event not yet seen; returns how many tasks were created.

    Cheap when there is nothing new: a read-only look at the outbox comes first, so calling it
    after every fan-out round does not take SQLite's single write lock from the delivery workers."""
    async with db.reader() as session:
        if not await policies.events_after(session, await store.cursor_position(session), limit=1):
            return 0
    created = 0
    while True:
        async with db.session() as session:
            cursor = await store.cursor_for_update(session, clock.now())
            events = await policies.events_after(session, cursor.last_event_id, limit=batch_size)
            for event in events:
                created += len(await create_relay_tasks_for_event(session, event, working_days=working_days))
                cursor.last_event_id = event.id
            cursor.updated_at = clock.now()
        if len(events) < batch_size:
            return created
