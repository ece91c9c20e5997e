"""Item payloads used by several tests, in the JSON form the API and console send."""

from __future__ import annotations

from typing import Any

from core.db import Database
from policies.items import service as items
from policies.items.views import ItemView

STARTUP_GRANT: dict[str, Any] = {
    "name": "一次性创业补贴",
    "benefit": "每户一次性补贴5000元",
    "amount_yuan": 5000,
    "track": "apply",
    "conditions": [
        {"kind": "audience", "codes": ["resident"]},
        {"kind": "age", "low": 16, "high": 45},
        {"kind": "person_group", "codes": ["graduate", "migrant_worker"]},
        {"kind": "text", "text": "正常经营6个月以上"},
    ],
    "apply_url": "https://zwfw.example.gov.cn/item/1",
    "apply_place": "县政务服务中心3号窗口",
    "materials": "营业执照、身份证明",
    "deadline": "2026-12-31",
    "phone": "0954-5012345",
}

HIGH_TECH_AWARD: dict[str, Any] = {
    "name": "高新技术企业认定奖励",
    "benefit": "首次认定的一次性奖励10万元",
    "amount_yuan": 100000,
    "track": "auto",
    "conditions": [
        {"kind": "audience", "codes": ["enterprise"]},
        {"kind": "qualification", "codes": ["high_tech"]},
        {"kind": "township", "codes": ["xiangshui"]},
    ],
    "deadline": "2026-10-31",
    "phone": "0954-5016789",
}

SME_LOAN_SUBSIDY: dict[str, Any] = {
    "name": "小微企业贷款贴息",
    "benefit": "按贷款利息的30%贴息，封顶10万元",
    "rate_percent": 30,
    "cap_yuan": 100000,
    "track": "fast",
    "conditions": [
        {"kind": "audience", "codes": ["enterprise"]},
        {"kind": "industry", "codes": ["C", "H"]},
        {"kind": "size", "codes": ["micro", "small"]},
        {"kind": "registration_age", "high": 5},
    ],
    "apply_url": "https://zwfw.example.gov.cn/item/3",
    "deadline": "2026-06-30",
    "phone": "0954-5011111",
}


async def save_items(db: Database, policy_id: int, payload: list[dict[str, Any]], *, actor: str = "editor",
                     change_summary: str = "") -> list[ItemView]:
    async with db.session() as session:
        return await items.set_items(session, policy_id, items.parse_items(payload), actor, change_summary)
