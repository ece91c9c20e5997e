"""The PII guard catches plates, e-mail, birth dates and home addresses, leaves policy text alone,
and reports findings by position."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.pii import find_pii, mask_pii, mask_value, pii_report
from tests.policies.pii_builders import kinds, make_card, make_id, only

WORK_PLAN = Path(__file__).resolve().parents[3] / "shared/domain/county-openness-work-plan-2023.txt"


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
