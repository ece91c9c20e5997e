"""The policy steps the REST API and the console both take, written once: open the unit of
work, check that the principal may edit the policy's agency, act, and after the commit wake
the fan-out so a release goes out now rather than at the next poll.

What the caller sent (an amendment, a repeal's reason) is read through a callable, only
after the role check: a refused caller learns nothing about its form or body, and the
console's "tick to confirm" check runs at that same point.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from policies import service as policies
from policies.views import PolicyView
from push import service as push
from web.accounts import Principal
from web.auth import require_edit


async def _check_editor(session: AsyncSession, principal: Principal, policy_id: int) -> None:
    require_edit(principal, (await policies.get_policy(session, policy_id)).agency)


async def submit(db: Database, principal: Principal, policy_id: int) -> PolicyView:
    async with db.session() as session:
        await _check_editor(session, principal, policy_id)
        return await policies.submit(session, policy_id, principal.actor)


async def publish(db: Database, principal: Principal, policy_id: int) -> PolicyView:
    async with db.session() as session:
        await _check_editor(session, principal, policy_id)
        view = await policies.publish(session, policy_id, principal.actor)
    push.wake()  # committed: fan out now rather than at the next poll
    return view


async def amend(db: Database, principal: Principal, policy_id: int,
                amendment: Callable[[], policies.AmendmentInput]) -> PolicyView:
    async with db.session() as session:
        await _check_editor(session, principal, policy_id)
        view = await policies.amend(session, policy_id, amendment(), principal.actor)
    push.wake()  # committed: fan out now rather than at the next poll
    return view


async def repeal(db: Database, principal: Principal, policy_id: int, reason: Callable[[], str]) -> PolicyView:
    async with db.session() as session:
        await _check_editor(session, principal, policy_id)
        view = await policies.repeal(session, policy_id, reason(), principal.actor)
    push.wake()  # committed: fan out now rather than at the next poll
    return view
