"""Services the library does not provide are declined (the out-of-scope word list), and a
question that is close to something but not close enough to answer is offered choices
("您可能想问") rather than 没有找到."""

from __future__ import annotations

from pathlib import Path

from core.db import Database
from policies.qa.engine import OFFER, PLAUSIBLE, QaEngine
from policies.qa.models import AnswerKind
from policies.search import word_lists
from policies.search.synonyms import outside_words
from tests.factories import make_published_policy
from tests.policies.qa.test_understanding import load_engine, meal_subsidies


def test_the_out_of_scope_list_is_read_edited_and_checked(tmp_path: Path) -> None:
    shipped = word_lists.read_list("out_of_scope")
    assert "房产证" in outside_words(shipped) and "=>" in shipped
    assert "房产证" in word_lists.load_table().outside
    # Out-of-scope words never expand a query: they are not synonyms of anything.
    assert "房产证" not in word_lists.load_table().words()
    assert word_lists.check_list("不动产 => 房产证 = 不动产证\n") == []
    word_lists.save_list("out_of_scope", shipped + "\n船舶 => 船员证\n", tmp_path)
    assert "船员证" in word_lists.load_table(tmp_path).outside
    assert "船员证" not in word_lists.load_table().outside
    assert outside_words("# 注释\n身份证 = 护照\n户籍 => 户口本\n") == {"身份证", "护照", "户口本"}


async def test_a_service_the_library_does_not_provide_is_declined(db: Database) -> None:
    await meal_subsidies(db)  # their bodies ask for 身份证、户口簿: the words are in the library
    engine = await load_engine(db)
    question = "身份证户口簿在哪办理"
    answer = engine.ask(question)
    assert answer.kind == AnswerKind.NOT_FOUND, answer
    # The list is what declines it: without it the same words are answered from the bodies.
    engine.use_word_lists(word_lists.load_table().with_outside(frozenset()))
    assert engine.ask(question).kind in AnswerKind.ANSWERED
    # A document a policy asks for does not turn its own question away.
    engine.use_word_lists(word_lists.load_table())
    about_meals = engine.ask("六盘山镇助餐补贴申请要带身份证吗")
    assert about_meals.kind in AnswerKind.ANSWERED and about_meals.policy is not None


async def test_once_a_policy_is_about_the_word_it_no_longer_counts(db: Database) -> None:
    await meal_subsidies(db)
    engine = await load_engine(db)
    assert engine.ask("身份证户口簿在哪办理").kind == AnswerKind.NOT_FOUND
    card = await make_published_policy(
        db, title="泾源县居民身份证户口簿办理指南", agency="泾源县公安局", interpretation=None,
        body="第一条 居民身份证、户口簿在县公安局户籍窗口办理。")
    async with db.reader() as session:
        await engine.refresh_policy(session, card.id)
    answer = engine.ask("身份证户口簿在哪办理")
    assert answer.kind in AnswerKind.ANSWERED and answer.policy is not None
    assert answer.policy.policy_id == card.id
    engine.remove_policy(card.id)
    assert engine.ask("身份证户口簿在哪办理").kind == AnswerKind.NOT_FOUND


async def test_close_but_not_plausible_offers_choices_instead_of_declining(db: Database) -> None:
    ids = await meal_subsidies(db)
    engine: QaEngine = await load_engine(db)
    assert 0 < OFFER < PLAUSIBLE and engine.offer == OFFER
    question = "老人就餐折扣卡"  # 老人 and 就餐 are there, 折扣卡 is not: close, not plausible
    declined = engine.ask(question)
    assert declined.confidence < PLAUSIBLE, declined
    # The boundary moved below this question's confidence (bench.qa_real calibrates it).
    engine.offer = declined.confidence - 0.01
    answer = engine.ask(question)
    assert answer.kind == AnswerKind.CHOICES, answer
    offered = [answer.policy.policy_id, *(p.policy_id for p in answer.alternatives)]  # type: ignore[union-attr]
    assert set(offered) <= set(ids.values()) and 1 <= len(offered) <= 3
    assert "您可能想问" in answer.text and answer.phone
    # Above the boundary it is declined, with the phone line.
    engine.offer = declined.confidence + 0.01
    again = engine.ask(question)
    assert again.kind == AnswerKind.NOT_FOUND and again.phone
