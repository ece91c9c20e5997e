"""Subscribers, enterprises, hubs and hub members through `subscriptions.service`.

Who may: admins and department editors register subscribers and enterprises (departments
hold the registries); admins create hubs; a hub operator manages its own hub's members."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, ValidationFailed
from subscriptions import service as subscriptions
from subscriptions.views import EnterpriseView, HubView, SubscriberView
from web.accounts import Principal
from web.api.common import ERROR_RESPONSES
from web.api.fields import MAX_ID, Code, Label
from web.auth import ApiPrincipal, require_role
from web.models import Role

router = APIRouter(prefix="/api", tags=["订阅者与园区协会"], responses=ERROR_RESPONSES)

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Channel = Literal["telegram", "wechat", "wecom_robot", "web"]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class AddressOut(BaseModel):
    id: int
    channel: str
    address: str = Field(description="渠道地址；非管理员（及非本园区联络员）看到的是脱敏值")
    active: bool


class SubscriberOut(BaseModel):
    id: int
    kind: str
    display_name: str = Field(description="姓名；非管理员（及非本园区联络员）看到的是脱敏值")
    contacts_masked: bool = Field(False, description="true 表示姓名和渠道地址已脱敏")
    enterprise_id: int | None
    hub_id: int | None
    township: str
    audience: str
    topics: list[str]
    keywords: list[str]
    addresses: list[AddressOut]

    @classmethod
    def of(cls, v: SubscriberView, *, reveal: bool) -> SubscriberOut:
        """`reveal`: the reader may see names and chat addresses (see `may_see_contacts`)."""
        name = v.display_name if reveal else mask_name(v.display_name)
        return cls(id=v.id, kind=v.kind, display_name=name, contacts_masked=not reveal,
                   enterprise_id=v.enterprise_id, hub_id=v.hub_id, township=v.township, audience=v.audience,
                   topics=list(v.topics), keywords=list(v.keywords),
                   addresses=[AddressOut(id=a.id, channel=a.channel, active=a.active,
                                         address=a.address if reveal else mask_address(a.address))
                              for a in v.addresses])


class ResidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: Label = Field("", examples=["马女士"])
    township: Code = Field("", description="乡镇代码或名称", examples=["香水镇"])
    groups: list[Code] = Field(default_factory=list, max_length=20, description="居民身份标签，如 高校毕业生")
    channel: Channel | None = None
    address: Label | None = Field(None, description="渠道地址：Telegram chat id、微信 openid 等")
    topics: list[Code] = Field(default_factory=list, max_length=30, examples=[["employment"]])


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label = Field(examples=["泾源县六盘山农产品有限公司"])
    credit_code: Annotated[str, Field(max_length=18)] | None = Field(None, description="统一社会信用代码")
    industry: Code = Field("", description="国民经济行业门类字母，如 A")
    size: Literal["", "large", "medium", "small", "micro"] = ""
    qualifications: list[Code] = Field(default_factory=list, max_length=20, examples=[["高新技术企业"]])
    township: Code = ""


class EnterpriseOut(BaseModel):
    id: int
    name: str
    credit_code: str | None
    industry: str
    size: str
    qualifications: list[str]
    township: str

    @classmethod
    def of(cls, v: EnterpriseView) -> EnterpriseOut:
        return cls(id=v.id, name=v.name, credit_code=v.credit_code, industry=v.industry, size=v.size,
                   qualifications=list(v.qualifications), township=v.township)


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    address: Label
    display_name: Label = ""


class HubIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label = Field(examples=["泾源县工业园区"])
    kind: Literal["park", "association"] = "park"
    township: Code = ""


class HubOut(BaseModel):
    id: int
    name: str
    kind: str
    township: str
    invite_payload: str | None = Field(
        description="Telegram 深链接参数（/start 后的内容），扫码即加入；只有管理员和本园区/协会联络员可见")

    @classmethod
    def of(cls, v: HubView, principal: Principal) -> HubOut:
        return cls(id=v.id, name=v.name, kind=v.kind, township=v.township,
                   invite_payload=v.invite_payload if may_see_invite(principal, v.id) else None)


class MembershipOut(BaseModel):
    hub_id: int
    enterprise_id: int
    added: bool = Field(description="false 表示原本已是会员")


class ImportErrorOut(BaseModel):
    row: int
    field: str
    message: str


class ImportOut(BaseModel):
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[ImportErrorOut]


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧**: enough for a clerk to recognise a record, not to identify."""
    name = (name or "").strip()
    return name[:1] + "*" * min(max(len(name) - 1, 1), 2) if name else ""


def mask_address(address: str) -> str:
    """A chat id or openid with its middle hidden: o_ab****yz, 50****01."""
    return address[:3] + "****" + address[-2:] if len(address) > 6 else "****"


def may_see_invite(principal: Principal, hub_id: int) -> bool:
    """Park and association invite codes: admins and that hub's own operators only."""
    return principal.role == Role.ADMIN or (principal.role == Role.HUB_OPERATOR and principal.hub_id == hub_id)


async def may_see_contacts(session: AsyncSession, principal: Principal, view: SubscriberView) -> bool:
    """Names and chat addresses: admins, and a hub operator for its own hub's operators and
    the contacts of its member enterprises. Everyone else sees them masked."""
    if principal.role == Role.ADMIN:
        return True
    if principal.role != Role.HUB_OPERATOR or principal.hub_id is None:
        return False
    if view.hub_id == principal.hub_id:
        return True
    if view.enterprise_id is None:
        return False
    return principal.hub_id in {h.id for h in await subscriptions.hubs_of_enterprise(session, view.enterprise_id)}


def _require_registrar(principal: Principal) -> None:
    require_role(principal, Role.EDITOR)


def _require_hub(principal: Principal, hub_id: int) -> None:
    if principal.role == Role.ADMIN or (principal.role == Role.HUB_OPERATOR and principal.hub_id == hub_id):
        return
    raise Forbidden("只有管理员或本园区/协会的联络员可以管理会员", field="hub_id")


@router.post("/subscribers", status_code=201, summary="登记居民订阅者")
async def create_resident(request: Request, principal: ApiPrincipal, resident: ResidentIn) -> SubscriberOut:
    _require_registrar(principal)
    if bool(resident.channel) != bool(resident.address):
        raise ValidationFailed("channel 与 address 须同时填写", field="address" if resident.channel else "channel")
    async with request.app.state.db.session() as session:
        view = await subscriptions.create_resident(session, display_name=resident.display_name,
                                                   township=resident.township, groups=resident.groups,
                                                   channel=resident.channel, address=resident.address)
        if resident.topics:
            view = await subscriptions.subscribe_topics(session, view.id, resident.topics)
        return SubscriberOut.of(view, reveal=await may_see_contacts(session, principal, view))


@router.get("/subscribers/{subscriber_id}", summary="订阅者详情")
async def get_subscriber(request: Request, principal: ApiPrincipal, subscriber_id: IdPath) -> SubscriberOut:
    require_role(principal, Role.EDITOR, Role.VIEWER, Role.HUB_OPERATOR)
    async with request.app.state.db.reader() as session:
        view = await subscriptions.get_subscriber(session, subscriber_id)
        reveal = await may_see_contacts(session, principal, view)
    if principal.role == Role.HUB_OPERATOR and not reveal:
        raise Forbidden("园区/协会联络员只能查看本园区/协会的联系人和会员企业的联系人", field="subscriber_id")
    return SubscriberOut.of(view, reveal=reveal)


@router.post("/subscribers/import", summary="批量导入订阅者（.csv 或 .xlsx）")
async def import_subscribers(request: Request, principal: ApiPrincipal, file: UploadFile) -> ImportOut:
    _require_registrar(principal)
    suffix = FilePath(file.filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationFailed("请上传 .csv 或 .xlsx 文件", field="file")
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("文件过大（最大 20 MB）", field="file")
    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            report = await subscriptions.import_subscribers(request.app.state.db, path, progress=False)
        except (ValueError, UnicodeError) as exc:  # the reader's own errors are ValidationFailed already
            raise ValidationFailed("文件无法读取，请确认是 Excel 导出的 .csv 或 .xlsx 文件。", field="file") from exc
    return ImportOut(rows=report.rows, created=report.created, updated=report.updated, unchanged=report.unchanged,
                     errors=[ImportErrorOut(row=e.row, field=e.field, message=e.message) for e in report.errors])


@router.post("/enterprises", status_code=201, summary="登记企业（按信用代码幂等）")
async def save_enterprise(request: Request, principal: ApiPrincipal, enterprise: EnterpriseIn) -> EnterpriseOut:
    _require_registrar(principal)
    async with request.app.state.db.session() as session:
        view = await subscriptions.save_enterprise(session, **enterprise.model_dump())
    return EnterpriseOut.of(view)


@router.post("/enterprises/{enterprise_id}/contacts", status_code=201, summary="添加企业联系人")
async def add_enterprise_contact(request: Request, principal: ApiPrincipal, enterprise_id: IdPath,
                                 contact: ContactIn) -> SubscriberOut:
    _require_registrar(principal)
    async with request.app.state.db.session() as session:
        view = await subscriptions.add_enterprise_contact(session, enterprise_id, **contact.model_dump())
        return SubscriberOut.of(view, reveal=await may_see_contacts(session, principal, view))


@router.post("/hubs", status_code=201, summary="登记园区或协会（管理员）")
async def create_hub(request: Request, principal: ApiPrincipal, hub: HubIn) -> HubOut:
    require_role(principal)
    async with request.app.state.db.session() as session:
        return HubOut.of(await subscriptions.create_hub(session, **hub.model_dump()), principal)


@router.get("/hubs/{hub_id}", summary="园区或协会详情")
async def get_hub(request: Request, principal: ApiPrincipal, hub_id: IdPath) -> HubOut:
    if principal.role == Role.HUB_OPERATOR:
        _require_hub(principal, hub_id)
    async with request.app.state.db.reader() as session:
        return HubOut.of(await subscriptions.get_hub(session, hub_id), principal)


@router.post("/hubs/{hub_id}/contacts", status_code=201, summary="添加园区/协会联络人（接收待转达的政策）")
async def add_hub_contact(request: Request, principal: ApiPrincipal, hub_id: IdPath,
                          contact: ContactIn) -> SubscriberOut:
    _require_hub(principal, hub_id)
    async with request.app.state.db.session() as session:
        view = await subscriptions.add_hub_contact(session, hub_id, **contact.model_dump())
        return SubscriberOut.of(view, reveal=await may_see_contacts(session, principal, view))


@router.get("/hubs/{hub_id}/members", summary="会员企业列表")
async def hub_members(request: Request, principal: ApiPrincipal, hub_id: IdPath) -> list[EnterpriseOut]:
    if principal.role not in (Role.VIEWER, Role.EDITOR):
        _require_hub(principal, hub_id)
    async with request.app.state.db.reader() as session:
        return [EnterpriseOut.of(e) for e in await subscriptions.hub_members(session, hub_id)]


@router.put("/hubs/{hub_id}/members/{enterprise_id}", summary="加入会员企业")
async def add_member(request: Request, principal: ApiPrincipal, hub_id: IdPath,
                     enterprise_id: IdPath) -> MembershipOut:
    _require_hub(principal, hub_id)
    async with request.app.state.db.session() as session:
        added = await subscriptions.add_hub_member(session, hub_id, enterprise_id, via="console")
    return MembershipOut(hub_id=hub_id, enterprise_id=enterprise_id, added=added)


@router.delete("/hubs/{hub_id}/members/{enterprise_id}", status_code=204, summary="移除会员企业")
async def remove_member(request: Request, principal: ApiPrincipal, hub_id: IdPath, enterprise_id: IdPath) -> None:
    _require_hub(principal, hub_id)
    async with request.app.state.db.session() as session:
        await subscriptions.get_hub(session, hub_id)
        await subscriptions.remove_hub_member(session, hub_id, enterprise_id)
