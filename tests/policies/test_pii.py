"""The PII guard must catch real personal data and leave policy numbers alone."""

from __future__ import annotations

import datetime
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from policies.pii import PiiFinding, find_pii, mask_pii, mask_value, pii_report

WORK_PLAN = Path(__file__).resolve().parents[3] / "shared/domain/county-openness-work-plan-2023.txt"


# --------------------------------------------------------------------------- builders


def make_id(region: str = "640424", birth: str = "19900101", sequence: str = "123") -> str:
    """A resident ID with a correct ISO 7064 MOD 11-2 check character."""
    body = region + birth + sequence
    return body + ric.calc_check_digit(body + "0")  # the function ignores the last character


def make_id_with_check(check: str, birth: str = "19850615") -> str:
    """A valid ID whose check character is `check` (searching the sequence number)."""
    for sequence in range(1000):
        number = make_id(birth=birth, sequence=f"{sequence:03d}")
        if number.endswith(check):
            return number
    raise AssertionError(f"no sequence gives check {check}")


def make_card(prefix: str = "621234", length: int = 19) -> str:
    body = (prefix + "5678901234567890")[: length - 1]
    return body + luhn.calc_check_digit(body)


def make_uscc(prefix: str = "91640424MA76") -> str:
    body = (prefix + "0LQ8W")[:17]
    return body + uscc.calc_check_digit(body)


def wrong_check(number: str) -> str:
    replacement = "1" if number[-1] != "1" else "2"
    return number[:-1] + replacement


def kinds(text: str) -> list[str]:
    return [finding.kind for finding in find_pii(text)]


def only(text: str) -> PiiFinding:
    findings = find_pii(text)
    assert len(findings) == 1, findings
    return findings[0]


# --------------------------------------------------------------------------- ID cards


def test_valid_resident_id_is_found_and_masked_without_birth_digits() -> None:
    number = make_id()
    finding = only(f"申请人身份证号：{number}。")
    assert finding.kind == "id_card"
    assert finding.text == number
    assert finding.label == "身份证号"
    assert finding.masked == "640***********" + number[-4:]
    assert "19900101" not in finding.masked


def test_lower_case_x_check_character_is_accepted() -> None:
    number = make_id_with_check("X")
    finding = only(f"身份证 {number.lower()} 已核验")
    assert finding.kind == "id_card"
    assert finding.masked.endswith(number[-4:].lower())


def test_full_width_digits_are_normalised_but_reported_as_written() -> None:
    number = make_id()
    full_width = number.translate({ord(d): chr(0xFF10 + int(d)) for d in "0123456789"})
    finding = only(f"身份证号{full_width}")
    assert finding.kind == "id_card"
    assert finding.text == full_width
    assert finding.masked.startswith("６４０*")


def test_id_grouped_six_eight_four_is_found() -> None:
    number = make_id()
    grouped = f"{number[:6]} {number[6:14]} {number[14:]}"
    finding = only(f"证件号码 {grouped}")
    assert finding.kind == "id_card"
    assert finding.masked == f"640*** ******** {number[-4:]}"


def test_legacy_fifteen_digit_id_keeps_three_and_three() -> None:
    finding = only("老身份证号640424850615123，已换发")
    assert finding.kind == "id_card"
    assert finding.masked == "640*********123"


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(wrong_check(make_id()), id="bad-checksum"),
        pytest.param(make_id(birth="19910230"), id="impossible-date-19910230"),
        pytest.param(make_id(birth="20991231"), id="future-birth-date"),
        pytest.param(make_id(region="994424"), id="unknown-province"),
        pytest.param("640424851315123", id="legacy-month-13"),
    ],
)
def test_invalid_ids_are_neither_ids_nor_bank_cards(number: str) -> None:
    found = kinds(f"编号{number}")
    assert "id_card" not in found
    assert "bank_card" not in found


def test_id_inside_a_longer_digit_run_is_not_reported() -> None:
    assert kinds(f"流水号{make_id()}7") == []
    assert kinds(f"流水号3{make_id()}") == []


def test_enterprise_credit_code_is_not_personal_data() -> None:
    assert find_pii(f"统一社会信用代码：{make_uscc()}") == []
    assert find_pii(f"某公司（{make_uscc()}）") == []


def test_number_valid_as_both_id_and_credit_code_follows_the_context() -> None:
    both = next(
        number
        for sequence in range(1000)
        if uscc.is_valid(number := make_id(region="110101", birth="19900101", sequence=f"{sequence:03d}"))
    )
    assert kinds(f"身份证号{both}") == ["id_card"]
    assert kinds(f"统一社会信用代码：{both}") == []


# --------------------------------------------------------------------------- mobiles


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138-****-5678"),
        ("138 1234 5678", "138 **** 5678"),
        ("+86 13912345678", "+86 139****5678"),
        ("+86-139-1234-5678", "+86-139-****-5678"),
        ("008615912345678", "0086159****5678"),
        ("8618912345678", "86189****5678"),
    ],
)
def test_mobile_forms_are_found(written: str, masked: str) -> None:
    finding = only(f"联系人手机：{written}，")
    assert finding.kind == "mobile"
    assert finding.text == written
    assert finding.masked == masked


@pytest.mark.parametrize(
    "text",
    [
        "订单号138123456789",
        "编号213812345678",
        "号码12812345678",
        "政策咨询电话：0954-5012345（县人社局就业股）",
        "咨询电话（0954）5012345",
        "咨询电话(0954)5012345",
        "咨询热线：12333",
        "便民热线12345",
        "客服电话400-810-1234，800-820-5678",
        "政务服务便民热线1234",
    ],
)
def test_public_lines_and_longer_runs_are_not_mobiles(text: str) -> None:
    assert find_pii(text) == []


# --------------------------------------------------------------------------- bank cards


def test_unionpay_card_is_found_and_keeps_six_and_four() -> None:
    card = make_card("621234", 19)
    finding = only(f"补贴打入{card}")
    assert finding.kind == "bank_card"
    assert finding.masked == card[:6] + "*" * 9 + card[-4:]


def test_card_grouped_by_four_is_found() -> None:
    card = make_card("622202", 16)
    grouped = " ".join(card[i : i + 4] for i in range(0, 16, 4))
    finding = only(f"卡：{grouped}。")
    assert finding.kind == "bank_card"
    assert finding.masked == f"{card[:4]} {card[4:6]}** **** {card[-4:]}"


def test_luhn_failure_is_not_a_card() -> None:
    assert kinds(f"银行卡号{wrong_check(make_card())}") == []


def test_unknown_issuer_needs_a_bank_word() -> None:
    card = make_card("888888", 16)
    assert kinds(f"序列号{card}") == []
    assert kinds(f"开户行：县农商行，账号：{card}") == ["bank_card"]


def test_id_shaped_number_with_bank_word_is_a_card_only_if_not_an_id() -> None:
    bad_id = wrong_check(make_id())
    luhn_valid = bad_id[:-1] + luhn.calc_check_digit(bad_id[:-1])
    assert kinds(f"编号{luhn_valid}") in ([], ["id_card"])
    assert kinds(f"银行卡号{luhn_valid}") in (["bank_card"], ["id_card"])


# --------------------------------------------------------------------------- plates


@pytest.mark.parametrize(
    ("plate", "masked"),
    [
        ("宁D12345", "宁D****5"),
        ("宁D·12345", "宁D·****5"),
        ("京A1234挂", "京A****挂"),
        ("宁AD12345", "宁A*****5"),
        ("宁A12345F", "宁A*****F"),
        ("粤BF10236", "粤B*****6"),
    ],
)
def test_plates_are_found(plate: str, masked: str) -> None:
    finding = only(f"私家车车牌号{plate}，")
    assert finding.kind == "plate"
    assert finding.masked == masked


@pytest.mark.parametrize("text", ["车牌宁DI2345", "车牌宁DO2345", "新ABCDE", "云APP2023版", "宁D1234"])
def test_things_that_are_not_plates(text: str) -> None:
    assert "plate" not in kinds(text)


# --------------------------------------------------------------------------- e-mail


def test_personal_email_is_found_and_masked() -> None:
    finding = only("邮箱：zhang.san@example.com。")
    assert finding.kind == "email"
    assert finding.masked == "z***@example.com"


def test_government_mailbox_is_public() -> None:
    assert find_pii("来信请寄 jyzwgk@nxjy.gov.cn") == []


# --------------------------------------------------------------------------- birth dates


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("出生日期：1991年5月12日", "1991年**月**日"),
        ("出生年月：1991.05", "1991.**"),
        ("生日是1991-05-12", "1991-**-**"),
        ("生于19910512，", "1991****"),
        ("男，1991年5月生，汉族", "1991年**月"),
        ("张某，1991年5月12日出生于泾源县", "1991年**月**日"),
    ],
)
def test_birth_dates_in_personal_context(text: str, masked: str) -> None:
    finding = only(text)
    assert finding.kind == "birth_date"
    assert finding.masked == masked


@pytest.mark.parametrize(
    "text",
    [
        "2023年7月18日",
        "成文日期：2023年7月18日",
        "本办法自2023年8月1日起施行",
        "2023年7月18日印发",
        "对2023年1月1日以后出生的婴儿给予补助",
        "出生于2020年1月1日以后的儿童",
        "出生日期在2019年1月1日至2020年12月31日之间",
        "出生日期：1991年2月30日",
        "本通知自2023年7月18日生效",
    ],
)
def test_policy_dates_are_not_birth_dates(text: str) -> None:
    assert find_pii(text) == []


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("家住泾源县香水镇城关村3组12号，", "泾源县香水镇****"),
        ("家庭住址：宁夏固原市泾源县泾河源镇冶家村5组", "宁夏固原市泾源县泾河源镇****"),
        ("居住地址为银川市兴庆区富宁街道丽景小区5号楼2单元301室", "银川市兴庆区富宁街道****"),
        ("住址：镇原县城关镇南街12号", "镇原县城关镇****"),
        ("住址：泾源县城关村3组", "泾源县****"),
    ],
)
def test_home_address_is_masked_to_township(text: str, masked: str) -> None:
    finding = only(text)
    assert finding.kind == "address"
    assert finding.masked == masked


@pytest.mark.parametrize(
    "text",
    [
        "家庭住址须详细到门牌号",
        "家住本村的困难群众",
        "泾源县香水镇城关村3组",
        "报送政府办417室",
        "住址变更登记",
    ],
)
def test_address_needs_personal_context_and_detail(text: str) -> None:
    assert find_pii(text) == []


# --------------------------------------------------------------------------- policy text


def test_document_numbers_and_urls_are_not_personal() -> None:
    text = (
        "根据泾政办发〔2023〕12号、宁政规发〔2022〕3号文件精神，"
        "详见 http://www.nxjy.gov.cn/zwgk/art/2023/13812345678.html 和 "
        f"www.example.com/download?id={make_id()} 。"
    )
    assert find_pii(text) == []


def test_interpretation_footer_has_no_findings() -> None:
    footer = (
        "解读单位：泾源县人力资源和社会保障局\n"
        "政策咨询电话：0954-5012345（县人社局就业股）\n"
        "咨询热线：12333\n"
        "办公地址：泾源县香水镇人民政府院内\n"
        "成文日期：2023年7月18日\n"
    )
    assert find_pii(footer) == []


def test_county_work_plan_has_no_findings() -> None:
    if not WORK_PLAN.exists():
        pytest.skip(f"{WORK_PLAN} is not available")
    assert find_pii(WORK_PLAN.read_text(encoding="utf-8")) == []


# --------------------------------------------------------------------------- API shape


def test_positions_lines_and_report() -> None:
    number = make_id()
    text = f"第一行\n申请人：张三\n身份证号{number}，电话13812345678"
    findings = find_pii(text)
    assert [f.kind for f in findings] == ["id_card", "mobile"]
    first = findings[0]
    assert text[first.start : first.end] == first.text
    assert (first.line, first.column) == (3, 5)
    assert first.describe() == f"第3行第5列：身份证号 640***********{number[-4:]}"
    assert pii_report(text) == [f.describe() for f in findings]


def test_mask_pii_replaces_every_finding() -> None:
    card = make_card()
    text = f"身份证{make_id()}，卡号{card}，手机13812345678，家住泾源县香水镇城关村3组。"
    masked = mask_pii(text)
    assert masked == (
        f"身份证640***********{make_id()[-4:]}，卡号{card[:6]}*********{card[-4:]}，"
        "手机138****5678，家住泾源县香水镇****。"
    )
    assert find_pii(masked) == []


def test_mask_value_per_kind() -> None:
    assert mask_value("id_card", "11010519491231002X") == "110***********002X"
    assert mask_value("mobile", "13812345678") == "138****5678"
    assert mask_value("bank_card", "6212345678901234569") == "621234*********4569"
    assert mask_value("plate", "宁D12345") == "宁D****5"
    assert mask_value("email", "zhang@example.com") == "z***@example.com"
    assert mask_value("birth_date", "1991年5月12日") == "1991年**月**日"
    assert mask_value("address", "泾源县香水镇城关村3组") == "泾源县香水镇****"
    with pytest.raises(ValueError, match="unknown PII kind"):
        mask_value("passport", "E12345678")


def test_text_without_any_signal_is_cheap_and_empty() -> None:
    assert find_pii("") == []
    assert find_pii("各乡（镇）人民政府，政府各部门") == []


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
