"""Personal data written the way people really paste it is still found, in the right place,
and masked in the original characters; consultation lines, 文号, dates and amounts are not."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from policies.pii import find_pii, mask_pii

SEPARATORS = [
    " ", "-", "\u2013", "\u2014", ".", "/", "\u00a0", "\u3000", "\u200b", "\u200c", "\u200d",
    "\u2060", "\ufeff", "\u00ad", "\n", "\r\n", " - ", "\u202f", "\t",
]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def resident_id(body: str = "64042419850615123") -> str:
    return body + ric.calc_check_digit(body + "0")


def bank_card(body: str = "621700021234567890") -> str:
    return body + luhn.calc_check_digit(body)


ID = resident_id()
CARD = bank_card()
MOBILE = "13912345678"

POSITIVE = [
    # (text, kind, the exact characters that must be found)
    ("联系电话：139 1234 5678。", "mobile", "139 1234 5678"),
    ("手机139-1234-5678", "mobile", "139-1234-5678"),
    ("手机139\u20131234\u20145678", "mobile", "139\u20131234\u20145678"),
    ("手机139.1234.5678", "mobile", "139.1234.5678"),
    ("手机139/1234/5678", "mobile", "139/1234/5678"),
    ("手机139\u00a01234\u00a05678", "mobile", "139\u00a01234\u00a05678"),
    ("手机139\u30001234\u30005678", "mobile", "139\u30001234\u30005678"),
    ("手机1391\u200b2345\u200d678", "mobile", "1391\u200b2345\u200d678"),
    ("手机139\u00ad1234\u00ad5678", "mobile", "139\u00ad1234\u00ad5678"),
    ("手机１３９１２３４５６７８", "mobile", "１３９１２３４５６７８"),
    ("手机１３９－１２３４－５６７８", "mobile", "１３９－１２３４－５６７８"),
    ("请联系139123\n45678办理", "mobile", "139123\n45678"),
    ("请联系139123\r\n45678办理", "mobile", "139123\r\n45678"),
    (f"身份证号{ID[:6]} {ID[6:14]} {ID[14:]}", "id_card", f"{ID[:6]} {ID[6:14]} {ID[14:]}"),
    (f"身份证号{ID[:6]}-{ID[6:10]}.{ID[10:14]}/{ID[14:]}", "id_card", f"{ID[:6]}-{ID[6:10]}.{ID[10:14]}/{ID[14:]}"),
    (f"身份证号{ID.translate(FULL_WIDTH)}", "id_card", ID.translate(FULL_WIDTH)),
    (f"身份证号{ID[:9]}\n{ID[9:]}", "id_card", f"{ID[:9]}\n{ID[9:]}"),
    (f"身份证号{ID[:3]}\u200b{ID[3:]}", "id_card", f"{ID[:3]}\u200b{ID[3:]}"),
    (f"卡号{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]}", "bank_card",
     f"{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]}"),
    (f"打入{CARD[:6]}\u2014{CARD[6:]}", "bank_card", f"{CARD[:6]}\u2014{CARD[6:]}"),
    (f"账户{CARD[:10]}\u00a0{CARD[10:]}", "bank_card", f"{CARD[:10]}\u00a0{CARD[10:]}"),
    ("车辆宁a12345已登记", "plate", "宁a12345"),
    ("车牌宁a·12345", "plate", "宁a·12345"),
    ("车牌陕a\u00a0b1234", "plate", "陕a\u00a0b1234"),
]

NEGATIVE = [
    "政策咨询电话：0954-5012345（工作日），或拨打 12345 政务服务便民热线。",
    "服务热线 400-800-1234、400 800 1234、0954 5012345、0954—5012345。",
    "依据泾政办发〔2023〕12号、宁政发〔2022〕3号文件执行。",
    "申报时间 2023年1月1日至2023年12月31日；2021.01.01—2023.12.31 期间在银行开户的企业。",
    "补助标准 1,000,000 元；3.5 万元；12 000 元；第 1 / 12 页。",
    "统一社会信用代码 " + (lambda b: b + uscc.calc_check_digit(b))("91640424MA760LQ8W") + " 的企业。",
    "2021 2022 2023 2024 年度累计申报 1 350 家。",
    "项目编号 2023-640424-47-03-012345，见 https://www.nxjy.gov.cn/zwgk/2023/13912345678.html",
    "全年 GDP 增长 5.2%，新增就业 1 382 人，比上年 1 234.5 万元增长 8.6%。",
]


@pytest.mark.parametrize(("text", "kind", "found"), POSITIVE, ids=[p[2] for p in POSITIVE])
def test_formatted_personal_data_is_found_where_it_is(text: str, kind: str, found: str) -> None:
    findings = find_pii(text)
    assert [(f.kind, f.text) for f in findings] == [(kind, found)]
    start = text.index(found)
    assert (findings[0].start, findings[0].end) == (start, start + len(found))


@pytest.mark.parametrize(("text", "kind", "found"), POSITIVE, ids=[p[2] for p in POSITIVE])
def test_mask_hides_the_original_characters_and_keeps_the_rest(text: str, kind: str, found: str) -> None:
    masked = mask_pii(text)
    assert find_pii(masked) == []
    start = text.index(found)
    assert masked[:start] == text[:start]  # nothing before the number moved
    assert len(masked) == len(text) or kind == "plate"
    assert "*" in masked


@pytest.mark.parametrize("text", NEGATIVE)
def test_public_numbers_stay_unflagged(text: str) -> None:
    assert find_pii(text) == []


def _with_separators(number: str, cuts: list[int], seps: list[str]) -> str:
    pieces, last = [], 0
    for cut, sep in sorted(zip(cuts, seps, strict=False)):
        pieces += [number[last:cut], sep]
        last = cut
    pieces.append(number[last:])
    return "".join(pieces)


def _numbers() -> st.SearchStrategy[tuple[str, str]]:
    ids = st.builds(
        lambda region, year, month, day, seq: resident_id(f"{region}{year}{month:02d}{day:02d}{seq:03d}"),
        st.sampled_from(["640424", "110105", "320102", "440305", "642222"]),
        st.integers(1940, 2010), st.integers(1, 12), st.integers(1, 28), st.integers(0, 999),
    ).map(lambda n: (n, "id_card"))
    mobiles = st.builds(
        lambda second, rest: f"1{second}{rest:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1)
    ).map(lambda n: (n, "mobile"))
    cards = st.builds(
        lambda prefix, rest, length: bank_card((prefix + f"{rest:017d}")[: length - 1]),
        st.sampled_from(["62", "6217", "622202", "4", "5", "60"]).map(lambda p: p if p != "5" else "52"),
        st.integers(0, 10**17 - 1), st.integers(16, 19),
    ).map(lambda n: (n, "bank_card"))
    return st.one_of(ids, mobiles, cards)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    number=_numbers(),
    data=st.data(),
    full_width=st.booleans(),
    before=st.sampled_from(["", "联系人张三，", "请打入账户：", "号码 "]),
    after=st.sampled_from(["", "。", "，谢谢", " 办理"]),
)
def test_random_separators_never_hide_a_number(
    number: tuple[str, str], data: st.DataObject, full_width: bool, before: str, after: str
) -> None:
    digits, kind = number
    cut_count = data.draw(st.integers(1, min(6, len(digits) - 1)))
    cuts = data.draw(st.lists(st.integers(1, len(digits) - 1), min_size=cut_count, max_size=cut_count, unique=True))
    seps = data.draw(st.lists(st.sampled_from(SEPARATORS), min_size=cut_count, max_size=cut_count))
    written = _with_separators(digits, cuts, seps)
    if full_width:
        written = written.translate(FULL_WIDTH)
    text = before + written + after
    findings = find_pii(text)
    assert [(f.kind, f.start, f.end) for f in findings] == [(kind, len(before), len(before) + len(written))]
    masked = mask_pii(text)
    assert find_pii(masked) == []
    kept = [ch for ch in masked[len(before):len(before) + len(written)] if ch.isdigit() or ch.isalpha()]
    assert kept.count("*") == 0 and masked.count("*") >= 4
    assert len(kept) <= 10  # most of the number is hidden


@pytest.mark.parametrize("text", [
    "1991-05-120-86-13000000000",            # a date glued to a phone with its country code
    "130-0000-430567789  0086159-0000-0000",  # a card-shaped run over the start of a phone
    "6 40424199401012129",                    # a separated ID whose tail looks like a card
])
def test_one_masking_pass_suffices(text: str) -> None:
    findings = find_pii(text)
    assert findings
    once = text
    for finding in reversed(findings):
        once = once[: finding.start] + finding.masked + once[finding.end :]
    assert find_pii(once) == []
