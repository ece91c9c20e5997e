"""Policy items (事项) in the REST API: read, replace (a draft) or amend (a published policy),
suggestions from the text, the fixed condition vocabulary, and the calculator itself."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from core.clock import today_in_china
from policies import service as policies
from policies.service import CatalogueCache, allowed_codes, as_json, cards, items, name_of, suggest_items
from policies.views import CODE_KINDS, CONDITION_LABELS, TRACK_LABELS, ConditionKind, ItemView
from web.api.common import ERROR_RESPONSES, PolicyId
from web.api.fields import WHOLE, Code, ShortText, _storable
from web.auth import ApiPrincipal, require_edit, require_visible
from web.calculator_profile import ProfileIn

router = APIRouter(prefix="/api", tags=["政策事项与计算器"], responses=ERROR_RESPONSES)

ItemText = Annotated[str, Field(max_length=2000)]


class ConditionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal[tuple(ConditionKind.ALL)]  # type: ignore[valid-type]
    codes: Annotated[list[Code], Field(max_length=40)] | None = None
    low: Annotated[int, Field(ge=0, le=200), WHOLE] | None = None
    high: Annotated[int, Field(ge=0, le=200), WHOLE] | None = None
    text: ShortText | None = None


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText
    track: Literal["auto", "fast", "apply"] = Field("apply",
                                                    description="auto 免申即享 / fast 快申快享 / apply 申请办理")
    benefit: ItemText = ""
    amount_yuan: Annotated[int, Field(gt=0, le=10_000_000_000), WHOLE] | None = None
    rate_percent: Annotated[float, Field(gt=0, le=100)] | None = None
    cap_yuan: Annotated[int, Field(gt=0, le=10_000_000_000), WHOLE] | None = None
    conditions: Annotated[list[ConditionIn], Field(max_length=20)] = []
    apply_url: Annotated[str, Field(max_length=500)] = ""
    apply_place: ShortText = ""
    materials: ItemText = ""
    deadline: date | None = None
    phone: Annotated[str, Field(max_length=40)] = ""


class ItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: Annotated[list[ItemIn], Field(max_length=50)]
    change_summary: ShortText = Field("", description="已发布政策必填：本次修订改了什么")


class ConditionOut(BaseModel):
    kind: str
    codes: list[str] = []
    low: int | None = None
    high: int | None = None
    text: str = ""
    description: str


class ItemOut(BaseModel):
    id: int
    policy_id: int
    revision: int
    position: int
    name: str
    track: str
    track_label: str
    benefit: str
    amount_yuan: int | None
    rate_percent: float | None
    cap_yuan: int | None
    amount_text: str
    conditions: list[ConditionOut]
    apply_url: str
    apply_place: str
    materials: str
    deadline: date | None
    phone: str

    @classmethod
    def of(cls, view: ItemView) -> ItemOut:
        return cls(
            id=view.id, policy_id=view.policy_id, revision=view.revision, position=view.position, name=view.name,
            track=view.track, track_label=view.track_label, benefit=view.benefit, amount_yuan=view.amount_yuan,
            rate_percent=view.rate_percent, cap_yuan=view.cap_yuan, amount_text=view.amount_text,
            conditions=[ConditionOut(**c.as_json(), description=c.describe()) for c in view.conditions],
            apply_url=view.apply_url, apply_place=view.apply_place, materials=view.materials,
            deadline=view.deadline, phone=view.phone,
        )  # fmt: skip


def catalogue_cache(request: Request) -> CatalogueCache:
    """The app's one catalogue cache (the API and the public page share it)."""
    state = request.app.state
    if getattr(state, "item_catalogue", None) is None:
        state.item_catalogue = CatalogueCache()
    return state.item_catalogue  # type: ignore[no-any-return]


@router.get("/items/vocabulary", summary="事项条件的固定词表（类型、可选项及中文名称）")
async def vocabulary(principal: ApiPrincipal) -> dict[str, Any]:
    return {
        "tracks": TRACK_LABELS,
        "conditions": [
            {"kind": kind, "label": label,
             "options": [{"code": c, "name": name_of(kind, c)} for c in allowed_codes(kind)]
             if kind in (*CODE_KINDS, ConditionKind.AUDIENCE) else []}
            for kind, label in CONDITION_LABELS.items()
        ],
    }  # fmt: skip


@router.get("/policies/{policy_id}/items", summary="政策的事项清单（可指定版本）")
async def list_items(request: Request, principal: ApiPrincipal, policy_id: PolicyId,
                     revision: Annotated[int | None, Query(ge=1, le=10_000)] = None) -> list[ItemOut]:
    async with request.app.state.db.reader() as session:
        require_visible(principal, await policies.get_policy(session, policy_id))
        return [ItemOut.of(v) for v in await items.items_of(session, policy_id, revision)]


@router.put("/policies/{policy_id}/items", summary="替换草稿的事项，或修订已发布政策的事项（生成新版本）")
async def set_items(request: Request, principal: ApiPrincipal, policy_id: PolicyId, body: ItemsIn) -> list[ItemOut]:
    async with request.app.state.db.session() as session:
        require_edit(principal, (await policies.get_policy(session, policy_id)).agency)  # before the body's errors
        parsed = items.parse_items([i.model_dump(mode="json", exclude_none=True) for i in body.items])
        saved = await items.set_items(session, policy_id, parsed, principal.actor, body.change_summary)
    return [ItemOut.of(v) for v in saved]


@router.get("/policies/{policy_id}/items/suggestions", summary="从正文和解读中识别的事项建议（金额、年龄、截止日期）")
async def suggestions(request: Request, principal: ApiPrincipal, policy_id: PolicyId) -> list[dict[str, Any]]:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
        require_visible(principal, policy)
        body = (await policies.get_revision(session, policy_id)).body
        interpretation = await policies.get_interpretation(session, policy_id)
    text = "\n".join([body, *(interpretation.elements.values() if interpretation else ())])
    return [s.as_json() for s in await asyncio.to_thread(suggest_items, _storable(text))]


@router.post("/calculator", summary="政策计算器：按画像列出符合、需核实、差一点符合的事项")
async def calculate(request: Request, principal: ApiPrincipal, profile: ProfileIn) -> dict[str, Any]:
    async with request.app.state.db.reader() as session:
        catalogue = await catalogue_cache(request).current(session)
    result = catalogue.calculate(profile.to_profile(), today_in_china())
    phone = request.app.state.settings.consultation_phone
    return {
        "counts": result.counts,
        "qualified_value_yuan": result.qualified_value_yuan,
        **{standing: [as_json(c) for c in group] for standing, group in cards(result, phone).items()},
    }
