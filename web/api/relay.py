"""Relay tracking over REST: a hub's tasks and its actions on them, a policy's relay funnel,
escalations, and the ledger (台账) as .xlsx or .csv, through `push.relay.service`.

Who may:
  hub operator   its own hub's tasks: list, forward, report, decline (never another hub's)
  admin          everything
  viewer, reviewer  read every figure and export every ledger
  editor         reads the figures, escalations and ledger of its own agency's policies
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.errors import Forbidden
from policies import service as policies
from push.service import posters, relay
from push.views import MemberCounts, RelayTaskView
from web.accounts import Principal
from web.api.common import ERROR_RESPONSES, PolicyId
from web.api.fields import MAX_ID, NO_NUL, _storable
from web.auth import ApiPrincipal, require_figures
from web.models import Role

router = APIRouter(prefix="/api", tags=["接力转达"], responses=ERROR_RESPONSES)

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
NoteText = Annotated[str, Field(max_length=500), AfterValidator(_storable)]
AgencyQuery = Annotated[str | None, Query(max_length=200, pattern=NO_NUL, description="发文机关（部门）"),
                        AfterValidator(lambda v: v if v is None else _storable(v))]
QuarterQuery = Annotated[str | None, Query(max_length=10, pattern=r"^ *((19[0-9]{2}|20[0-9]{2}|2100) *[Qq][1-4])? *$",
                                           description="季度，如 2026Q1（1900–2100 年）"),
                         AfterValidator(lambda v: v if v is None else _storable(v))]
PolicyQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="政策编号")]
StatusQuery = Annotated[Literal["open", "forwarded", "reported", "declined", "withdrawn"] | None,
                        Query(description="只列出此状态的任务")]
SheetQuery = Annotated[Literal["tasks", "members", "posters"],
                       Query(description="tasks 任务台账 / members 会员明细 / posters 海报台账")]

READERS = (Role.ADMIN, Role.VIEWER, Role.REVIEWER)
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}


# --- who may ------------------------------------------------------------------------------


def may_act_for_hub(principal: Principal, hub_id: int) -> bool:
    return principal.role == Role.ADMIN or (principal.role == Role.HUB_OPERATOR and principal.hub_id == hub_id)


def require_hub_actor(principal: Principal, hub_id: int) -> None:
    if not may_act_for_hub(principal, hub_id):
        raise Forbidden("只有本园区/协会的联络员（或管理员）可以处理这项转达任务", field="hub_id")


def require_hub_reader(principal: Principal, hub_id: int) -> None:
    """Hub operators read their own hub; readers and editors every hub (editors filtered by agency)."""
    if principal.role in (*READERS, Role.EDITOR) or may_act_for_hub(principal, hub_id):
        return
    raise Forbidden("您只能查看本园区/协会的转达任务", field="hub_id")


def visible_tasks(principal: Principal, tasks: list[RelayTaskView]) -> list[RelayTaskView]:
    if principal.role == Role.EDITOR:
        return [t for t in tasks if t.agency == principal.agency]
    return tasks


def ledger_agency(principal: Principal, agency: str | None) -> str | None:
    """The agency filter a principal may use: editors only their own (and get it by default)."""
    agency = (agency or "").strip() or None
    if principal.role in READERS:
        return agency
    if principal.role == Role.EDITOR and principal.agency:
        if agency not in (None, principal.agency):
            raise Forbidden(f"您只能导出“{principal.agency}”的台账", field="agency")
        return principal.agency
    raise Forbidden("您无权导出转达台账", field="role")


# --- models -------------------------------------------------------------------------------


class RelayTaskOut(BaseModel):
    id: int
    policy_id: int
    policy_title: str
    doc_no: str
    agency: str = Field(description="发文机关（逾期时报送的部门）")
    hub_id: int
    hub_name: str
    hub_kind: str
    interpretation_path: str = Field(description="政策解读的页面路径")
    released_on: date
    due_on: date = Field(description="转达截止日（发布后若干个工作日）")
    status: str = Field(description="open 待转达 / forwarded 系统转发 / reported 外部转发 / declined 拒绝 / "
                                    "withdrawn 撤销")
    status_label: str
    method: str = Field(description="system / external / system+external / declined / 空")
    overdue: bool
    acted_at: datetime | None
    forwarded_at: datetime | None
    reported_at: datetime | None
    external_count: int = Field(description="报告的外部转发会员数（未经核实）")
    note: str = Field(description="外部转发备注或拒绝理由（已隐去个人信息）")
    reminded_at: datetime | None
    escalated_at: datetime | None
    hub_unreachable: bool = Field(description="园区/协会没有可用的接收地址")

    @classmethod
    def of(cls, t: RelayTaskView) -> RelayTaskOut:
        return cls(
            id=t.id, policy_id=t.policy_id, policy_title=t.policy_title, doc_no=t.doc_no, agency=t.agency,
            hub_id=t.hub_id, hub_name=t.hub_name, hub_kind=t.hub_kind, interpretation_path=t.interpretation_path,
            released_on=t.released_on, due_on=t.due_on, status=t.status, status_label=t.status_label,
            method=t.method, overdue=t.overdue, acted_at=t.acted_at, forwarded_at=t.forwarded_at,
            reported_at=t.reported_at, external_count=t.external_count, note=t.note, reminded_at=t.reminded_at,
            escalated_at=t.escalated_at, hub_unreachable=t.hub_unreachable,
        )


class MemberCountsOut(BaseModel):
    in_scope: int = Field(description="范围内的会员联系人")
    messaged: int = Field(description="已通过系统转达（含此前已收到）")
    reached: int = Field(description="平台已送达")
    read: int
    acknowledged: int
    acknowledgement_rate: float | None = Field(description="已确认 / 已送达")

    @classmethod
    def of(cls, m: MemberCounts) -> MemberCountsOut:
        return cls(in_scope=m.in_scope, messaged=m.messaged, reached=m.reached, read=m.read,
                   acknowledged=m.acknowledged, acknowledgement_rate=m.acknowledgement_rate)


class MemberOut(BaseModel):
    enterprise_name: str
    credit_code: str
    contact: str = Field(description="联系人（已脱敏）")
    channel: str
    address: str = Field(description="接收地址（已脱敏）")
    outcome: str
    outcome_label: str
    sent_at: datetime | None
    read_at: datetime | None
    acknowledged_at: datetime | None


class RelayTaskDetailOut(RelayTaskOut):
    members: list[MemberOut]


class ActionOut(BaseModel):
    changed: bool = Field(description="false：未做任何改动（如重复转发），message 说明原因")
    message: str
    queued: int = 0
    already_reached: int = 0
    left_hub: int = 0
    no_address: int = 0
    task: RelayTaskOut


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(ge=0, le=100_000, description="在外部渠道（如本单位微信群）转发到的会员数")
    note: NoteText = ""


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_storable)]


class HubRowOut(BaseModel):
    task: RelayTaskOut
    members: MemberCountsOut


class PosterHopOut(BaseModel):
    """A printed poster as a hop of the last mile: its place and what its scans led to."""

    poster_id: int
    place: str
    township: str
    printed: bool
    scans: int
    subscriptions: int
    questions: int


class FunnelOut(BaseModel):
    policy_id: int
    hubs_assigned: int
    hubs_relayed: int
    hubs_forwarded: int
    hubs_reported: int
    hubs_declined: int
    hubs_open: int
    hubs_overdue: int
    hubs_withdrawn: int
    members: MemberCountsOut
    external_reported: int
    hubs: list[HubRowOut]
    posters: list[PosterHopOut] = Field(default_factory=list, description="线下张贴海报（按地点）")


class HubRelayOut(BaseModel):
    hub_id: int
    open_tasks: list[RelayTaskOut]
    history: list[RelayTaskOut]
    members: MemberCountsOut


class EscalationOut(BaseModel):
    id: int
    task_id: int
    agency: str
    policy_id: int
    hub_id: int
    message: str
    escalated_at: datetime
    resolved_at: datetime | None


def _action(outcome: relay.RelayOutcome) -> ActionOut:
    return ActionOut(changed=outcome.changed, message=outcome.message, queued=outcome.queued,
                     already_reached=outcome.already_reached, left_hub=outcome.left_hub,
                     no_address=outcome.no_address, task=RelayTaskOut.of(outcome.task))


# --- hubs and their tasks -----------------------------------------------------------------


@router.get("/hubs/{hub_id}/relay-tasks", summary="园区/协会的转达任务")
async def hub_tasks(request: Request, principal: ApiPrincipal, hub_id: IdPath,
                    status: StatusQuery = None) -> list[RelayTaskOut]:
    require_hub_reader(principal, hub_id)
    async with request.app.state.db.reader() as session:
        tasks = await relay.tasks_of_hub(session, hub_id, status=status)
    return [RelayTaskOut.of(t) for t in visible_tasks(principal, tasks)]


@router.get("/hubs/{hub_id}/relay", summary="园区/协会的待办、历史与会员确认率")
async def hub_relay(request: Request, principal: ApiPrincipal, hub_id: IdPath) -> HubRelayOut:
    require_hub_reader(principal, hub_id)
    if principal.role == Role.EDITOR:
        raise Forbidden("部门编辑请按政策查看转达情况", field="role")
    async with request.app.state.db.reader() as session:
        overview = await relay.hub_overview(session, hub_id)
    return HubRelayOut(hub_id=hub_id, open_tasks=[RelayTaskOut.of(t) for t in overview.open_tasks],
                       history=[RelayTaskOut.of(t) for t in overview.history],
                       members=MemberCountsOut.of(overview.members))


async def _task_for_reading(request: Request, principal: Principal, task_id: int) -> RelayTaskView:
    async with request.app.state.db.reader() as session:
        task = await relay.get_task(session, task_id)
    require_hub_reader(principal, task.hub_id)
    if not visible_tasks(principal, [task]):
        raise Forbidden("您只能查看本部门政策的转达任务", field="task_id")
    return task


@router.get("/relay-tasks/{task_id}", summary="转达任务详情（含范围内会员，已脱敏）")
async def get_task(request: Request, principal: ApiPrincipal, task_id: IdPath) -> RelayTaskDetailOut:
    task = await _task_for_reading(request, principal, task_id)
    async with request.app.state.db.reader() as session:
        members = await relay.task_members(session, task_id)
    return RelayTaskDetailOut(**RelayTaskOut.of(task).model_dump(),
                              members=[MemberOut(**m.__dict__) for m in members])


async def _task_for_acting(request: Request, principal: Principal, task_id: int) -> RelayTaskView:
    async with request.app.state.db.reader() as session:
        task = await relay.get_task(session, task_id)
    require_hub_actor(principal, task.hub_id)
    return task


@router.post("/relay-tasks/{task_id}/forward", summary="通过系统转发给范围内会员（重复转发不会重复发送）")
async def forward(request: Request, principal: ApiPrincipal, task_id: IdPath) -> ActionOut:
    await _task_for_acting(request, principal, task_id)
    async with request.app.state.db.session() as session:
        return _action(await relay.forward_through_system(session, task_id, principal.actor))


@router.post("/relay-tasks/{task_id}/report", summary="报告在外部渠道的转发（如本单位微信群）")
async def report(request: Request, principal: ApiPrincipal, task_id: IdPath, body: ReportIn) -> ActionOut:
    await _task_for_acting(request, principal, task_id)
    async with request.app.state.db.session() as session:
        return _action(await relay.report_external_forward(session, task_id, body.count, body.note, principal.actor))


@router.post("/relay-tasks/{task_id}/decline", summary="拒绝转达（须填写理由）")
async def decline(request: Request, principal: ApiPrincipal, task_id: IdPath, body: DeclineIn) -> ActionOut:
    await _task_for_acting(request, principal, task_id)
    async with request.app.state.db.session() as session:
        return _action(await relay.decline(session, task_id, body.reason, principal.actor))


# --- figures ------------------------------------------------------------------------------


@router.get("/policies/{policy_id}/relay", summary="政策的接力转达漏斗与各园区/协会情况")
async def funnel(request: Request, principal: ApiPrincipal, policy_id: PolicyId) -> FunnelOut:
    async with request.app.state.db.reader() as session:
        require_figures(principal, (await policies.get_policy(session, policy_id)).agency)
        f = await relay.relay_funnel(session, policy_id)
        poster_rows = await posters.posters_with_counts(session, policy_id)
    return FunnelOut(
        policy_id=f.policy_id, hubs_assigned=f.hubs_assigned, hubs_relayed=f.hubs_relayed,
        hubs_forwarded=f.hubs_forwarded, hubs_reported=f.hubs_reported, hubs_declined=f.hubs_declined,
        hubs_open=f.hubs_open, hubs_overdue=f.hubs_overdue, hubs_withdrawn=f.hubs_withdrawn,
        members=MemberCountsOut.of(f.members), external_reported=f.external_reported,
        hubs=[HubRowOut(task=RelayTaskOut.of(r.task), members=MemberCountsOut.of(r.members)) for r in f.hubs],
        posters=[PosterHopOut(poster_id=r.poster.id, place=r.poster.place_label, township=r.poster.township,
                              printed=r.poster.print_count > 0, scans=r.counts.scans,
                              subscriptions=r.counts.subscriptions, questions=r.counts.questions)
                 for r in poster_rows],
    )


@router.get("/relay-escalations", summary="逾期未转达、已报送发文单位的任务")
async def escalations(request: Request, principal: ApiPrincipal, agency: AgencyQuery = None,
                      unresolved_only: bool = False) -> list[EscalationOut]:
    agency = ledger_agency(principal, agency)
    async with request.app.state.db.reader() as session:
        rows = await relay.escalations(session, agency=agency, unresolved_only=unresolved_only)
    return [EscalationOut(**e.__dict__) for e in rows]


# --- ledger -------------------------------------------------------------------------------


def ledger_response(content: bytes, fmt: str, filename: str) -> Response:
    # RFC 6266/5987: an ASCII fallback plus the Chinese name for browsers that read filename*.
    disposition = f"attachment; filename=\"relay-ledger.{fmt}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})


async def _ledger(request: Request, principal: Principal, fmt: str, policy_id: int | None, agency: str | None,
                  quarter: str | None, sheet: str) -> Response:
    agency = ledger_agency(principal, agency)
    async with request.app.state.db.reader() as session:
        if policy_id is not None and principal.role == Role.EDITOR:
            require_figures(principal, (await policies.get_policy(session, policy_id)).agency)
        content = await relay.export_ledger(session, fmt, policy_id=policy_id, agency=agency, quarter=quarter,
                                            sheet=sheet)
    name = relay.ledger_filename(fmt, policy_id=policy_id, agency=agency, quarter=quarter)
    return ledger_response(content, fmt, name)


@router.get("/ledger.xlsx", summary="导出转达台账（Excel，含会员明细，个人信息已脱敏）",
            response_class=Response, responses={200: {"content": {MEDIA_TYPES["xlsx"]: {}}}})
async def ledger_xlsx(request: Request, principal: ApiPrincipal, policy_id: PolicyQuery = None,
                      agency: AgencyQuery = None, quarter: QuarterQuery = None) -> Response:
    return await _ledger(request, principal, "xlsx", policy_id, agency, quarter, "tasks")


@router.get("/ledger.csv", summary="导出转达台账（CSV，UTF-8 带 BOM，个人信息已脱敏）",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def ledger_csv(request: Request, principal: ApiPrincipal, policy_id: PolicyQuery = None,
                     agency: AgencyQuery = None, quarter: QuarterQuery = None,
                     sheet: SheetQuery = "tasks") -> Response:
    return await _ledger(request, principal, "csv", policy_id, agency, quarter, sheet)
