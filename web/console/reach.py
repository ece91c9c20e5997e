"""The reach dashboard of one policy: matched → sent → read → acknowledged, per channel and
per day, from `push.service.reach` once the push pipeline offers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from policies import service as policies
from web import charts
from web.auth import ConsolePrincipal, require_figures
from web.console.common import render
from web.integrations import provides

router = APIRouter(prefix="/console", include_in_schema=False)

CHANNEL_LABELS = {"telegram": "Telegram", "wechat": "微信公众号", "wecom_robot": "企业微信群", "web": "网页"}


@dataclass(frozen=True)
class ReachFigures:
    available: bool
    totals: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)
    per_day: list[tuple[date, int]] = field(default_factory=list)
    hubs: list[Any] = field(default_factory=list)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def _counts(obj: Any) -> dict[str, int]:
    return {key: int(_get(obj, key, 0) or 0) for key, _ in charts.FUNNEL_STAGES} | {
        k: int(_get(obj, k, 0) or 0) for k in ("pending", "failed", "dead", "delivered")}


async def reach_figures(request: Request, policy_id: int) -> ReachFigures:
    push = provides("push.service", "reach")
    if push is None:
        return ReachFigures(available=False)
    async with request.app.state.db.reader() as session:
        result = await push.reach(session, policy_id)
    by_channel_raw = _get(result, "by_channel", {}) or {}
    by_channel = {str(k): _counts(v) for k, v in dict(by_channel_raw).items()}
    per_day_raw = _get(result, "per_day", None) or _get(result, "over_time", []) or []
    per_day = [(d, int(n)) for d, n in (per_day_raw.items() if isinstance(per_day_raw, dict) else per_day_raw)]
    return ReachFigures(available=True, totals=_counts(result), by_channel=by_channel, per_day=per_day,
                        hubs=list(_get(result, "hubs", []) or []))


@router.get("/policies/{policy_id}/reach")
async def reach_dashboard(request: Request, principal: ConsolePrincipal, policy_id: int) -> Response:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
    require_figures(principal, policy.agency)
    figures = await reach_figures(request, policy_id)
    return render(request, "console/reach.html", principal, policy=policy, figures=figures,
                  funnel=charts.funnel(figures.totals), timeline=charts.per_day(figures.per_day),
                  channel_funnels={ch: charts.funnel(c) for ch, c in figures.by_channel.items()},
                  channel_labels=CHANNEL_LABELS)
