from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.search.normalize import MAX_QUERY_CHARS, normalize_query
from policies.search.policy_search import PolicyEntry, PolicySearch
from policies.search.stored_tokens import indexed_document, split_title_tokens
from policies.search.synonyms import SynonymTable
from policies.text.tokenizer import get_tokenizer

POLICIES = [
    (1, "泾源县公共租赁住房管理办法", "泾政办规发〔2023〕3号", "published",
     "申请公共租赁住房应具有本县城镇户籍或稳定职业，家庭人均收入低于规定标准。租金按市场租金的60%收取。"),
    (2, "泾源县公共租赁住房管理暂行办法", "泾政办发〔2016〕41号", "repealed",
     "申请公共租赁住房应具有本县城镇户籍，家庭人均月收入低于800元。"),
    (3, "泾源县城乡居民基本医疗保险实施办法", "泾医保发〔2023〕5号", "published",
     "参保居民在县级医院住院，起付线500元，政策范围内费用报销80%。"),
    (4, "泾源县一次性创业补贴实施细则", "泾人社规发〔2023〕2号", "published",
     "首次创办小微企业或从事个体经营的，给予一次性创业补贴5000元。"),
    (5, "泾源县城乡最低生活保障实施办法", "泾民规发〔2023〕1号", "published",
     "城市最低生活保障标准为每人每月750元，农村为每人每年5400元。"),
    (6, "泾源县高龄老人津贴发放管理办法", "泾民发〔2022〕11号", "published",
     "80周岁以上老年人按月发放高龄津贴。"),
]


@pytest.fixture(scope="module")
def search() -> PolicySearch:
    tokenize = get_tokenizer().index_tokens
    entries = [
        (indexed_document(policy_id=pid, title=title, doc_no=doc_no, status=status,
                          revision_tokens=" ".join(tokenize(f"{title}\n{body}"))), PolicyEntry(title, doc_no))
        for pid, title, doc_no, status, body in POLICIES
    ]
    return PolicySearch.build(tokenize, entries)


def top_ids(search: PolicySearch, query: str) -> list[int]:
    return [h.policy_id for h in search.search(query).hits]


def test_valid_policy_ranks_above_the_repealed_one_which_stays_findable(search: PolicySearch) -> None:
    hits = search.search("公共租赁住房申请条件").hits
    assert [h.policy_id for h in hits[:2]] == [1, 2]
    assert not hits[1].is_valid


@pytest.mark.parametrize("query", [
    "泾政办发〔2016〕41号", "泾政办发[2016]41号", "泾政办发（2016）41号", "泾政办发2016年41号",
    "请问泾政办发〔2016〕41号还有效吗", "泾政办发 2016 41号",
])
def test_doc_no_finds_its_policy_first_even_when_repealed(search: PolicySearch, query: str) -> None:
    result = search.search(query)
    assert result.hits[0].policy_id == 2
    assert result.hits[0].exact
    assert result.coverage == 1.0


def test_title_fragment_finds_its_policy_first(search: PolicySearch) -> None:
    assert top_ids(search, "公共租赁住房管理暂行办法")[0] == 2
    assert top_ids(search, "《泾源县高龄老人津贴发放管理办法》是什么")[0] == 6


@pytest.mark.parametrize(("query", "policy_id"), [
    ("医保住院报销多少", 3), ("公租房谁能申请", 1), ("低保标准", 5), ("创业补贴怎么申请", 4),
])
def test_synonyms_and_colloquial_forms(search: PolicySearch, query: str, policy_id: int) -> None:
    assert top_ids(search, query)[0] == policy_id


@pytest.mark.parametrize(("query", "policy_id"), [
    ("醫保住院報銷多少", 3), ("公租房誰能申請", 1), ("創業補貼怎麼申請", 4), ("高齡津貼", 6),
])
def test_traditional_characters(search: PolicySearch, query: str, policy_id: int) -> None:
    assert top_ids(search, query)[0] == policy_id


def test_synonym_file_format() -> None:
    table = SynonymTable.parse("医保 = 医疗保险\n创业补贴 => 一次性创业补贴 = 创业担保贷款  # 单向\n")
    assert table.partners["医保"] == ("医疗保险",)
    assert table.partners["医疗保险"] == ("医保",)
    assert set(table.partners["创业补贴"]) == {"一次性创业补贴", "创业担保贷款"}
    assert "一次性创业补贴" not in table.partners
    assert SynonymTable.load().partners["公租房"]  # the shipped file parses


@pytest.mark.parametrize("query", [
    "", "   ", "😀😀😀", "hello world", "'; DROP TABLE policy;--", "<script>alert(1)</script>",
    "\x00\x01", "号" * 5000, "〔〕号", "2023年99999号", "《》", "泾政发〔〕号",
])
def test_bad_input_never_raises(search: PolicySearch, query: str) -> None:
    result = search.search(query)
    assert 0.0 <= result.coverage <= 1.0


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=50), st.integers(), st.none()))
def test_any_input_never_raises(search: PolicySearch, query: object) -> None:
    search.search(query)


def test_query_is_capped() -> None:
    long = "公租房" * 1000
    query = normalize_query(long)
    assert query.truncated and len(query.text) == MAX_QUERY_CHARS
    assert normalize_query("ＡＢＣ１２３").text == "abc123"


def test_title_tokens_are_recovered_from_the_stored_revision_tokens() -> None:
    tokenize = get_tokenizer().index_tokens
    title = "关于印发《泾源县一次性创业补贴实施细则》的通知"
    tokens = tokenize(f"{title}\n创业者在本县首次创办小微企业")
    title_tokens, body_tokens = split_title_tokens(title, tokens)
    assert title_tokens == tokenize(title)
    assert body_tokens == tokenize("创业者在本县首次创办小微企业")


def test_incremental_changes_through_the_facade(search: PolicySearch) -> None:
    tokenize = get_tokenizer().index_tokens
    title = "泾源县农机购置补贴实施方案"
    doc = indexed_document(policy_id=99, title=title, doc_no="泾农发〔2023〕15号", status="published",
                           revision_tokens=" ".join(tokenize(f"{title}\n购买农业机械可以申请补贴。")))
    search.add_or_replace(doc, PolicyEntry(title, "泾农发〔2023〕15号"))
    assert top_ids(search, "泾农发〔2023〕15号")[0] == 99
    assert top_ids(search, "农机购置补贴")[0] == 99
    assert search.remove(99)
    assert 99 not in top_ids(search, "农机购置补贴")
    assert 99 not in top_ids(search, "泾农发〔2023〕15号")
