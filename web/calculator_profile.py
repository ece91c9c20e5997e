"""The calculator's questions as one input model, shared by the REST API and the public page.
Every answer is optional: what is not answered stays unknown (需核实), never assumed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from policies.service import person_group_codes, qualification_codes, section_codes, township_codes
from policies.views import Profile
from web.api.fields import Code

Codes = Annotated[list[Code], Field(max_length=40)]


class ProfileIn(BaseModel):
    kind: Literal["enterprise", "resident"] = Field(description="企业或个人")
    township: Code | None = Field(None, description="乡镇代码")
    industry: Annotated[str, Field(max_length=2)] | None = Field(None, description="行业门类（GB/T 4754）")
    size: Literal["micro", "small", "medium", "large"] | None = None
    employees: Annotated[float, Field(ge=0, le=10_000_000)] | None = None
    revenue: Annotated[float, Field(ge=0, le=1e10, description="营业收入（万元）")] | None = None
    assets: Annotated[float, Field(ge=0, le=1e10, description="资产总额（万元）")] | None = None
    registered_on: date | None = None
    qualifications: Codes | None = Field(None, description="企业资质；空列表 = 都没有；不填 = 未知")
    age: Annotated[int, Field(ge=0, le=150)] | None = None
    hukou_local: bool | None = None
    groups: Codes | None = Field(None, description="人员类别；空列表 = 都不是；不填 = 未知")
    graduated: bool | None = None
    graduation_year: Annotated[int, Field(ge=1950, le=2100)] | None = None

    @field_validator("township")
    @classmethod
    def _known_township(cls, value: str | None) -> str | None:
        if value is not None and value not in township_codes():
            raise ValueError("没有这个乡镇")
        return value

    @field_validator("industry")
    @classmethod
    def _known_industry(cls, value: str | None) -> str | None:
        if value is not None and value not in section_codes():
            raise ValueError("没有这个行业门类")
        return value

    @field_validator("qualifications", "groups")
    @classmethod
    def _known_codes(cls, value: list[str] | None) -> list[str] | None:
        allowed = {*qualification_codes(), *person_group_codes()}
        if value is not None and not set(value) <= allowed:
            raise ValueError("有未知的选项")
        return value

    def to_profile(self) -> Profile:
        values = self.model_dump()
        for name in ("qualifications", "groups"):
            if values[name] is not None:
                values[name] = frozenset(values[name])
        return Profile(**values)
