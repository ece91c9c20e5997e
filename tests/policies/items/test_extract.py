"""Suggested items from a text: sums, rates, caps, ages, deadlines and the groups named."""

from __future__ import annotations

from datetime import date

from policies.items.extract import suggest_items

TEXT = (
    "对新认定的高新技术企业给予一次性奖励10万元。"
    "小微企业贷款按实际利息的30%给予贴息，最高不超过10万元，2026年6月30日前申报。"
    "16至45周岁的就业困难人员每月补贴300元。"
    "本办法自发布之日起施行。"
)


def test_each_promise_of_money_becomes_a_suggestion() -> None:
    award, interest, allowance = suggest_items(TEXT)
    assert (award.name, award.amount_yuan, award.cap_yuan) == ("一次性奖励", 100_000, None)
    assert {"kind": "qualification", "codes": ["high_tech"]} in award.conditions
    assert (interest.rate_percent, interest.cap_yuan, interest.amount_yuan) == (30.0, 100_000, None)
    assert interest.deadline == date(2026, 6, 30)
    assert (allowance.amount_yuan, allowance.deadline) == (300, None)
    assert {"kind": "age", "low": 16, "high": 45} in allowance.conditions
    assert {"kind": "person_group", "codes": ["hard_to_employ"]} in allowance.conditions


def test_a_text_without_money_suggests_nothing() -> None:
    assert suggest_items("本办法自发布之日起施行，由县人社局负责解释。") == []
