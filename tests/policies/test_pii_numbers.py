"""The PII guard catches personal numbers (IDs, mobiles, bank cards) and leaves policy numbers alone."""

from __future__ import annotations

import pytest
from stdnum import luhn
from stdnum.cn import uscc

from policies.pii import find_pii
from tests.policies.pii_builders import kinds, make_card, make_id, make_id_with_check, make_uscc, only, wrong_check

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
