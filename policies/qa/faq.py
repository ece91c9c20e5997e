"""The FAQ knowledge base (政策知识问答库), maintained by departments: CRUD and .xlsx import.

After a change commits, tell the engine: `engine.put_faq(view)` / `engine.remove_faq(id)`
(or `await engine.refresh_faq(session, id)`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.errors import NotFound, ValidationFailed
from policies import store as policy_store
from policies.publishable import refuse_personal_data
from policies.qa import store
from policies.qa.models import FaqEntry
from policies.qa.views import FaqImportReport, FaqView
from policies.text.docno import normalize_doc_no_text
from policies.text.tokenizer import get_tokenizer

MAX_QUESTION = 300
MAX_VARIANTS = 20
_VARIANT_SPLIT = re.compile(r"[\n；;|｜]+")


@dataclass(frozen=True)
class FaqInput:
    question: str
    answer: str
    variants: Sequence[str] = field(default_factory=tuple)
    policy_ids: Sequence[int] = field(default_factory=tuple)
    department: str = ""


def _clean(data: FaqInput) -> FaqInput:
    question = data.question.strip()
    answer = data.answer.strip()
    if not question:
        raise ValidationFailed("请填写问题", field="question")
    if len(question) > MAX_QUESTION:
        raise ValidationFailed(f"问题不能超过 {MAX_QUESTION} 个字", field="question")
    if not answer:
        raise ValidationFailed("请填写答案", field="answer")
    variants = [v.strip() for v in data.variants if v.strip() and v.strip() != question]
    variants = list(dict.fromkeys(variants))
    if len(variants) > MAX_VARIANTS:
        raise ValidationFailed(f"相似问法最多 {MAX_VARIANTS} 条", field="variants")
    # FAQ answers are shown to anyone who asks: no personal data in any of the three texts.
    refuse_personal_data({"question": question, "answer": answer, "variants": "；".join(variants)})
    return FaqInput(question=question, answer=answer, variants=tuple(variants),
                    policy_ids=tuple(dict.fromkeys(int(p) for p in data.policy_ids)),
                    department=data.department.strip())


async def _check_policies(session: AsyncSession, policy_ids: Sequence[int]) -> None:
    for policy_id in policy_ids:
        if not await store.policy_exists(session, policy_id):
            raise ValidationFailed(f"依据政策 {policy_id} 不存在", field="policy_ids")


def _phrasing_tokens(question: str, variants: Sequence[str]) -> str:
    tokenizer = get_tokenizer()
    return "\n".join(" ".join(tokenizer.index_tokens(p)) for p in (question, *variants))


def _apply(entry: FaqEntry, data: FaqInput) -> None:
    entry.question = data.question
    entry.answer = data.answer
    entry.variants = list(data.variants)
    entry.policy_ids = list(data.policy_ids)
    entry.department = data.department
    entry.tokens = _phrasing_tokens(data.question, data.variants)
    entry.updated_at = now()


async def create_faq(session: AsyncSession, data: FaqInput, actor: str = "") -> FaqView:
    data = _clean(data)
    await _check_policies(session, data.policy_ids)
    if await store.faq_by_question(session, data.question) is not None:
        raise ValidationFailed("知识库中已有相同的问题", field="question")
    entry = FaqEntry(created_by=actor, created_at=now())
    _apply(entry, data)
    session.add(entry)
    await session.flush()
    return store.faq_view(entry)


async def update_faq(session: AsyncSession, faq_id: int, data: FaqInput) -> FaqView:
    entry = await _get(session, faq_id)
    data = _clean(data)
    await _check_policies(session, data.policy_ids)
    same = await store.faq_by_question(session, data.question)
    if same is not None and same.id != faq_id:
        raise ValidationFailed("知识库中已有相同的问题", field="question")
    _apply(entry, data)
    await session.flush()
    return store.faq_view(entry)


async def delete_faq(session: AsyncSession, faq_id: int) -> None:
    await session.delete(await _get(session, faq_id))
    await session.flush()


async def get_faq(session: AsyncSession, faq_id: int) -> FaqView:
    return store.faq_view(await _get(session, faq_id))


async def list_faqs(session: AsyncSession, *, policy_id: int | None = None, department: str | None = None,
                    offset: int = 0, limit: int = 100) -> list[FaqView]:
    query = select(FaqEntry).order_by(FaqEntry.id)
    if department:
        query = query.where(FaqEntry.department == department)
    rows = [store.faq_view(e) for e in (await session.execute(query)).scalars()]
    # policy_ids is a JSON list; filtering in Python keeps SQLite and PostgreSQL alike.
    if policy_id is not None:
        rows = [r for r in rows if policy_id in r.policy_ids]
    return rows[offset : offset + limit]


async def _get(session: AsyncSession, faq_id: int) -> FaqEntry:
    entry = await store.faq_by_id(session, faq_id)
    if entry is None:
        raise NotFound(f"知识库条目 {faq_id} 不存在")
    return entry


# ----- .xlsx import ------------------------------------------------------------------------------

COLUMN_NAMES = {
    "question": ("问题", "标准问题", "问题描述"),
    "variants": ("相似问法", "相似问题", "其他问法", "同义问法"),
    "answer": ("答案", "回答", "答复"),
    "policies": ("依据政策", "相关政策", "政策", "政策文号", "政策编号"),
    "department": ("部门", "答复部门", "责任部门"),
}


async def import_faq_xlsx(session: AsyncSession, path: str | Path, actor: str = "", *,
                          department: str | None = None) -> FaqImportReport:
    """Rows of 问题 | 相似问法 (；or line breaks) | 答案 | 依据政策 (ids or 文号, ，-separated) | 部门.
    A question already in the knowledge base is updated. Bad rows are reported, not fatal.
    With `department` (a department editor's import), rows without a 部门 get it, and rows of
    another department, or updating another department's question, are refused."""
    from openpyxl import load_workbook  # late: no loop; openpyxl loads only for a spreadsheet

    try:
        workbook = load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationFailed(f"无法读取 Excel 文件：{exc}", field="file") from exc
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    workbook.close()
    if not rows:
        return FaqImportReport(0, 0, ("文件是空的",))
    columns = _columns(rows[0])
    if "question" not in columns or "answer" not in columns:
        raise ValidationFailed("表头须包含“问题”和“答案”两列", field="file")
    created = updated = 0
    errors: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        def cell(name: str, row: tuple = row) -> str:  # type: ignore[type-arg]
            index = columns.get(name)
            value = row[index] if index is not None and index < len(row) else None
            return "" if value is None else str(value).strip()

        if not cell("question") and not cell("answer"):
            continue
        try:
            policy_ids = await _policy_refs(session, cell("policies"))
            owner = cell("department") or (department or "")
            if department is not None and owner != department:
                raise ValidationFailed(f"只能导入本部门（{department}）的问答", field="department")
            data = FaqInput(question=cell("question"), answer=cell("answer"),
                            variants=tuple(_VARIANT_SPLIT.split(cell("variants"))),
                            policy_ids=policy_ids, department=owner)
            async with session.begin_nested():
                existing = await store.faq_by_question(session, data.question.strip())
                if existing is not None and department is not None and existing.department != department:
                    raise ValidationFailed("该问题属于其他部门，不能覆盖", field="question")
                if existing is None:
                    await create_faq(session, data, actor)
                    created += 1
                else:
                    await update_faq(session, existing.id, data)
                    updated += 1
        except (ValidationFailed, NotFound) as exc:
            errors.append(f"第 {number} 行：{exc.message}")
    return FaqImportReport(created=created, updated=updated, errors=tuple(errors))


def _columns(header: tuple) -> dict[str, int]:  # type: ignore[type-arg]
    found: dict[str, int] = {}
    for index, value in enumerate(header):
        name = str(value or "").strip()
        for key, names in COLUMN_NAMES.items():
            if name in names and key not in found:
                found[key] = index
    return found


async def _policy_refs(session: AsyncSession, text: str) -> tuple[int, ...]:
    ids: list[int] = []
    for ref in (r.strip() for r in re.split(r"[,，、\s]+", text) if r.strip()):
        if ref.isdigit():
            ids.append(int(ref))
            continue
        policy = await policy_store.policy_by_doc_no(session, normalize_doc_no_text(ref))
        if policy is None:
            raise ValidationFailed(f"找不到文号为 {ref} 的政策", field="policy_ids")
        ids.append(policy.id)
    return tuple(ids)
