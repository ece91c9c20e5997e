"""What a delivery worker keeps between its stages: the policies its claimed rows refer to, the
leases it holds; and the address side effects of what the platforms answered."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from core.db import Database
from policies import service as policies
from push.channels.base import PolicyItem, SendResult
from push.dao import deliveries
from push.dao.rows import DeliveryView
from push.dao.writing import writing
from subscriptions import service as subscriptions

log = logging.getLogger("push.worker")  # its lines read as the worker's

POLICY_CACHE_SIZE = 256


class PolicyCache:
    """Policy views and change summaries per (policy, revision), read once per batch."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._items: dict[tuple[int, int], tuple[Any, str]] = {}

    async def load(self, items: Sequence[DeliveryView]) -> None:
        missing = {(i.policy_id, i.revision) for i in items} - self._items.keys()
        if not missing:
            return
        async with self.db.reader() as session:
            for policy_id, revision in sorted(missing):
                try:
                    view = await policies.get_policy(session, policy_id)
                    summary = ""
                    if revision > 1:
                        summary = (await policies.get_revision(session, policy_id, revision)).change_summary
                except Exception as exc:  # noqa: BLE001 - a vanished policy fails its rows, not the worker
                    self._items[(policy_id, revision)] = (None, f"政策不存在或无法读取：{exc}")
                    continue
                self._items[(policy_id, revision)] = (view, summary)
        while len(self._items) > POLICY_CACHE_SIZE:
            self._items.pop(next(iter(self._items)))

    def get(self, policy_id: int, revision: int) -> tuple[Any, str]:
        return self._items.get((policy_id, revision), (None, "政策信息未加载"))

    def forget(self) -> None:
        self._items.clear()

    def item(self, row: DeliveryView, link: str) -> PolicyItem:
        """The row's policy as a message item; LookupError (with the reason) if it cannot be read."""
        policy, summary = self.get(row.policy_id, row.revision)
        if policy is None:
            raise LookupError(summary)
        return PolicyItem(
            policy_id=policy.id,
            title=policy.title,
            doc_no=policy.doc_no,
            agency=policy.agency,
            validity_label=policy.validity_label,
            who_qualifies=policy.who_qualifies,
            benefits=policy.benefits,
            application_closes=policy.application_closes,
            link=link,
            change_summary=summary if row.kind == "amended" else "",
        )


class Leases:
    """Rows this worker holds (claimed, not yet recorded) with the lease each has in the database,
    and until when (loop clock) each may still be sent: most of its lease, from the last renewal."""

    def __init__(self) -> None:
        self.until: dict[int, datetime] = {}
        self.send_by: dict[int, float] = {}

    def hold(self, ids: Iterable[int], lease_until: datetime, send_by: float) -> None:
        for row_id in ids:
            self.until[row_id] = lease_until
            self.send_by[row_id] = send_by

    def forget(self, ids: Iterable[int]) -> None:
        for row_id in ids:
            self.until.pop(row_id, None)
            self.send_by.pop(row_id, None)

    def sendable(self, unit: Sequence[DeliveryView], now: float) -> bool:
        return all(self.send_by.get(row.id, -1.0) >= now for row in unit)

    def by_lease(self) -> dict[datetime, list[int]]:
        groups: dict[datetime, list[int]] = {}
        for row_id, until in self.until.items():
            groups.setdefault(until, []).append(row_id)
        return groups


async def apply_address_changes(db: Database, changes: Sequence[tuple[DeliveryView, SendResult]]) -> None:
    """Deactivate dead addresses (and cancel their queue) or follow migrated chats."""
    for item, result in changes:
        try:
            async with writing(db) as session:
                if result.new_address:
                    await subscriptions.replace_address(session, item.address_id, result.new_address)
                    await deliveries.move_address(session, item.address_id, result.new_address)
                else:
                    reason = result.error or "接收地址已失效"
                    await subscriptions.deactivate_address(session, item.address_id, reason)
                    await deliveries.cancel_pending_for_address(session, item.address_id, f"接收地址已停用：{reason}")
        except Exception:
            log.exception("delivery %s: could not update address %s", item.id, item.address_id)
