from __future__ import annotations

import pytest

from bench.qa_eval import load_policies, policy_cards
from policies.qa.engine import QaEngine
from policies.qa.models import AnswerKind
from policies.qa.views import FaqView, Passage
from policies.text.tokenizer import get_tokenizer
from policies.views import PolicyView


@pytest.fixture(scope="module")
def engine() -> QaEngine:
    tokenize = get_tokenizer().index_tokens
    faq = FaqView(id=7, question="公租房多久能分到", variants=("公租房要排队多长时间",),
                  answer="审核公示后进入轮候，一般6个月内配租。", policy_ids=(1,), department="住建局",
                  phrasing_tokens=(tuple(tokenize("公租房多久能分到")), tuple(tokenize("公租房要排队多长时间"))))
    return QaEngine.build(policy_cards(load_policies(), tokenize), [faq], phone="0954-12345")


def test_answer_names_the_policy_and_quotes_the_passage_with_marks(engine: QaEngine) -> None:
    answer = engine.ask("公租房租金多少钱")
    assert answer.kind == AnswerKind.POLICY
    assert answer.policy is not None and answer.policy.policy_id == 1
    assert answer.policy.doc_no == "泾政办规发〔2023〕3号"
    assert answer.policy.validity_label == "有效"
    assert answer.policy.page_path == "/p/1"
    assert answer.passage is not None and "租金" in answer.passage.text
    assert answer.passage.marks
    assert "【租金】" in answer.passage.marked()
    assert "<b>租金</b>" in answer.passage.marked("<b>", "</b>")
    assert "/p/1" in answer.text and "泾源县公共租赁住房管理办法" in answer.text


def test_passage_segments_rebuild_the_text() -> None:
    passage = Passage("申请公共租赁住房的条件", ((2, 8),))
    assert passage.segments() == [("申请", False), ("公共租赁住房", True), ("的条件", False)]
    assert passage.marked("<", ">", lambda s: s.replace("条", "x")) == "申请<公共租赁住房>的x件"


def test_ambiguous_question_offers_alternatives(engine: QaEngine) -> None:
    answer = engine.ask("医保怎么报销")
    assert answer.kind == AnswerKind.POLICY
    ids = {answer.policy.policy_id, *(p.policy_id for p in answer.alternatives)}  # type: ignore[union-attr]
    assert {5, 7} <= ids
    assert 1 <= len(answer.alternatives) <= 3


def test_repealed_policy_is_marked_when_asked_for_by_doc_no(engine: QaEngine) -> None:
    answer = engine.ask("泾政办发〔2016〕41号")
    assert answer.policy is not None and answer.policy.policy_id == 2
    assert answer.policy.validity_label == "已废止"
    assert "已废止" in answer.text


def test_confident_faq_match_answers_directly(engine: QaEngine) -> None:
    answer = engine.ask("公租房要排队多长时间啊")
    assert answer.kind == AnswerKind.FAQ
    assert answer.faq_id == 7
    assert answer.faq_answer and answer.faq_answer in answer.text
    assert answer.policy is not None and answer.policy.policy_id == 1


def test_out_of_scope_question_is_declined_honestly(engine: QaEngine) -> None:
    answer = engine.ask("护照怎么办理")
    assert answer.kind == AnswerKind.NOT_FOUND
    assert answer.policy is None
    assert "没有找到" in answer.text and "0954-12345" in answer.text
    assert answer.phone == "0954-12345"


@pytest.mark.parametrize("question", ["", "   ", "😀😀", "hello world", None, 42])
def test_non_questions_get_a_clear_message(engine: QaEngine, question: object) -> None:
    answer = engine.ask(question)
    assert answer.kind == AnswerKind.INVALID
    assert "中文" in answer.text


@pytest.mark.parametrize("question", ["'; DROP TABLE policy;--", "<b>低保</b>", "低保" * 500, "\x00低保"])
def test_hostile_input_never_raises(engine: QaEngine, question: str) -> None:
    assert engine.ask(question).text


def test_long_question_says_it_was_cut(engine: QaEngine) -> None:
    assert "只按前" in engine.ask("低保标准是多少" * 100).text


def test_status_change_from_a_policy_view(engine: QaEngine) -> None:
    card = engine.card(9)
    assert card is not None
    view = PolicyView(id=9, title=card.title, doc_no=card.doc_no, agency=card.agency, kind="other",
                      audience="resident", topics=(), regions=(), industries=(), eligibility=(), keywords=(),
                      summary="", benefits="", who_qualifies="", application_opens=None,
                      application_closes=None, effective_date=None, expiry_date=None, issued_on=None,
                      status="expired", urgent=False, revision=1, published_at=None, created_by="x")
    try:
        assert engine.on_policy_changed(view)
        answer = engine.ask("高龄津贴发放标准")
        assert answer.policy is not None and answer.policy.policy_id == 9
        assert answer.policy.validity_label == "已失效"
    finally:
        engine.put_policy(card)
