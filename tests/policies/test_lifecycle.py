from __future__ import annotations

from datetime import date

import pytest

from core.clock import FixedClock
from core.db import Database
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from policies import service as policies
from policies.service import InterpretationInput
from tests.factories import amend_policy, draft_input, make_draft, make_published_policy, repeal_policy


async def test_publish_writes_revision_event_and_interpretation_due_date(db: Database, clock: FixedClock) -> None:
    published = await make_published_policy(db, doc_no="泾人社发[2026]3号")
    assert published.status == "published" and published.validity_label == "有效"
    assert published.doc_no == "泾人社发〔2026〕3号"
    assert "创业" in published.tokens
    async with db.reader() as session:
        events = await policies.events_after(session, 0)
        interpretation = await policies.get_interpretation(session, published.id)
    assert [(e.policy_id, e.kind, e.revision) for e in events] == [(published.id, "published", 1)]
    assert interpretation is not None
    # Published Monday 2 March 2026 → due three working days later, Thursday 5 March.
    assert interpretation.due_on == date(2026, 3, 5)


async def test_amend_keeps_the_old_revision_readable(db: Database, clock: FixedClock) -> None:
    published = await make_published_policy(db)
    amended = await amend_policy(db, published.id)
    assert amended.revision == 2
    async with db.reader() as session:
        revisions = await policies.list_revisions(session, published.id)
        events = await policies.events_after(session, 0)
    assert [r.number for r in revisions] == [1, 2]
    assert "5000元" in revisions[0].body and "6000元" in revisions[1].body
    assert revisions[1].change_summary == "补贴标准由5000元提高到6000元"
    assert [e.kind for e in events] == ["published", "amended"]


async def test_repeal_and_expire(db: Database, clock: FixedClock) -> None:
    repealed = await repeal_policy(db, (await make_published_policy(db)).id)
    assert repealed.validity_label == "已废止"
    expiring = await make_published_policy(
        db, title="到期政策", effective_date=date(2025, 1, 1), expiry_date=date(2026, 2, 28)
    )
    async with db.session() as session:
        assert await policies.expire_due(session) == [expiring.id]
    async with db.session() as session:
        assert await policies.expire_due(session) == []  # idempotent
        assert (await policies.get_policy(session, expiring.id)).validity_label == "已失效"
        kinds = [e.kind for e in await policies.events_after(session, 0)]
    assert kinds.count("expired") == 1 and "repealed" in kinds


async def test_bad_input_names_each_field(db: Database, clock: FixedClock) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await make_draft(
            db,
            doc_no="泾政办发2023第12",
            effective_date=date(2026, 5, 1),
            expiry_date=date(2026, 4, 1),
            topics=["不存在的主题"],
        )
    fields = {item["field"] for item in caught.value.details}  # type: ignore[union-attr]
    assert {"doc_no", "expiry_date", "topics"} <= fields
    assert "文号格式不正确" in caught.value.message
    async with db.reader() as session:
        assert (await policies.list_policies(session))[1] == 0  # nothing half-written


async def test_duplicate_doc_no_is_refused(db: Database, clock: FixedClock) -> None:
    await make_draft(db, doc_no="泾政办发〔2026〕1号")
    with pytest.raises(Conflict):
        await make_draft(db, doc_no="泾政办发[2026]1号", title="另一份")


async def _force_approved(db: Database, policy_id: int) -> None:
    """A policy approved before submit checked what publishing needs (the stuck case)."""
    from sqlalchemy import update

    from policies.models import Policy

    async with db.session() as session:
        await session.execute(update(Policy).where(Policy.id == policy_id).values(status="approved", approvals=1))


async def test_normative_document_needs_a_complete_interpretation(db: Database, clock: FixedClock) -> None:
    draft = await make_draft(
        db,
        kind="normative",
        doc_no="泾政规发〔2026〕1号",
        interpretation=InterpretationInput(elements={"background": "依据"}, unit="", phone=""),
    )
    # Submit already names every gap, so nothing incomplete can be approved into a dead end.
    with pytest.raises(ValidationFailed) as caught:
        async with db.session() as session:
            await policies.submit(session, draft.id, "editor")
    assert "政策解读缺少“目标任务”" in caught.value.message
    fields = {item["field"] for item in caught.value.details}  # type: ignore[union-attr]
    assert {"interpretation.goals", "interpretation.unit", "interpretation.phone"} <= fields
    assert "interpretation.background" not in fields
    async with db.reader() as session:
        assert (await policies.get_policy(session, draft.id)).status == "draft"
    # Publishing still re-checks, for policies approved before submit did.
    await _force_approved(db, draft.id)
    with pytest.raises(ValidationFailed):
        async with db.session() as session:
            await policies.publish(session, draft.id, "editor")
    async with db.reader() as session:
        assert (await policies.get_policy(session, draft.id)).status == "approved"


async def test_approved_policy_can_be_withdrawn_to_draft_with_a_reason(db: Database, clock: FixedClock) -> None:
    draft = await make_draft(db, author="editor")
    async with db.session() as session:
        await policies.submit(session, draft.id, "editor")
    async with db.session() as session:
        await policies.approve(session, draft.id, "reviewer")
    with pytest.raises(ValidationFailed):
        async with db.session() as session:
            await policies.withdraw(session, draft.id, "editor", "  ")
    async with db.session() as session:
        withdrawn = await policies.withdraw(session, draft.id, "editor", "补充解读后再发布")
    assert withdrawn.status == "draft" and withdrawn.approvals == 0
    async with db.reader() as session:
        history = await policies.history(session, draft.id)
    assert (history[-1].action, history[-1].actor, history[-1].detail) == ("withdraw", "editor", "补充解读后再发布")
    with pytest.raises(Conflict):
        async with db.session() as session:
            await policies.withdraw(session, draft.id, "editor", "再撤一次")


async def test_personal_data_blocks_submitting_and_publishing(db: Database, clock: FixedClock) -> None:
    leaked = "联系人张三，手机13812345678，身份证号11010519491231002X。"
    draft = await make_draft(db, body="补贴对象如下。" + leaked)
    with pytest.raises(ValidationFailed) as at_submit:
        async with db.session() as session:
            await policies.submit(session, draft.id, "editor")
    assert at_submit.value.message.startswith("正文含有个人信息：")
    await _force_approved(db, draft.id)
    with pytest.raises(ValidationFailed) as caught:
        async with db.session() as session:
            await policies.publish(session, draft.id, "editor")
    assert "身份证号" in caught.value.message and "手机号码" in caught.value.message
    assert "body" not in caught.value.message
    fields = [item["field"] for item in caught.value.details]  # type: ignore[union-attr]
    assert fields == ["body", "body"]


async def test_review_rules(db: Database, clock: FixedClock) -> None:
    draft = await make_draft(db, author="editor")
    with pytest.raises(Conflict):
        async with db.session() as session:
            await policies.publish(session, draft.id, "editor")
    async with db.session() as session:
        await policies.submit(session, draft.id, "editor")
    with pytest.raises(Forbidden):
        async with db.session() as session:
            await policies.approve(session, draft.id, "editor")
    with pytest.raises(ValidationFailed):
        async with db.session() as session:
            await policies.return_draft(session, draft.id, "reviewer", "  ")
    async with db.session() as session:
        returned = await policies.return_draft(session, draft.id, "reviewer", "请补充申报材料清单")
    assert returned.status == "draft"
    async with db.session() as session:
        updated = await policies.update_draft(session, draft.id, draft_input(title="修改后的标题"), "editor")
    assert updated.title == "修改后的标题"


async def test_unknown_policy(db: Database) -> None:
    with pytest.raises(NotFound):
        async with db.reader() as session:
            await policies.get_policy(session, 999)


async def test_history_records_who_did_what(db: Database, clock: FixedClock) -> None:
    published = await make_published_policy(db, author="editor", reviewer="reviewer")
    await repeal_policy(db, published.id, actor="admin")
    async with db.reader() as session:
        entries = await policies.history(session, published.id)
    assert [(e.action, e.actor) for e in entries] == [
        ("create", "editor"),
        ("submit", "editor"),
        ("approve", "reviewer"),
        ("publish", "editor"),
        ("repeal", "admin"),
    ]
    assert published.approvals == 1


async def test_two_review_levels_need_two_different_reviewers(db: Database, clock: FixedClock) -> None:
    draft = await make_draft(db, author="editor")
    async with db.session() as session:
        await policies.submit(session, draft.id, "editor")
    async with db.session() as session:
        first = await policies.approve(session, draft.id, "reviewer-1", review_levels=2)
    assert (first.status, first.approvals) == ("submitted", 1)
    with pytest.raises(Forbidden):
        async with db.session() as session:
            await policies.approve(session, draft.id, "reviewer-1", review_levels=2)
    async with db.session() as session:
        second = await policies.approve(session, draft.id, "reviewer-2", review_levels=2)
    assert (second.status, second.approvals) == ("approved", 2)


def test_policy_modules_read_no_settings_themselves() -> None:
    """Settings come in from the caller (typed), so a domain module never reads the environment."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "policies"
    # The Q&A engine's and the search index's data folders are not yet passed in (qa/, search/).
    modules = [p for p in root.rglob("*.py") if p.relative_to(root).parts[0] not in ("qa", "search")]
    readers = [str(p.relative_to(root)) for p in modules if "get_settings(" in p.read_text(encoding="utf-8")]
    assert readers == []
