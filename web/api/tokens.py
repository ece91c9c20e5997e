"""API token management for administrators (tokens are also created by `run.py token create`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from web import accounts
from web.api.common import ERROR_RESPONSES
from web.api.fields import MAX_ID, WHOLE, Label
from web.auth import ApiPrincipal, require_admin

router = APIRouter(prefix="/api/tokens", tags=["令牌"], responses=ERROR_RESPONSES)


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agency: Label = Field(examples=["泾源县人力资源和社会保障局"])
    role: Literal["admin", "editor", "reviewer", "hub_operator", "viewer"] = "editor"
    name: Label = Field("", examples=["县政府网站 CMS"])
    hub_id: Annotated[int, Field(ge=1, le=MAX_ID), WHOLE] | None = None


class TokenOut(BaseModel):
    id: int
    prefix: str
    name: str
    agency: str
    role: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(BaseModel):
    token: str = Field(description="令牌全文，只显示这一次")
    details: TokenOut


def _out(view: accounts.TokenView) -> TokenOut:
    return TokenOut(id=view.id, prefix=view.prefix, name=view.name, agency=view.agency, role=view.role,
                    created_by=view.created_by, created_at=view.created_at, last_used_at=view.last_used_at,
                    revoked_at=view.revoked_at)


@router.get("", summary="令牌列表（管理员）")
async def list_tokens(request: Request, principal: ApiPrincipal) -> list[TokenOut]:
    require_admin(principal)
    async with request.app.state.db.reader() as session:
        return [_out(t) for t in await accounts.list_tokens(session)]


@router.post("", status_code=201, summary="创建令牌（管理员；令牌全文只显示一次）")
async def create_token(request: Request, principal: ApiPrincipal, data: TokenIn) -> NewTokenOut:
    require_admin(principal)
    async with request.app.state.db.session() as session:
        created, secret = await accounts.issue_token(session, data.agency, data.role, name=data.name,
                                                     hub_id=data.hub_id, actor=principal.actor)
    return NewTokenOut(token=secret, details=_out(created))


@router.delete("/{token_id}", summary="吊销令牌（管理员）")
async def revoke_token(request: Request, principal: ApiPrincipal,
                       token_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> TokenOut:
    require_admin(principal)
    async with request.app.state.db.session() as session:
        return _out(await accounts.revoke_token(session, token_id, principal.actor))
