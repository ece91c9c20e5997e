"""Request and response models of the policy API, with examples for the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.service import AmendmentInput, DraftInput, InterpretationInput
from policies.views import InterpretationView, PolicyView, RevisionView
from web.api.fields import Code, Label, LongText, ShortText

EXAMPLE_ELEMENTS = {
    "background": "为贯彻落实稳就业政策，根据上级文件制定本办法。",
    "goals": "支持高校毕业生和农民工返乡创业。",
    "key_points": "一次性创业补贴每户5000元。",
    "scope": "全县范围内首次创业的个人。",
    "standards": "按每户5000元的标准一次性发放。",
    "notes": "申请人须在申报期内提交材料。",
}


class InterpretationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    elements: dict[Code, LongText] = Field(
        default_factory=dict,
        description="解读要素：background 背景依据、goals 目标任务、key_points 主要内容、differences 新旧差异、"
        "scope 影响范围、standards 执行标准、notes 注意事项、benefits 惠企举措、eligibility 享受条件、"
        "keywords 关键词",
        examples=[EXAMPLE_ELEMENTS],
    )
    unit: Label = Field("", description="解读单位", examples=["泾源县人力资源和社会保障局"])
    phone: Label = Field("", description="政策咨询电话", examples=["0954-5012345"])

    def to_input(self) -> InterpretationInput:
        return InterpretationInput(elements=dict(self.elements), unit=self.unit, phone=self.phone)


class PolicyDraftIn(BaseModel):
    """A draft policy. `agency` defaults to the token's agency; an editor may only use its own."""
    model_config = ConfigDict(extra="forbid")

    title: ShortText = Field(examples=["泾源县一次性创业补贴实施办法"])
    body: LongText = Field(description="正文全文",
                           examples=["对在本县首次创业、正常经营6个月以上的高校毕业生，给予一次性创业补贴5000元。"])
    agency: Label | None = Field(None, description="发文机关；缺省为令牌所属单位",
                                 examples=["泾源县人力资源和社会保障局"])
    doc_no: Label | None = Field(None, description="文号", examples=["泾人社发〔2026〕3号"])
    kind: Literal["normative", "other"] = Field("other", description="normative = 规范性文件（发布前须附完整解读）")
    audience: Literal["enterprise", "resident", "both"] = "both"
    topics: list[Code] = Field(default_factory=list, max_length=30, examples=[["employment"]])
    regions: list[Code] = Field(default_factory=list, max_length=30)
    industries: list[Code] = Field(default_factory=list, max_length=30)
    eligibility: list[Code] = Field(default_factory=list, max_length=30)
    keywords: list[Code] = Field(default_factory=list, max_length=30, examples=[["创业补贴"]])
    summary: LongText = ""
    benefits: LongText = ""
    who_qualifies: LongText = ""
    application_opens: date | None = None
    application_closes: date | None = None
    effective_date: date | None = None
    expiry_date: date | None = None
    issued_on: date | None = None
    source_url: Label = Field("", description="政府网站上的原文地址")
    urgent: bool = False
    interpretation: InterpretationIn | None = None

    def to_input(self, agency: str) -> DraftInput:
        values = self.model_dump(exclude={"interpretation", "agency"})
        return DraftInput(**values, agency=agency,
                          interpretation=self.interpretation.to_input() if self.interpretation else None)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: LongText = Field("", description="审核意见；退回时必填", examples=["请补充申报材料清单"])


class RepealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: LongText = Field(description="废止理由", examples=["已被新政策替代"])


class AmendmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: LongText = Field(description="修订后的正文全文")
    change_summary: LongText = Field(description="本次修订改了什么", examples=["补贴标准由5000元提高到6000元"])
    title: ShortText | None = None
    expiry_date: date | None = None
    application_closes: date | None = None
    benefits: LongText | None = None
    who_qualifies: LongText | None = None
    summary: LongText | None = None

    def to_input(self) -> AmendmentInput:
        return AmendmentInput(**self.model_dump())


class PolicyOut(BaseModel):
    id: int
    title: str
    doc_no: str | None
    agency: str
    kind: str
    audience: str
    topics: list[str]
    regions: list[str]
    industries: list[str]
    eligibility: list[str]
    keywords: list[str]
    summary: str
    benefits: str
    who_qualifies: str
    application_opens: date | None
    application_closes: date | None
    effective_date: date | None
    expiry_date: date | None
    issued_on: date | None
    status: str = Field(description="draft 草稿 · submitted 待审核 · approved 已审核 · published 有效 · "
                        "expired 已失效 · repealed 已废止")
    validity: str = Field(description="状态的中文说明", examples=["有效"])
    urgent: bool
    revision: int
    published_at: datetime | None
    created_by: str
    source_url: str
    page_url: str = Field(description="公开的政策页面")

    @classmethod
    def of(cls, view: PolicyView, base_url: str) -> PolicyOut:
        values = {name: getattr(view, name) for name in cls.model_fields if hasattr(view, name)}
        for name in ("topics", "regions", "industries", "eligibility", "keywords"):
            values[name] = list(values[name])
        return cls(**values, validity=view.validity_label, page_url=f"{base_url}{view.page_path}")


class RevisionOut(BaseModel):
    number: int
    title: str
    body: str
    change_summary: str
    created_at: datetime
    published_at: datetime | None

    @classmethod
    def of(cls, view: RevisionView) -> RevisionOut:
        return cls(number=view.number, title=view.title, body=view.body, change_summary=view.change_summary,
                   created_at=view.created_at, published_at=view.published_at)


class InterpretationOut(BaseModel):
    elements: dict[str, str]
    unit: str
    phone: str
    due_on: date | None = Field(description="解读应发布日期（发布后 3 个工作日）")
    published_at: datetime | None

    @classmethod
    def of(cls, view: InterpretationView) -> InterpretationOut:
        return cls(elements=view.elements, unit=view.unit, phone=view.phone, due_on=view.due_on,
                   published_at=view.published_at)


class PolicyDetailOut(PolicyOut):
    body: str
    revisions: list[RevisionOut]
    interpretation: InterpretationOut | None
