"""`/q/{code}`: a scan of a printed poster's QR code (work-plan item 49).

The signed code is checked, the scan is recorded as a "poster scan" hop (once per visitor and
day; no address is kept), and the visitor sees the policy's key points with 订阅此类 and
我要咨询, which open the web chat carrying the poster so that what follows is credited to it.
A repealed or expired policy's poster says so and links its successor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from core.secret_key import secret_key
from policies import service as policies
from push.service import posters
from web.api.rate_limit import SlidingWindowLimiter
from web.templating import templates

router = APIRouter(include_in_schema=False)

# Scans counted per network address and minute: a villager is never turned away (many phones
# share a carrier's address), but a script cannot inflate a poster's figures beyond this.
SCANS_COUNTED_PER_MINUTE = 30


def _scan_counter(request: Request) -> SlidingWindowLimiter:
    counter = getattr(request.app.state, "poster_scan_counter", None)
    if counter is None:
        counter = request.app.state.poster_scan_counter = SlidingWindowLimiter(SCANS_COUNTED_PER_MINUTE, 60.0)
    return counter  # type: ignore[no-any-return]


@router.get("/q/{code}")
async def poster_scan(request: Request, code: Annotated[str, Path(max_length=40)]) -> Response:
    settings = request.app.state.settings
    secret = secret_key(settings)
    user_agent = request.headers.get("user-agent", "")
    ip = request.client.host if request.client else "-"
    async with request.app.state.db.session() as session:
        outcome = await posters.open_scan(session, code, secret, ip=ip, user_agent=user_agent,
                                          record=_scan_counter(request).retry_after(ip) == 0)
    if outcome.poster is None:
        return templates.TemplateResponse(request, "public/poster_refused.html", {}, status_code=404)
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, outcome.poster.policy_id)
        if not policy.is_valid:
            successor = await posters.successor_of(session, policy)
            return templates.TemplateResponse(request, "public/poster_gone.html", {
                "policy": policy, "successor": successor, "poster": outcome.poster,
            }, status_code=410)
        points = await posters.policy_key_points(session, policy, settings.consultation_phone)
    start = posters.chat_payload(outcome.poster.id, secret)
    return templates.TemplateResponse(request, "public/poster_scan.html", {
        "policy": policy, "points": points, "poster": outcome.poster,
        "subscribe_url": f"/chat?start={start}", "ask_url": f"/chat?start={start}",
    })
