"""Console pages of the FAQ knowledge base (政策知识问答库): the list with each entry's 有用/没用
counts, the edit form, .xlsx import, and the questions residents asked that nothing answered
(the raw material for new entries). Permission rules are the API's (`web.api.faqs`)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from policies import service as policies
from policies.service import faq as faqs
from policies.service import qa
from web.accounts import Principal
from web.api.engine import engine_if_loaded
from web.api.faqs import MAX_UPLOAD_BYTES, department_for, import_workbook, require_owner
from web.api.fields import MAX_ID
from web.auth import ConsolePrincipal, CsrfChecked
from web.console.common import field_errors, render, see_other
from web.models import Role

router = APIRouter(prefix="/console/faq", include_in_schema=False)

FaqId = Annotated[int, Path(ge=1, le=MAX_ID)]
FIELDS = ("question", "variants", "answer", "policy_ids", "department")
_ID_SEPARATORS = re.compile(r"[,，、\s]+")
BOARD_SIZE = 20
MAX_MESSAGE = 280


def _may_write(principal: Principal) -> bool:
    return principal.role == Role.ADMIN or (principal.role == Role.EDITOR and bool(principal.agency))


async def _rated_policies(request: Request) -> list[dict[str, Any]]:
    """Policies whose answers were rated, most rated first, with their titles."""
    async with request.app.state.db.reader() as session:
        rated = await qa.feedback_by_policy(session)
        rows = []
        for policy_id, summary in sorted(rated.items(), key=lambda kv: -kv[1].total)[:BOARD_SIZE]:
            try:
                title = (await policies.get_policy(session, policy_id)).title
            except NotFound:
                continue
            rows.append({"id": policy_id, "title": title, "feedback": summary})
    return rows


@router.get("")
async def faq_list(
    request: Request, principal: ConsolePrincipal,
    department: Annotated[str, Query(max_length=120)] = "",
    message: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    async with request.app.state.db.reader() as session:
        entries = await faqs.list_faqs(session, department=department or None, limit=1_000_000)
        feedback = await qa.feedback_by_faq(session)
        unanswered = await qa.top_unanswered(session, BOARD_SIZE)
    return render(request, "faq/list.html", principal, entries=entries, feedback=feedback, unanswered=unanswered,
                  rated=await _rated_policies(request), department=department, message=message,
                  may_write=_may_write(principal), import_errors=[])


def _values_of(form: Any, principal: Principal) -> dict[str, str]:
    values = {name: str(form.get(name) or "") for name in FIELDS}
    if principal.role != Role.ADMIN:
        # An editor always writes for its own department, whatever the (read-only) field says.
        values["department"] = principal.agency or ""
    return values


def _input_of(values: dict[str, str], department: str) -> faqs.FaqInput:
    ids = [p for p in _ID_SEPARATORS.split(values["policy_ids"]) if p]
    if any(not p.isdigit() or int(p) > MAX_ID for p in ids):
        raise ValidationFailed("依据政策请填写政策编号，多个用逗号分隔", field="policy_ids")
    return faqs.FaqInput(question=values["question"], answer=values["answer"],
                         variants=tuple(v for v in values["variants"].splitlines() if v.strip()),
                         policy_ids=tuple(int(p) for p in ids), department=department)


def _form(request: Request, principal: Principal, values: dict[str, str], *, faq_id: int | None = None,
          errors: dict[str, str] | None = None, message: str = "", status_code: int = 200) -> Response:
    return render(request, "faq/form.html", principal, values=values, faq_id=faq_id, errors=errors or {},
                  message=message, status_code=status_code,
                  department_locked=principal.role != Role.ADMIN)


@router.get("/new")
async def new_faq(request: Request, principal: ConsolePrincipal,
                  question: Annotated[str, Query(max_length=300)] = "") -> Response:
    department = department_for(principal, "")
    return _form(request, principal, {**dict.fromkeys(FIELDS, ""), "question": question, "department": department})


@router.post("/new", dependencies=[CsrfChecked])
async def create_faq(request: Request, principal: ConsolePrincipal) -> Response:
    values = _values_of(await request.form(), principal)
    try:
        department = department_for(principal, values["department"])
        async with request.app.state.db.session() as session:
            view = await faqs.create_faq(session, _input_of(values, department), principal.actor)
    except DomainError as exc:
        return _form(request, principal, values, errors=field_errors(exc.details, exc.field, exc.message),
                     message=exc.message, status_code=exc.status_code)
    engine = engine_if_loaded(request)
    if engine is not None:
        engine.put_faq(view)
    return _back("已保存")


@router.get("/{faq_id:int}")  # ":int" keeps /import from matching here
async def edit_faq(request: Request, principal: ConsolePrincipal, faq_id: FaqId) -> Response:
    async with request.app.state.db.reader() as session:
        view = await faqs.get_faq(session, faq_id)
        summary = await qa.feedback_summary(session, faq_id=faq_id)
    values = {"question": view.question, "variants": "\n".join(view.variants), "answer": view.answer,
              "policy_ids": ", ".join(map(str, view.policy_ids)), "department": view.department}
    return render(request, "faq/form.html", principal, values=values, faq_id=faq_id, errors={}, message="",
                  feedback=summary, department_locked=principal.role != Role.ADMIN)


@router.post("/{faq_id:int}", dependencies=[CsrfChecked])
async def update_faq(request: Request, principal: ConsolePrincipal, faq_id: FaqId) -> Response:
    values = _values_of(await request.form(), principal)
    try:
        async with request.app.state.db.session() as session:
            require_owner(principal, await faqs.get_faq(session, faq_id))
            department = department_for(principal, values["department"])
            view = await faqs.update_faq(session, faq_id, _input_of(values, department))
    except DomainError as exc:
        return _form(request, principal, values, faq_id=faq_id, message=exc.message, status_code=exc.status_code,
                     errors=field_errors(exc.details, exc.field, exc.message))
    engine = engine_if_loaded(request)
    if engine is not None:
        engine.put_faq(view)
    return _back("已保存")


@router.post("/{faq_id:int}/delete", dependencies=[CsrfChecked])
async def delete_faq(request: Request, principal: ConsolePrincipal, faq_id: FaqId) -> Response:
    async with request.app.state.db.session() as session:
        require_owner(principal, await faqs.get_faq(session, faq_id))
        await faqs.delete_faq(session, faq_id)
    engine = engine_if_loaded(request)
    if engine is not None:
        engine.remove_faq(faq_id)
    return _back("已删除")


@router.post("/import", dependencies=[CsrfChecked])
async def import_faqs(request: Request, principal: ConsolePrincipal) -> Response:
    if not _may_write(principal):
        raise Forbidden("只有管理员或部门编辑可以导入问答", field="role")
    own = None if principal.role == Role.ADMIN else department_for(principal, "")
    upload = (await request.form()).get("file")
    content = await upload.read(MAX_UPLOAD_BYTES + 1) if isinstance(upload, UploadFile) else b""
    try:
        if not isinstance(upload, UploadFile) or not (upload.filename or "").lower().endswith(".xlsx"):
            raise ValidationFailed("请选择 .xlsx 文件", field="file")
        if len(content) > MAX_UPLOAD_BYTES:
            raise ValidationFailed("文件过大（最大 10 MB）", field="file")
        report = await import_workbook(request, content, principal.actor, department=own)
    except DomainError as exc:
        return _back(exc.message)
    summary = f"导入完成：新增 {report.created} 条，更新 {report.updated} 条"
    if report.errors:
        summary += f"，{len(report.errors)} 行未导入：" + "；".join(report.errors[:5])
    return _back(summary)


def _back(message: str) -> Response:
    return see_other(f"/console/faq?message={quote(message[:MAX_MESSAGE])}")
