"""Understanding colloquial Chinese: the concept map, filler stripping and homophone typos."""

from __future__ import annotations

from policies.search.policy_search import PolicySearch, default_corrector
from policies.search.synonyms import SynonymTable
from policies.search.typos import HomophoneCorrector
from policies.text.tokenizer import get_tokenizer


def test_concept_map_turns_everyday_words_into_policy_words() -> None:
    table = SynonymTable.load_all()
    assert "创业" in table.partners["饭馆"] and "个体工商户" in table.partners["理发店"]
    assert "老年人" in table.partners["我妈"]
    # One-way: the policy word does not expand back into the everyday word.
    assert "饭馆" not in table.partners.get("创业", ())
    search = PolicySearch(get_tokenizer().query_tokens)
    _, terms = search.query_terms(search.strip_fillers("我想开个小饭馆有没有补贴"), "我想开个小饭馆有没有补贴")
    expanded = {t.token for t in terms if t.origin}
    assert {"创业", "个体工商户"} <= expanded


def test_edited_concept_lines_take_effect() -> None:
    table = SynonymTable.parse("修车铺 = 洗车店 => 个体工商户 = 创业\n")
    assert table.partners["洗车店"] == ("个体工商户", "创业")
    merged = SynonymTable.parse("医保 = 医疗保险\n").merged(table)
    assert merged.partners["医保"] == ("医疗保险",) and "创业" in merged.partners["修车铺"]


def test_fillers_are_stripped_before_segmenting() -> None:
    search = PolicySearch(get_tokenizer().query_tokens)
    typed, _ = search.query_terms(search.strip_fillers("失业金能领多久"))
    assert "金能领" not in typed and "失业" in typed
    assert search.strip_fillers("请问公租房怎么申请呢").split() == ["公租房", "申请"]


def test_homophone_typos_find_the_policy_term() -> None:
    corrector = default_corrector(SynonymTable.load_all())
    assert corrector.correct("公基金怎么取") == "公积金怎么取"
    assert corrector.correct("低宝标准多少") == "低保标准多少"
    assert corrector.correct("一次性创业补帖多少钱") == "一次性创业补贴多少钱"
    assert corrector.correct("临时就助怎么申请") == "临时救助怎么申请"
    assert corrector.correct("技能提身补贴") == "技能提升补贴"  # sheng/shen, said alike by many


def test_a_real_word_is_not_corrected_into_a_rarer_term() -> None:
    frequencies = {"公式": 5000, "公示": 800}
    corrector = HomophoneCorrector(["公示", "补贴"], lambda w: frequencies.get(w, 0))
    assert corrector.correct("公式怎么算") == "公式怎么算"
    assert corrector.correct("补帖") == "补贴"
    # Two wrong characters out of two is another word, not a typo.
    assert HomophoneCorrector(["补贴"]).correct("不铁") == "不铁"


def test_an_understood_question_is_remembered_until_the_lists_change() -> None:
    calls: list[str] = []

    def tokenize(text: str) -> list[str]:
        calls.append(text)
        return get_tokenizer().query_tokens(text)

    search = PolicySearch(tokenize, synonyms=SynonymTable.parse("医保 = 医疗保险\n"))
    first = search.understand("修车铺有补贴吗")
    calls.clear()
    assert search.understand("修车铺有补贴吗") == first and calls == []  # not segmented again
    assert not any(t.origin for t in first[2])
    search.use_word_lists(SynonymTable.parse("修车铺 => 创业\n"))
    understood, _, terms = search.understand("修车铺有补贴吗")
    assert calls and understood == first[0]
    assert "创业" in {t.token for t in terms if t.origin}
    # What a caller does with a result's lists does not reach the remembered question.
    result = search.search("修车铺有补贴吗")
    result.terms.clear()
    assert search.search("修车铺有补贴吗").terms
