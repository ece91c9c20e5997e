"""The reach dashboard of one policy: matched → sent → read → acknowledged, per channel and
per day (`push.service.reach`, `push.service.sent_per_day`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from policies import service as policies
from push import service as push
from push.service import posters, sent_per_day
from vocabulary.labels import labels
from web import charts
from web.auth import ConsolePrincipal, require_figures, require_visible
from web.console.common import PathId, render

router = APIRouter(prefix="/console", include_in_schema=False)

CHANNEL_LABELS = labels("channel")


@dataclass(frozen=True)
class ReachFigures:
    available: bool
    totals: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)
    per_day: list[tuple[date, int]] = field(default_factory=list)
    hubs: list[Any] = field(default_factory=list)


async def reach_figures(request: Request, policy_id: int) -> ReachFigures:
    async with request.app.state.db.reader() as session:
        counts = await push.reach(session, policy_id)
        per_day = await sent_per_day(session, policy_id)
    stages = [key for key, _ in charts.FUNNEL_STAGES] + ["pending", "failed", "dead", "delivered"]

    def pick(source: dict[str, Any]) -> dict[str, int]:
        return {key: int(source.get(key, 0) or 0) for key in stages}

    by_channel = {str(channel): pick(values) for channel, values in counts["by_channel"].items()}
    return ReachFigures(available=True, totals=pick(counts), by_channel=by_channel, per_day=per_day)


@router.get("/policies/{policy_id}/reach")
async def reach_dashboard(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
    require_visible(principal, policy)
    require_figures(principal, policy.agency)
    figures = await reach_figures(request, policy_id)
    async with request.app.state.db.reader() as session:
        poster_rows = await posters.posters_with_counts(session, policy_id)
    return render(request, "console/reach.html", principal, policy=policy, figures=figures,
                  funnel=charts.funnel(figures.totals), timeline=charts.per_day(figures.per_day),
                  channel_funnels={ch: charts.funnel(c) for ch, c in figures.by_channel.items()},
                  channel_labels=CHANNEL_LABELS, poster_rows=poster_rows)
