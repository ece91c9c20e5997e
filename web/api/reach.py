"""`GET /api/policies/{id}/reach`: the policy's reach figures from the push pipeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from policies import service as policies
from push import service as push
from web.api.common import ERROR_RESPONSES, PolicyId
from web.auth import ApiPrincipal, require_figures, require_visible

router = APIRouter(prefix="/api/policies", tags=["推送与触达"], responses=ERROR_RESPONSES)


class ReachCounts(BaseModel):
    matched: int = Field(0, description="匹配到的地址数")
    queued: int = Field(0, description="排队待发")
    sent: int = Field(0, description="平台已接收")
    failed: int = 0
    dead: int = Field(0, description="多次重试仍失败（投递失败）")
    cancelled: int = 0
    read: int = Field(0, description="打开了跟踪链接")
    acknowledged: int = Field(0, description="点击了“确认收到”")


class ReachOut(ReachCounts):
    policy_id: int
    by_channel: dict[str, ReachCounts] = Field(default_factory=dict,
                                               examples=[{"telegram": {"matched": 10, "sent": 9, "read": 4}}])


@router.get("/{policy_id}/reach", summary="政策的推送与触达数据（总体与按渠道）")
async def reach(request: Request, principal: ApiPrincipal, policy_id: PolicyId) -> ReachOut:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
        require_visible(principal, policy)
        require_figures(principal, policy.agency)
        figures = await push.reach(session, policy_id)
    return ReachOut.model_validate(figures)
