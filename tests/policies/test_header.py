from datetime import date
from pathlib import Path

import pytest

from policies.text.header import extract_header, parse_chinese_date

WORK_PLAN = Path(__file__).resolve().parents[3] / "shared/domain/county-openness-work-plan-2023.txt"


@pytest.mark.skipif(not WORK_PLAN.exists(), reason="county work plan not available")
def test_header_of_the_county_work_plan() -> None:
    text = WORK_PLAN.read_text(encoding="utf-8")
    header = extract_header(text)
    assert header.agency == "泾源县人民政府办公室"
    assert header.issued_on == date(2023, 7, 18)
    assert header.title == "泾源县人民政府办公室关于印发《泾源县2023年政务公开工作要点》的通知"
    assert header.doc_no is None
    assert text[header.body_start :].startswith("现将《泾源县2023年政务公开工作要点》")


def test_header_with_masthead_doc_no_and_chinese_date() -> None:
    text = (
        "泾源县人民政府办公室文件\n\n泾政办规发〔2023〕5号\n\n"
        "泾源县人民政府办公室关于印发泾源县\n一次性创业补贴实施办法（试行）的通知\n\n"
        "各乡（镇）人民政府，县直各部门：\n"
        "　　现将《泾源县一次性创业补贴实施办法（试行）》印发给你们，请认真遵照执行。\n\n"
        "泾源县人民政府办公室\n二〇二三年三月十五日\n"
    )
    header = extract_header(text)
    assert header.title == "泾源县人民政府办公室关于印发泾源县一次性创业补贴实施办法（试行）的通知"
    assert header.doc_no == "泾政办规发〔2023〕5号"
    assert header.agency == "泾源县人民政府办公室"
    assert header.issued_on == date(2023, 3, 15)
    assert text[header.body_start :].lstrip("　").startswith("现将")


def test_joint_signature_and_no_addressee() -> None:
    text = (
        "关于做好2024年城乡居民医保集中缴费工作的通告\n"
        "为做好我县2024年度城乡居民基本医疗保险参保缴费工作，现将有关事项通告如下。\n"
        "一、缴费时间为9月1日至12月31日。\n"
        "泾源县医疗保障局　　泾源县税务局\n2023年9月1日\n"
    )
    header = extract_header(text)
    assert header.title == "关于做好2024年城乡居民医保集中缴费工作的通告"
    assert header.agency == "泾源县医疗保障局、泾源县税务局"
    assert header.issued_on == date(2023, 9, 1)
    assert text[header.body_start :].startswith("为做好")


def test_agency_from_title_when_unsigned() -> None:
    text = "泾源县民政局关于调整高龄津贴标准的通知\n各乡镇：\n自2024年1月起调整高龄津贴标准。"
    header = extract_header(text)
    assert header.agency == "泾源县民政局"
    assert header.issued_on is None
    assert text[header.body_start :].startswith("自2024年1月起")


def test_empty_text() -> None:
    header = extract_header("")
    assert (header.title, header.doc_no, header.agency, header.issued_on, header.body_start) == (
        "",
        None,
        None,
        None,
        0,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023年7月18日", date(2023, 7, 18)),
        ("2023年07月08日", date(2023, 7, 8)),
        ("二〇二三年七月十八日", date(2023, 7, 18)),
        ("二〇二四年十二月三十一日", date(2024, 12, 31)),
        ("二〇二三年十月一日", date(2023, 10, 1)),
        ("于2023-07-18印发", date(2023, 7, 18)),
        ("2023年2月30日", None),
        ("没有日期", None),
    ],
)
def test_chinese_dates(text: str, expected: date | None) -> None:
    assert parse_chinese_date(text) == expected
