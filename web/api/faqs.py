"""The FAQ knowledge base (政策知识问答库) through the API: list, read, create, update, delete,
import from .xlsx. Who may: any token reads; a department editor writes its own department's
entries (the department is its agency); an admin writes all. After each commit the process's
Q&A engine is told, so the next question already gets the new answer."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from core.errors import Forbidden, ValidationFailed
from policies.service import faq as faqs
from policies.service import qa
from policies.views import FaqImportReport, FaqView, FeedbackSummary
from web.accounts import Principal
from web.api.common import ERROR_RESPONSES, Limit, Offset, Page
from web.api.engine import engine_if_loaded
from web.api.fields import MAX_ID, Id, Label, LongText, ShortText
from web.auth import ApiPrincipal
from web.models import Role

router = APIRouter(prefix="/api/faqs", tags=["政策知识问答库"], responses=ERROR_RESPONSES)

FaqId = Annotated[int, Path(ge=1, le=MAX_ID, description="问答条目编号")]
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class FaqIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: ShortText = Field(description="标准问题", examples=["创业补贴什么时候发放"])
    variants: list[ShortText] = Field(default_factory=list, max_length=faqs.MAX_VARIANTS,
                                      description="相似问法（群众的其他说法）", examples=[["创业补贴多久到账"]])
    answer: LongText = Field(description="部门答复", examples=["审核通过后20个工作日内发放到本人社会保障卡。"])
    policy_ids: list[Id] = Field(default_factory=list, max_length=20, description="所依据的政策编号", examples=[[12]])
    department: Label = Field("", description="答复部门；缺省为令牌所属单位（部门编辑只能填本单位）",
                              examples=["泾源县人力资源和社会保障局"])

    def to_input(self, department: str) -> faqs.FaqInput:
        return faqs.FaqInput(question=self.question, answer=self.answer, variants=tuple(self.variants),
                             policy_ids=tuple(self.policy_ids), department=department)


class FeedbackOut(BaseModel):
    useful: int = Field(description="“有用”次数")
    not_useful: int = Field(description="“没用”次数")

    @classmethod
    def of(cls, summary: FeedbackSummary | None) -> FeedbackOut:
        return cls(useful=summary.useful if summary else 0, not_useful=summary.not_useful if summary else 0)


class FaqOut(BaseModel):
    id: int
    question: str
    variants: list[str]
    answer: str
    policy_ids: list[int]
    department: str
    feedback: FeedbackOut = Field(description="以本条答复回答的问题收到的评价")

    @classmethod
    def of(cls, view: FaqView, summary: FeedbackSummary | None = None) -> FaqOut:
        return cls(id=view.id, question=view.question, variants=list(view.variants), answer=view.answer,
                   policy_ids=list(view.policy_ids), department=view.department, feedback=FeedbackOut.of(summary))


class FaqImportOut(BaseModel):
    created: int
    updated: int
    errors: list[str] = Field(description="未导入的行及原因", examples=[["第 3 行：请填写答案"]])


def department_for(principal: Principal, typed: str) -> str:
    """The department an entry is written for; refuses what this principal may not write."""
    if principal.role == Role.ADMIN:
        return typed.strip() or (principal.agency or "")
    if principal.role != Role.EDITOR or not principal.agency:
        raise Forbidden("只有部门编辑或管理员可以维护问答库", field="role")
    if typed.strip() and typed.strip() != principal.agency:
        raise Forbidden(f"部门编辑只能维护本单位（{principal.agency}）的问答", field="department")
    return principal.agency


def require_owner(principal: Principal, entry: FaqView) -> None:
    if principal.role == Role.ADMIN:
        return
    department_for(principal, "")
    if entry.department != principal.agency:
        raise Forbidden(f"该条目属于“{entry.department or '未指定部门'}”，您不能修改", field="department")


def _tell_engine(request: Request, *, put: FaqView | None = None, removed: int | None = None) -> None:
    engine = engine_if_loaded(request)
    if engine is None:
        return
    if put is not None:
        engine.put_faq(put)
    if removed is not None:
        engine.remove_faq(removed)


@router.get("", summary="问答条目列表")
async def list_faqs(
    request: Request,
    principal: ApiPrincipal,
    policy_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="只列出依据该政策的条目")] = None,
    department: Annotated[str | None, Query(max_length=120, description="答复部门")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[FaqOut]:
    async with request.app.state.db.reader() as session:
        everything = await faqs.list_faqs(session, policy_id=policy_id, department=department or None,
                                          limit=1_000_000)
        feedback = await qa.feedback_by_faq(session)
    items = [FaqOut.of(v, feedback.get(v.id)) for v in everything[offset : offset + limit]]
    return Page[FaqOut](items=items, total=len(everything), offset=offset, limit=limit)


@router.post("", status_code=201, summary="新增问答条目")
async def create_faq(request: Request, principal: ApiPrincipal, entry: FaqIn) -> FaqOut:
    department = department_for(principal, entry.department)
    async with request.app.state.db.session() as session:
        view = await faqs.create_faq(session, entry.to_input(department), principal.actor)
    _tell_engine(request, put=view)
    return FaqOut.of(view)


@router.get("/{faq_id}", summary="问答条目详情")
async def get_faq(request: Request, principal: ApiPrincipal, faq_id: FaqId) -> FaqOut:
    async with request.app.state.db.reader() as session:
        view = await faqs.get_faq(session, faq_id)
        summary = await qa.feedback_summary(session, faq_id=faq_id)
    return FaqOut.of(view, summary)


@router.put("/{faq_id}", summary="修改问答条目（整体替换）")
async def update_faq(request: Request, principal: ApiPrincipal, faq_id: FaqId, entry: FaqIn) -> FaqOut:
    async with request.app.state.db.session() as session:
        require_owner(principal, await faqs.get_faq(session, faq_id))
        department = department_for(principal, entry.department)
        view = await faqs.update_faq(session, faq_id, entry.to_input(department))
    _tell_engine(request, put=view)
    return FaqOut.of(view)


@router.delete("/{faq_id}", status_code=204, summary="删除问答条目")
async def delete_faq(request: Request, principal: ApiPrincipal, faq_id: FaqId) -> Response:
    async with request.app.state.db.session() as session:
        require_owner(principal, await faqs.get_faq(session, faq_id))
        await faqs.delete_faq(session, faq_id)
    _tell_engine(request, removed=faq_id)
    return Response(status_code=204)


@router.post("/import", summary="从 Excel（.xlsx）批量导入问答",
             description="表头：问题 | 相似问法（用；或换行分隔） | 答案 | 依据政策（编号或文号，用，分隔） | 部门。"
             "已有的问题会被更新；有问题的行不导入，并在 errors 中说明。")
async def import_faqs(request: Request, principal: ApiPrincipal, file: UploadFile) -> FaqImportOut:
    own = None if principal.role == Role.ADMIN else department_for(principal, "")
    if FilePath(file.filename or "").suffix.lower() != ".xlsx":
        raise ValidationFailed("请上传 .xlsx 文件", field="file")
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("文件过大（最大 10 MB）", field="file")
    report = await import_workbook(request, content, principal.actor, department=own)
    return FaqImportOut(created=report.created, updated=report.updated, errors=list(report.errors))


async def import_workbook(request: Request, content: bytes, actor: str, *,
                          department: str | None) -> FaqImportReport:
    """Shared by the API and the console: import, commit, then bring the engine's FAQ set in line."""
    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / "upload.xlsx"
        path.write_bytes(content)
        async with request.app.state.db.session() as session:
            report = await faqs.import_faq_xlsx(session, path, actor, department=department)
    engine = engine_if_loaded(request)
    if engine is not None and (report.created or report.updated):
        async with request.app.state.db.reader() as session:
            engine.sync_faqs(await faqs.list_faqs(session, limit=1_000_000))
    return report
