"""Policies past their expiry date become expired by themselves.

`policies.service.expire_due` flips them and writes an `expired` outbox event in the same
transaction; the fan-out turns that event into a notice to everyone who received the policy
(and cancels their queued copies), like a repeal. Waking the pipeline skips its poll wait.
"""

from __future__ import annotations

import logging
from datetime import date

from core.db import Database
from policies import service as policies
from push.wakeup import wake

log = logging.getLogger(__name__)


async def expire_policies(db: Database, today: date) -> list[int]:
    async with db.session() as session:
        expired = await policies.expire_due(session, today)
    if expired:
        log.info("expired %d policies: %s", len(expired), expired)
        wake()
    return expired
