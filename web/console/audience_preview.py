"""The audience dry run shown before publishing, from `subscriptions.service.dry_run`
once that service exists (it is being built alongside)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.db import Database
from policies.views import PolicyView
from web.integrations import provides


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


def _get(obj: Any, name: str, default: Any) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


async def preview(db: Database, policy: PolicyView) -> AudiencePreview:
    subscriptions = provides("subscriptions.service", "dry_run")
    if subscriptions is None:
        return AudiencePreview(available=False)
    async with db.reader() as session:
        result = await subscriptions.dry_run(session, policy)
    by_channel = dict(_get(result, "by_channel", {}) or {})
    reasons = dict(_get(result, "by_reason", {}) or {})
    return AudiencePreview(
        available=True,
        total=int(_get(result, "subscribers", 0) or 0),
        recipients=int(_get(result, "recipients", 0) or 0),
        relayers=int(_get(result, "relayers", 0) or 0),
        by_channel=by_channel,
        reasons=sorted(reasons.items(), key=lambda kv: -kv[1]),
        townships=sorted(dict(_get(result, "by_township", {}) or {}).items(), key=lambda kv: -kv[1]),
        excluded_because=str(_get(result, "excluded_because", "") or ""),
        raw=result,
    )
