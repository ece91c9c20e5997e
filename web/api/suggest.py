"""`POST /api/suggest`: tag suggestions and personal-data findings for a draft text."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from web import drafting
from web.api.common import ERROR_RESPONSES
from web.api.fields import LongText, ShortText
from web.auth import ApiPrincipal

router = APIRouter(prefix="/api", tags=["起草辅助"], responses=ERROR_RESPONSES)


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: ShortText = Field("", examples=["泾源县支持高新技术企业研发投入的若干措施"])
    text: LongText = Field(examples=["对认定为高新技术企业的，一次性奖励10万元。联系人张三，电话13912345678。"])


class TagOut(BaseModel):
    code: str
    name: str


class TopicOut(TagOut):
    score: float
    triggers: list[str]


class PiiOut(BaseModel):
    field: str = Field(description="title 或 text")
    kind: str = Field(examples=["mobile"])
    label: str = Field(examples=["手机号码"])
    line: int
    column: int
    start: int
    end: int
    masked: str = Field(description="遮盖后的写法", examples=["139****5678"])
    message: str


class SuggestOut(BaseModel):
    topics: list[TopicOut]
    keywords: list[str]
    audience: str
    regions: list[TagOut]
    eligibility: list[TagOut]
    industries: list[TagOut]
    pii: list[PiiOut] = Field(description="发现的个人信息；发布前须删除或遮盖")
    masked_text: str = Field(description="遮盖个人信息后的正文")


@router.post("/suggest", summary="标签建议与个人信息检查")
async def suggest(principal: ApiPrincipal, draft: SuggestIn) -> SuggestOut:
    # jieba is CPU-bound; keep the event loop free for other requests.
    analysis = await asyncio.to_thread(drafting.analyse, draft.title, draft.text)
    masked = await asyncio.to_thread(drafting.mask, draft.text)
    body = asdict(analysis)
    for item in body["pii"]:
        if item["field"] == "body":
            item["field"] = "text"
    return SuggestOut(**body, masked_text=masked)
