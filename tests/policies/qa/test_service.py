from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from core.clock import FixedClock
from core.db import Database
from core.errors import NotFound, ValidationFailed
from policies import service as policies
from policies.qa import faq as faqs
from policies.qa import service as qa
from policies.qa.engine import QaEngine
from policies.qa.models import AnswerKind
from tests.factories import amend_policy, make_published_policy, repeal_policy

HOUSING = {
    "title": "泾源县公共租赁住房管理办法",
    "doc_no": "泾政办规发〔2023〕3号",
    "agency": "泾源县住房和城乡建设局",
    "body": "申请公共租赁住房应当具有本县城镇户籍或在本县稳定就业，家庭人均收入低于上年度人均可支配收入的70%。"
            "公共租赁住房租金按市场租金的60%收取。",
    "topics": ["housing"],
}


async def load_engine(db: Database) -> QaEngine:
    async with db.reader() as session:
        return await QaEngine.load(session, phone="12345")


async def test_engine_loads_from_stored_tokens_and_follows_the_lifecycle(db: Database, clock: FixedClock) -> None:
    housing = await make_published_policy(db, **HOUSING)
    subsidy = await make_published_policy(db, doc_no="泾人社规发〔2023〕2号")
    engine = await load_engine(db)
    assert len(engine) == 2
    assert engine.ask("公租房谁能申请").policy.policy_id == housing.id  # type: ignore[union-attr]
    assert engine.ask("创业补贴能拿多少").policy.policy_id == subsidy.id  # type: ignore[union-attr]

    await amend_policy(db, subsidy.id, body="首次创业的，一次性创业补贴提高到8000元，带动就业的另奖励2000元。")
    async with db.reader() as session:
        await engine.refresh_policy(session, subsidy.id)
    assert "8000" in engine.card(subsidy.id).body  # type: ignore[union-attr]
    answer = engine.ask("创业带动就业奖励多少")
    assert answer.passage is not None and "2000" in answer.passage.text, answer

    await repeal_policy(db, housing.id)
    async with db.reader() as session:
        await engine.refresh_policy(session, housing.id)
    answer = engine.ask("泾政办规发〔2023〕3号")
    assert answer.policy is not None and answer.policy.validity_label == "已废止"

    # Incremental updates end where a fresh load from the database starts.
    fresh = await load_engine(db)
    for question in ("公租房谁能申请", "创业补贴能拿多少", "泾政办规发〔2023〕3号"):
        assert engine.rank(question).hits == fresh.rank(question).hits


async def test_drafts_are_not_answered(db: Database, clock: FixedClock) -> None:
    async with db.session() as session:
        from tests.factories import draft_input

        draft = await policies.create_draft(session, draft_input(**HOUSING), "editor")
    engine = await load_engine(db)
    assert len(engine) == 0
    async with db.reader() as session:
        await engine.refresh_policy(session, draft.id)
    assert len(engine) == 0
    assert engine.ask("公租房谁能申请").kind == AnswerKind.NOT_FOUND


async def test_unanswered_questions_are_logged_and_counted(db: Database, clock: FixedClock) -> None:
    await make_published_policy(db, **HOUSING)
    engine = await load_engine(db)
    async with db.session() as session:
        for channel in ("telegram", "wechat", "web"):
            answer = await qa.answer(session, engine, "护照怎么办理", channel=channel)
            assert answer.kind == AnswerKind.NOT_FOUND and answer.answer_id is not None
            assert "12345" in answer.text
        clock.advance(timedelta(minutes=5))
        await qa.answer(session, engine, "護照怎麼辦理", channel="web")  # folds to the same question
        await qa.answer(session, engine, "驾照到期怎么换", channel="web")
        answered = await qa.answer(session, engine, "公租房谁能申请", channel="web")
        assert answered.kind == AnswerKind.POLICY
    async with db.reader() as session:
        top = await qa.top_unanswered(session, limit=10)
    assert [(u.text, u.count) for u in top] == [("护照怎么办理", 4), ("驾照到期怎么换", 1)]
    assert top[0].channels == ("telegram", "web", "wechat")
    assert top[0].last_asked_at == clock.now()


async def test_feedback_is_stored_per_answer_and_summarised(db: Database, clock: FixedClock) -> None:
    housing = await make_published_policy(db, **HOUSING)
    engine = await load_engine(db)
    async with db.session() as session:
        first = await qa.answer(session, engine, "公租房谁能申请", channel="telegram")
        second = await qa.answer(session, engine, "公租房租金多少", channel="wechat")
        assert first.answer_id is not None and second.answer_id is not None
        await qa.record_feedback(session, first.answer_id, useful=False)
        await qa.record_feedback(session, first.answer_id, useful=True)  # changed their mind
        await qa.record_feedback(session, second.answer_id, useful=False, comment="没说清楚")
    async with db.reader() as session:
        assert await qa.answer_feedback(session, first.answer_id) is True
        assert await qa.answer_feedback(session, second.answer_id) is False
        summary = await qa.feedback_summary(session, policy_id=housing.id)
        assert (summary.useful, summary.not_useful) == (1, 1)
    async with db.session() as session:
        with pytest.raises(NotFound):
            await qa.record_feedback(session, 999_999, useful=True)


async def test_faq_crud_and_confident_faq_answer(db: Database, clock: FixedClock) -> None:
    housing = await make_published_policy(db, **HOUSING)
    engine = await load_engine(db)
    async with db.session() as session:
        entry = await faqs.create_faq(session, faqs.FaqInput(
            question="公租房多久能分到", variants=["公租房要排队多长时间", "公租房要等多久"],
            answer="审核公示后进入轮候，一般6个月内配租。", policy_ids=[housing.id], department="县住建局"))
    engine.put_faq(entry)
    answer = engine.ask("公租房要排队多长时间")
    assert answer.kind == AnswerKind.FAQ and answer.faq_id == entry.id
    assert answer.policy is not None and answer.policy.policy_id == housing.id

    async with db.session() as session:
        updated = await faqs.update_faq(session, entry.id, faqs.FaqInput(
            question="公租房多久能分到", variants=["公租房要排队多长时间"], answer="一般3个月内配租。",
            policy_ids=[housing.id]))
        assert (await faqs.get_faq(session, entry.id)).answer == "一般3个月内配租。"
        assert [f.id for f in await faqs.list_faqs(session, policy_id=housing.id)] == [entry.id]
        with pytest.raises(ValidationFailed):
            await faqs.create_faq(session, faqs.FaqInput(question="公租房多久能分到", answer="重复"))
        with pytest.raises(ValidationFailed):
            await faqs.create_faq(session, faqs.FaqInput(question="别的问题", answer="x", policy_ids=[424242]))
    engine.put_faq(updated)
    assert "3个月" in engine.ask("公租房要排队多长时间").text

    # The loaded engine sees the FAQ too (tokens stored on the row).
    assert (await load_engine(db)).ask("公租房要排队多长时间").faq_id == entry.id

    async with db.session() as session:
        await faqs.delete_faq(session, entry.id)
        assert await faqs.list_faqs(session) == []
    engine.remove_faq(entry.id)
    assert engine.ask("公租房要排队多长时间").kind != AnswerKind.FAQ


async def test_import_faq_xlsx(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    housing = await make_published_policy(db, **HOUSING)
    book = Workbook()
    sheet = book.active
    sheet.append(["问题", "相似问法", "答案", "依据政策", "部门"])
    sheet.append(["公租房多久能分到", "公租房要排队多长时间；公租房要等多久", "一般6个月内配租。",
                  "泾政办规发[2023]3号", "县住建局"])
    sheet.append(["公租房租金怎么交", None, "按月缴纳至住建局指定账户。", str(housing.id), "县住建局"])
    sheet.append(["缺答案的问题", None, None, None, None])
    sheet.append(["引用了不存在的政策", None, "答案", "泾政发〔2099〕1号", None])
    path = tmp_path / "faq.xlsx"
    book.save(path)

    async with db.session() as session:
        report = await faqs.import_faq_xlsx(session, path, actor="住建局")
    assert (report.created, report.updated) == (2, 0)
    assert len(report.errors) == 2 and report.errors[0].startswith("第 4 行")
    async with db.session() as session:
        again = await faqs.import_faq_xlsx(session, path)
        assert (again.created, again.updated) == (0, 2)
        entries = await faqs.list_faqs(session)
    assert entries[0].variants == ("公租房要排队多长时间", "公租房要等多久")
    assert entries[0].policy_ids == (housing.id,)
    engine = await load_engine(db)
    assert engine.ask("公租房要等多久").kind == AnswerKind.FAQ


async def test_import_rejects_a_file_without_the_needed_columns(db: Database, tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["标题", "内容"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    async with db.session() as session:
        with pytest.raises(ValidationFailed):
            await faqs.import_faq_xlsx(session, path)
        with pytest.raises(ValidationFailed):
            await faqs.import_faq_xlsx(session, tmp_path / "missing.xlsx")
