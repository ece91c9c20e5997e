"""The one read model of a delivery row outside the ORM: what the queue claims, what a button
press or a tracked link refers to (`push.views.DeliveryView`)."""

from __future__ import annotations

from dataclasses import dataclass

from push.models import Delivery, DeliveryStatus


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    policy_id: int
    revision: int
    kind: str
    subscriber_id: int
    address_id: int
    channel: str
    address: str
    reasons: tuple[str, ...]
    role: str
    hub_id: int | None
    digest: bool
    attempts: int  # a claimed row's count includes the attempt just claimed
    status: str = DeliveryStatus.SENDING  # what the claim made it, or the row's status when read

    @classmethod
    def of(cls, row: Delivery) -> DeliveryView:
        return cls(
            row.id, row.policy_id, row.revision, row.kind, row.subscriber_id, row.address_id, row.channel,
            str(row.address), tuple(row.reasons or ()), row.role, row.hub_id, bool(row.digest), row.attempts,
            row.status,
        )
