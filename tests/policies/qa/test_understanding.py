"""Q&A on a real database: ambiguity answered with choices, place and age steering, the
passage that says what was asked, and small talk kept off the unanswered board."""

from __future__ import annotations

from core.db import Database
from policies.qa import service as qa
from policies.qa.engine import QaEngine
from policies.qa.models import AnswerKind
from tests.factories import make_published_policy

TOWNS = ("泾河源镇", "六盘山镇", "黄花乡")
PHONE = "0954-5012345"


async def meal_subsidies(db: Database) -> dict[str, int]:
    """The same subsidy in three townships: what a real library looks like."""
    ids = {}
    for town in TOWNS:
        policy = await make_published_policy(
            db, title=f"{town}老年人助餐补贴办法", agency="泾源县民政局", topics=["elderly_care"], interpretation=None,
            body=f"第一条 {town}户籍60周岁至79周岁老年人在长者饭堂就餐，每餐补贴3元。"
                 f"第二条 申请时携带身份证、户口簿到{town}便民服务中心办理。")
        ids[town] = policy.id
    return ids


async def load_engine(db: Database) -> QaEngine:
    async with db.reader() as session:
        return await QaEngine.load(session, phone=PHONE)


async def test_question_without_a_place_offers_the_plausible_policies(db: Database) -> None:
    ids = await meal_subsidies(db)
    answer = (await load_engine(db)).ask("老人去食堂吃饭有补贴吗")
    assert answer.kind == AnswerKind.CHOICES, answer
    offered = [answer.policy.policy_id, *(p.policy_id for p in answer.alternatives)]  # type: ignore[union-attr]
    assert sorted(offered) == sorted(ids.values())
    assert "您可能想问" in answer.text and PHONE in answer.text
    assert all(f"/p/{i}" in answer.text for i in offered)


async def test_a_named_place_picks_its_policy_and_another_place_is_declined(db: Database) -> None:
    ids = await meal_subsidies(db)
    engine = await load_engine(db)
    answer = engine.ask("六盘山镇老人吃饭补贴多少钱")
    assert answer.kind == AnswerKind.POLICY and answer.policy is not None
    assert answer.policy.policy_id == ids["六盘山镇"]
    assert answer.passage is not None and "3元" in answer.passage.text
    elsewhere = engine.ask("杭州老人吃饭补贴多少钱")
    assert elsewhere.kind == AnswerKind.NOT_FOUND and elsewhere.phone == PHONE


async def test_an_age_and_everyday_words_find_the_policy_with_that_age_condition(db: Database) -> None:
    await meal_subsidies(db)
    elderly = await make_published_policy(
        db, title="泾源县高龄老人津贴发放办法", agency="泾源县民政局", topics=["elderly_care"], interpretation=None,
        body="第一条 全县80周岁以上户籍老年人按月领取高龄津贴。"
             "第二条 80至89周岁每人每月100元，90周岁以上每人每月200元。")
    answer = (await load_engine(db)).ask("我妈80岁了能领啥钱")
    assert answer.answered and answer.policy is not None, answer
    assert answer.policy.policy_id == elderly.id
    assert answer.passage is not None and "元" in answer.passage.text


async def test_the_passage_says_what_was_asked(db: Database) -> None:
    await meal_subsidies(db)
    answer = (await load_engine(db)).ask("黄花乡助餐补贴要带什么材料")
    assert answer.answered and answer.passage is not None, answer
    assert "身份证" in answer.passage.text


async def test_a_homophone_typo_still_finds_the_policy(db: Database) -> None:
    subsidy = await make_published_policy(db, interpretation=None)  # 泾源县一次性创业补贴实施办法
    answer = (await load_engine(db)).ask("一次性创业补帖多少钱")
    assert answer.kind == AnswerKind.POLICY and answer.policy is not None
    assert answer.policy.policy_id == subsidy.id


async def test_small_talk_gets_a_helpful_reply_and_is_not_unanswered(db: Database) -> None:
    await meal_subsidies(db)
    engine = await load_engine(db)
    async with db.session() as session:
        hello = await qa.answer(session, engine, "你好", channel="web")
        human = await qa.answer(session, engine, "转人工", channel="telegram")
        thanks = await qa.answer(session, engine, "好的，谢谢！", channel="web")
        passport = await qa.answer(session, engine, "护照怎么办理", channel="web")
    assert hello.kind == human.kind == thanks.kind == AnswerKind.SMALL_TALK
    assert not hello.answered and hello.answer_id is not None
    assert "订阅" in hello.text and PHONE in hello.text
    assert "人工" in human.text and PHONE in human.text
    assert passport.kind == AnswerKind.NOT_FOUND
    async with db.reader() as session:
        board = await qa.top_unanswered(session)
    assert [q.text for q in board] == ["护照怎么办理"]
    # A greeting in front of a question does not hide the question.
    assert engine.ask("你好，六盘山镇助餐补贴多少").kind == AnswerKind.POLICY


async def test_an_amount_in_the_question_prefers_the_policy_that_names_it(db: Database) -> None:
    await meal_subsidies(db)
    general = await make_published_policy(db, title="泾源县一次性创业补贴实施办法", interpretation=None,
                                          body="一次性创业补贴按户发放，每户5000元。一次性创业补贴由县人社局审核。")
    returning = await make_published_policy(db, title="泾源县返乡人员创业扶持办法", interpretation=None,
                                            body="返乡人员首次创业的，给予一次性创业补贴10000元。")
    engine = await load_engine(db)
    # Written the resident's way (1万, 5千), not as the policies write the amounts.
    for amount, expected in (("1万", returning.id), ("5千", general.id)):
        answer = engine.ask(f"一次性创业补贴{amount}")
        assert answer.answered and answer.policy is not None, answer
        assert answer.policy.policy_id == expected, (amount, answer)


async def test_a_year_no_policy_is_about_is_not_answered_as_if_it_were(db: Database) -> None:
    await meal_subsidies(db)
    farmland = await make_published_policy(
        db, title="泾源县2023年耕地地力保护补贴实施方案", agency="泾源县农业农村局", topics=["agriculture"],
        interpretation=None, body="2023年耕地地力保护补贴标准为每亩105元，通过一卡通直接发放到户。")
    engine = await load_engine(db)
    answer = engine.ask("2023年耕地地力保护补贴每亩多少钱")
    assert answer.kind == AnswerKind.POLICY and answer.policy is not None
    assert answer.policy.policy_id == farmland.id
    assert engine.ask("2015年耕地地力保护补贴每亩多少钱").kind == AnswerKind.NOT_FOUND


def test_a_homophone_fix_never_breaks_a_real_word() -> None:
    from policies.search.policy_search import default_corrector
    from policies.search.synonyms import SynonymTable

    corrector = default_corrector(SynonymTable.load_all())
    # Typos are still corrected ...
    assert corrector.correct("临时旧助能给多少钱") == "临时救助能给多少钱"
    assert corrector.correct("失页金怎么领") == "失业金怎么领"
    # ... but a typed real word is not a typo (公示 is not a mistyped 公司), nor is a stretch
    # whose edge belongs to a word with its neighbour (今 of 今年, 增 of 增值税).
    assert corrector.correct("鹿泉残疾人补贴公示名单") == "鹿泉残疾人补贴公示名单"
    assert corrector.correct("企业交失业保险今年能退吗") == "企业交失业保险今年能退吗"
    assert corrector.correct("月销售额10万以下免增值税吗") == "月销售额10万以下免增值税吗"


async def test_two_questions_in_one_are_as_sure_as_the_one_a_policy_answers(db: Database) -> None:
    ids = await meal_subsidies(db)
    card = await make_published_policy(
        db, title="社会保障卡申领办法", agency="县人社局", interpretation=None,
        body="第一条 社会保障卡可在合作银行网点或线上申领，携带身份证原件。")
    engine = await load_engine(db)
    alone = engine.ask("六盘山镇助餐补贴怎么申请")
    both = engine.ask("六盘山镇助餐补贴怎么申请，另外社会保障卡怎么申领")
    assert alone.kind in AnswerKind.ANSWERED and both.kind in AnswerKind.ANSWERED, both
    # Judged on the clause each policy answers, not diluted by the other question.
    assert both.confidence >= 0.9 * alone.confidence, (alone.confidence, both.confidence)
    shown = [both.policy.policy_id, *(p.policy_id for p in both.alternatives)]  # type: ignore[union-attr]
    assert ids["六盘山镇"] in shown and card.id in shown, shown
