import pytest

from policies.text.docno import DocNoError, find_doc_nos, is_normative_doc_no, parse_doc_no


@pytest.mark.parametrize(
    ("raw", "issuer", "year", "serial", "normalized"),
    [
        ("泾政办发〔2023〕12号", "泾政办发", 2023, 12, "泾政办发〔2023〕12号"),
        ("泾政规发〔2023〕1号", "泾政规发", 2023, 1, "泾政规发〔2023〕1号"),
        ("宁政发[2022]5号", "宁政发", 2022, 5, "宁政发〔2022〕5号"),
        ("国办发【2020】27号", "国办发", 2020, 27, "国办发〔2020〕27号"),
        ("泾政办规发（２０２３）３号", "泾政办规发", 2023, 3, "泾政办规发〔2023〕3号"),
        ("固政发 (2021) 第8号", "固政发", 2021, 8, "固政发〔2021〕8号"),
        ("宁政办发［2019］100号", "宁政办发", 2019, 100, "宁政办发〔2019〕100号"),
    ],
)
def test_parse_and_normalise(raw: str, issuer: str, year: int, serial: int, normalized: str) -> None:
    doc_no = parse_doc_no(raw)
    assert (doc_no.issuer, doc_no.year, doc_no.serial, doc_no.normalized) == (issuer, year, serial, normalized)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "文号为空"),
        ("泾政办发〔2023〕12", "缺少“号”"),
        ("泾政办发2023年12号", "六角括号"),
        ("〔2023〕12号", "缺少机关代字"),
        ("泾政办发〔23〕12号", "四位数字"),
        ("泾政办发〔2023〕十二号", "应为数字"),
        ("泾政发〔1948〕1号", "1948"),
        ("泾政发〔2023〕0号", "不能为 0"),
    ],
)
def test_malformed_numbers_are_rejected_with_a_chinese_message(raw: str, problem: str) -> None:
    with pytest.raises(DocNoError) as caught:
        parse_doc_no(raw)
    message = str(caught.value)
    assert message.startswith("文号格式不正确")
    assert problem in message
    assert "泾政办发〔2023〕12号" in message  # the expected form is shown


def test_year_may_be_next_year_but_not_later() -> None:
    assert parse_doc_no("泾政发〔2025〕1号", max_year=2025).year == 2025
    with pytest.raises(DocNoError):
        parse_doc_no("泾政发〔2026〕1号", max_year=2025)


def test_find_doc_nos_in_running_text() -> None:
    text = (
        "根据《泾源县创业补贴办法》（泾政办规发〔2022〕3号）和宁政办发[2021]45号文件精神，"
        "转发国办发〔2020〕27号，按照固政发（2023）8号要求，重申泾政办规发〔2022〕3号。"
    )
    assert find_doc_nos(text) == [
        "泾政办规发〔2022〕3号",
        "宁政办发〔2021〕45号",
        "国办发〔2020〕27号",
        "固政发〔2023〕8号",
    ]


def test_normative_numbers_carry_gui() -> None:
    assert is_normative_doc_no("泾政规发〔2023〕1号")
    assert is_normative_doc_no(parse_doc_no("泾政办规发〔2023〕2号"))
    assert not is_normative_doc_no("泾政办发〔2023〕12号")
    assert not is_normative_doc_no("不是文号")
