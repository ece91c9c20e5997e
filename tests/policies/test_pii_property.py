"""Property: whatever personal data is mixed into policy-like noise, masking leaves none findable."""

from __future__ import annotations

import datetime
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from policies.pii import PiiFinding, find_pii, mask_pii
from tests.policies.pii_builders import make_id, make_uscc

# --------------------------------------------------------------------------- property

_birth_dates = st.dates(min_value=datetime.date(1930, 1, 1), max_value=datetime.date(2010, 12, 31))


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["640424", "110105", "510104", "620102", "440305"]))
    birth = draw(_birth_dates).strftime("%Y%m%d")
    number = make_id(region, birth, f"{draw(st.integers(0, 999)):03d}")
    return draw(st.sampled_from([number, number.lower(), f"{number[:6]} {number[6:14]} {number[14:]}"]))


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    digits = "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    grouped = f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    prefix = draw(st.sampled_from(["", "+86 ", "0086", "86-"]))
    return prefix + draw(st.sampled_from([digits, grouped, grouped.replace("-", " ")]))


@st.composite
def cards(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["62", "4", "53", "888"]))
    length = draw(st.integers(16, 19))
    body = prefix + draw(st.text("0123456789", min_size=length - 1 - len(prefix), max_size=18))
    body = body[: length - 1]
    card = body + luhn.calc_check_digit(body)
    if length == 16 and draw(st.booleans()):
        return " ".join(card[i : i + 4] for i in range(0, 16, 4))
    return card


@st.composite
def plates(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from("京沪宁甘川粤新"))
    letter = draw(st.sampled_from("ABDFHKZ"))
    serial = draw(
        st.sampled_from(
            [
                draw(st.text("0123456789", min_size=5, max_size=5)),
                "D" + draw(st.text("0123456789", min_size=5, max_size=5)),
                draw(st.text("0123456789", min_size=5, max_size=5)) + "F",
                draw(st.text("0123456789", min_size=4, max_size=4)) + "挂",
            ]
        )
    )
    return province + letter + serial


_NOISE = [
    " ",
    "  ",
    "-",
    "，",
    "。",
    "；",
    "\n",
    "*",
    "**",
    "@",
    "a",
    "X",
    "x",
    "0",
    "1",
    "86",
    "+",
    "12345",
    "2023年7月18日",
    "年",
    "月",
    "日",
    "生",
    "出生",
    "出生日期：",
    "生于",
    "号",
    "村",
    "镇",
    "家住",
    "住址：",
    "家庭住址",
    "卡号",
    "账号：",
    "银行",
    "统一社会信用代码",
    "http://www.nxjy.gov.cn/",
    "www.",
    "/",
    ".cn/",
    "0954-5012345",
    "（0954）5012345",
    "12333",
    "泾政办发〔2023〕12号",
    "zhang.san",
    "@example.com",
    "宁D",
    "宁",
    "A",
    "·",
]
_PERSONAL = [
    "1991年5月12日",
    "1991-05-12",
    "19910512",
    "泾源县香水镇城关村3组12号",
    "城关村3组",
    "银川市兴庆区富宁街道丽景小区5号楼2单元301室",
    "zhang.san@example.com",
    "li4@qq.com",
    "640424850615123",
]
fragments = st.one_of(
    st.sampled_from(_NOISE),
    st.sampled_from(_PERSONAL),
    resident_ids(),
    mobiles(),
    cards(),
    plates(),
    st.just(make_uscc()),
    st.text("0123456789 -*", max_size=6),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fragments, max_size=14).map("".join))
def test_masked_text_has_no_findings(text: str) -> None:
    findings = find_pii(text)
    for previous, current in itertools.pairwise(findings):
        assert previous.end <= current.start
    for finding in findings:
        assert text[finding.start : finding.end] == finding.text
    assert find_pii(mask_pii(text)) == []
    # mask_pii may take a second pass; the findings' own masks must already be enough.
    assert find_pii(replace_each(text, findings)) == []


def replace_each(text: str, findings: list[PiiFinding]) -> str:
    for finding in reversed(findings):
        text = text[: finding.start] + finding.masked + text[finding.end :]
    return text
