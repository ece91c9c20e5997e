"""Builders of real rows through the real service functions (no shortcuts into tables)."""

from __future__ import annotations

from typing import Any

from core.db import Database
from policies import service as policies
from policies.service import AmendmentInput, DraftInput, InterpretationInput
from policies.views import PolicyView

FULL_INTERPRETATION = InterpretationInput(
    elements={
        "background": "为贯彻落实稳就业政策，根据上级文件制定本办法。",
        "goals": "支持高校毕业生和农民工返乡创业。",
        "key_points": "一次性创业补贴每户5000元。",
        "differences": "补贴标准由3000元提高到5000元。",
        "scope": "全县范围内首次创业的个人。",
        "standards": "按每户5000元的标准一次性发放。",
        "notes": "申请人须在申报期内提交材料。",
        "benefits": "减轻创业初期负担。",
        "eligibility": "首次创业并正常经营6个月以上。",
        "keywords": "一次性创业补贴",
    },
    unit="泾源县人力资源和社会保障局",
    phone="0954-5012345",
)


def draft_input(**fields: Any) -> DraftInput:
    values: dict[str, Any] = {
        "title": "泾源县一次性创业补贴实施办法",
        "body": "对在本县首次创业、正常经营6个月以上的高校毕业生、农民工，给予一次性创业补贴5000元。",
        "agency": "泾源县人力资源和社会保障局",
        "topics": ["employment"],
        "audience": "resident",
        "interpretation": FULL_INTERPRETATION,
    }
    values.update(fields)
    return DraftInput(**values)


async def make_draft(db: Database, *, author: str = "editor", **fields: Any) -> PolicyView:
    async with db.session() as session:
        return await policies.create_draft(session, draft_input(**fields), author)


async def make_published_policy(
    db: Database, *, author: str = "editor", reviewer: str = "reviewer", **fields: Any
) -> PolicyView:
    """Draft → submit → approve → publish, through the service, each step its own transaction."""
    draft = await make_draft(db, author=author, **fields)
    async with db.session() as session:
        await policies.submit(session, draft.id, author)
    async with db.session() as session:
        await policies.approve(session, draft.id, reviewer)
    async with db.session() as session:
        return await policies.publish(session, draft.id, author)


async def amend_policy(
    db: Database,
    policy_id: int,
    *,
    body: str = "修订后的正文：补贴提高到6000元。",
    change_summary: str = "补贴标准由5000元提高到6000元",
    actor: str = "editor",
) -> PolicyView:
    async with db.session() as session:
        return await policies.amend(session, policy_id, AmendmentInput(body=body, change_summary=change_summary), actor)


async def repeal_policy(
    db: Database, policy_id: int, *, reason: str = "已被新政策替代", actor: str = "editor"
) -> PolicyView:
    async with db.session() as session:
        return await policies.repeal(session, policy_id, reason, actor)
