"""The masked form of a value is a floor-level rule: every layer masks the same way, and
masking needs neither the policy library nor the PII detector's validators."""

from __future__ import annotations

import subprocess
import sys

import pytest

from policies.pii import find_pii
from vocabulary.masking import PII_LABELS, mask_value


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("mobile", "13812345678", "138****5678"),
        ("mobile", "+86 138 1234 5678", "+86 138 **** 5678"),
        ("bank_card", "6212345678901234", "621234******1234"),
        ("email", "zhang.san@example.com", "z***@example.com"),
        ("plate", "宁D12345", "宁D****5"),
    ],
)
def test_mask_value_keeps_head_and_tail(kind: str, value: str, masked: str) -> None:
    assert mask_value(kind, value) == masked


SAMPLES = {
    "id_card": "640424199001011234", "mobile": "13812345678", "bank_card": "6212345678901234",
    "plate": "宁D12345", "email": "li@example.com", "birth_date": "19900101", "address": "城关镇南关村5组",
}


def test_every_detected_kind_has_a_label_and_a_mask() -> None:
    assert set(PII_LABELS) == set(SAMPLES)
    for kind, value in SAMPLES.items():
        assert "*" in mask_value(kind, value)
    with pytest.raises(ValueError):
        mask_value("shoe_size", "42")


def test_a_finding_is_masked_by_the_floor_rule() -> None:
    (finding,) = find_pii("联系电话：13812345678")
    assert finding.masked == mask_value("mobile", "13812345678")


def test_masking_loads_neither_policies_nor_stdnum() -> None:
    code = (
        "import sys, vocabulary.masking; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('policies', 'stdnum', 'sqlalchemy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
