"""Asking the policy library: `GET /api/ask`, 有用/没用 feedback, and what went unanswered.

Asking and feedback are public reads like the policy pages (residents ask from the website
without an account; the government site may call them from its own pages), limited per
client address (`web.api.rate_limit`). Every question is logged with its time and channel
("api"); the most frequent unanswered ones are for departments, with a token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from policies.service import qa
from policies.views import Answer, Passage, PolicyRef
from web.api.common import ERROR_RESPONSES
from web.api.engine import engine_of
from web.api.fields import MAX_ID, NO_NUL, _storable
from web.api.rate_limit import limit_public_asks
from web.auth import ApiPrincipal, require_role
from web.models import Role

router = APIRouter(prefix="/api", tags=["政策问答"], responses=ERROR_RESPONSES)

# Longer text is accepted and answered from its first words (the engine says so in the reply).
MAX_QUESTION_CHARS = 2000
CHANNEL = "api"

Question = Annotated[str, Query(max_length=MAX_QUESTION_CHARS, pattern=NO_NUL,
                                description="问题原文（口语、繁体、文号均可）",
                                examples=["公租房谁能申请"]), AfterValidator(_storable)]
Comment = Annotated[str, Field(max_length=1000, pattern=NO_NUL), AfterValidator(_storable)]
TOO_MANY = {429: {"description": "提问过于频繁（响应头 Retry-After 为需等待的秒数）"}}


class PolicyRefOut(BaseModel):
    id: int = Field(examples=[12])
    title: str = Field(examples=["泾源县公共租赁住房管理办法"])
    doc_no: str | None = Field(examples=["泾政办规发〔2023〕3号"])
    agency: str = Field(examples=["泾源县住房和城乡建设局"])
    status: str = Field(description="published 有效 / expired 已失效 / repealed 已废止", examples=["published"])
    validity_label: str = Field(examples=["有效"])
    url: str = Field(description="公开政策页面", examples=["http://127.0.0.1:8080/p/12"])

    @classmethod
    def of(cls, ref: PolicyRef, base: str) -> PolicyRefOut:
        return cls(id=ref.policy_id, title=ref.title, doc_no=ref.doc_no, agency=ref.agency, status=ref.status,
                   validity_label=ref.validity_label, url=f"{base}{ref.page_path}")


class PassageOut(BaseModel):
    text: str = Field(examples=["申请公共租赁住房应当具有本县城镇户籍或在本县稳定就业。"])
    source: str = Field(description="摘自：正文或解读要素名称", examples=["正文"])
    marks: list[tuple[int, int]] = Field(description="与问题匹配的字词位置 [起, 止)（按字符计）",
                                         examples=[[[2, 8]]])
    marked: str = Field(description="用【】标出匹配字词的文本", examples=["【申请公共租赁住房】应当具有本县城镇户籍。"])

    @classmethod
    def of(cls, passage: Passage) -> PassageOut:
        return cls(text=passage.text, source=passage.source, marks=[tuple(m) for m in passage.marks],  # type: ignore[misc]
                   marked=passage.marked())


class AnswerOut(BaseModel):
    kind: str = Field(description="faq 知识库答案 / policy 政策原文 / choices 您可能想问（policy 为第一个选项，"
                      "alternatives 为其余选项） / not_found 未找到（附咨询电话） / invalid 无法理解的输入 / "
                      "small_talk 问候、致谢、转人工等（附咨询电话，不计入未答问题）", examples=["policy"])
    question: str = Field(description="规范化后的问题（繁转简、截断）", examples=["公租房谁能申请"])
    text: str = Field(description="可直接展示的完整中文回答",
                      examples=["根据《泾源县公共租赁住房管理办法》（泾政办规发〔2023〕3号，泾源县住房和城乡建设局，有效）：…"])
    policy: PolicyRefOut | None = None
    passage: PassageOut | None = None
    alternatives: list[PolicyRefOut] = Field(default_factory=list,
                                             description="问题有歧义时的其他可能政策（最多 3 个）")
    faq_id: int | None = None
    faq_answer: str | None = None
    phone: str | None = Field(None, description="未找到答案时给出的政策咨询电话", examples=["12345"])
    answer_id: int | None = Field(None, description="反馈（有用/没用）时引用的编号", examples=[345])
    answered: bool

    @classmethod
    def of(cls, answer: Answer, base: str) -> AnswerOut:
        return cls(kind=answer.kind, question=answer.question, text=answer.text,
                   policy=PolicyRefOut.of(answer.policy, base) if answer.policy else None,
                   passage=PassageOut.of(answer.passage) if answer.passage else None,
                   alternatives=[PolicyRefOut.of(p, base) for p in answer.alternatives], faq_id=answer.faq_id,
                   faq_answer=answer.faq_answer, phone=answer.phone, answer_id=answer.answer_id,
                   answered=answer.answered)


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    useful: bool = Field(description="true 有用 / false 没用", examples=[True])
    comment: Comment = Field("", description="补充意见（可选）", examples=["材料清单写得很清楚"])


class FeedbackOut(BaseModel):
    answer_id: int
    useful: bool


class UnansweredOut(BaseModel):
    text: str = Field(description="规范化后的问题", examples=["护照怎么办理"])
    count: int = Field(examples=[7])
    last_asked_at: datetime
    channels: list[str] = Field(examples=[["telegram", "web"]])


def _base(request: Request) -> str:
    return request.app.state.settings.effective_public_base_url  # type: ignore[no-any-return]


@router.get("/ask", summary="提问（公开，按来源地址限频）", dependencies=[Depends(limit_public_asks)],
            responses=TOO_MANY)
async def ask(request: Request, q: Question = "") -> AnswerOut:
    """Never fails on the text itself: empty, emoji, English or pasted articles get a clear
    answer (`kind` invalid, or a note that only the first words were used)."""
    engine = await engine_of(request)
    async with request.app.state.db.session() as session:
        answer = await qa.answer(session, engine, q, channel=CHANNEL)
    return AnswerOut.of(answer, _base(request))


AnswerId = Annotated[int, Path(ge=1, le=MAX_ID, description="回答编号（/api/ask 返回的 answer_id）")]


@router.post("/answers/{answer_id}/feedback", summary="对回答评价：有用 / 没用（公开；再次评价覆盖）",
             dependencies=[Depends(limit_public_asks)], responses=TOO_MANY)
async def feedback(request: Request, answer_id: AnswerId, body: FeedbackIn) -> FeedbackOut:
    async with request.app.state.db.session() as session:
        await qa.record_feedback(session, answer_id, body.useful, body.comment)
    return FeedbackOut(answer_id=answer_id, useful=body.useful)


@router.get("/questions/unanswered", summary="高频未答问题（部门用）")
async def unanswered(
    request: Request,
    principal: ApiPrincipal,
    limit: Annotated[int, Query(ge=1, le=200, description="条数")] = 20,
) -> list[UnansweredOut]:
    require_role(principal, Role.EDITOR, Role.REVIEWER, Role.VIEWER)
    async with request.app.state.db.reader() as session:
        rows = await qa.top_unanswered(session, limit)
    return [UnansweredOut(text=r.text, count=r.count, last_asked_at=r.last_asked_at, channels=list(r.channels))
            for r in rows]
