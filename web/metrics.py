"""GET /metrics: Prometheus text format for monitoring (no personal data in any label).

The pipeline's state is read from the database at scrape time (`push.service.pipeline_gauges`);
latencies and counters come from this process (`core.metrics`). With `METRICS_TOKEN` set, a
scraper must send `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core import clock, metrics
from push import service as push

router = APIRouter(include_in_schema=False)


class _Snapshot(Collector):
    """Yields gauges already read from the database (a collector cannot await)."""

    def __init__(self, gauges: push.PipelineGauges) -> None:
        self.gauges = gauges

    def collect(self) -> Iterable[GaugeMetricFamily]:
        g = self.gauges
        rows = GaugeMetricFamily("policy_direct_deliveries", "Delivery rows by channel and status",
                                 labels=["channel", "status"])
        for (channel, status), count in sorted(g.deliveries.items()):
            rows.add_metric([channel, status], count)
        yield rows
        yield GaugeMetricFamily("policy_direct_queue_due", "Pending deliveries whose time has come", value=g.due)
        yield GaugeMetricFamily("policy_direct_queue_oldest_due_age_seconds",
                                "How long the oldest due delivery has been waiting (0: none)",
                                value=g.oldest_due_age_seconds)
        relay = GaugeMetricFamily("policy_direct_relay_tasks", "Relay tasks waiting for their hub (open) and past "
                                  "their deadline (overdue)", labels=["state"])
        relay.add_metric(["open"], g.relay_open)
        relay.add_metric(["overdue"], g.relay_overdue)
        yield relay


def _authorised(request: Request, token: str) -> bool:
    if not token:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@router.get("/metrics")
async def scrape(request: Request) -> Response:
    if not _authorised(request, request.app.state.settings.metrics_token):
        return JSONResponse({"error": "需要监控令牌：请在请求头 Authorization 中提供 Bearer 令牌（METRICS_TOKEN）。",
                             "field": "authorization"}, status_code=401)
    async with request.app.state.db.reader() as session:
        gauges = await push.pipeline_gauges(session, clock.now())
    snapshot = CollectorRegistry()
    snapshot.register(_Snapshot(gauges))
    body = generate_latest(metrics.REGISTRY) + generate_latest(snapshot)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
