"""The audience dry run shown before publishing (`subscriptions.service.dry_run`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.db import Database
from policies.views import PolicyView
from subscriptions import service as subscriptions


@dataclass(frozen=True)
class AudiencePreview:
    available: bool
    total: int = 0  # distinct contacts
    recipients: int = 0  # (contact, address) pairs: messages that would be sent
    relayers: int = 0  # hub contacts asked to relay to their members
    by_channel: dict[str, int] = field(default_factory=dict)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    townships: list[tuple[str, int]] = field(default_factory=list)
    excluded_because: str = ""
    raw: Any = None


async def preview(db: Database, policy: PolicyView) -> AudiencePreview:
    async with db.reader() as session:
        result = await subscriptions.dry_run(session, policy)
    return AudiencePreview(
        available=True,
        total=result.subscribers,
        recipients=result.recipients,
        relayers=result.relayers,
        by_channel=dict(result.by_channel),
        reasons=sorted(result.by_reason.items(), key=lambda kv: -kv[1]),
        townships=sorted(result.by_township.items(), key=lambda kv: -kv[1]),
        excluded_because=result.excluded_because,
        raw=result,
    )
