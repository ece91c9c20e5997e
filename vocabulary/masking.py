"""How a piece of personal data looks once masked, the same in every layer.

A masked value keeps a few characters so a person can still tell records apart (the first
three and last four digits of an ID, the township of an address) and stars the rest; `*`
is what the policy library's PII guard treats as a digit, so the digits a mask keeps never
join a neighbour into a new number. Finding personal data in free text is the policy
library's job (`policies.service.find_pii` / `mask_pii`); this module only masks a value
whose kind is already known, which push's exports and reports need on their own.
"""

from __future__ import annotations

import re

__all__ = ["PII_LABELS", "compact", "mask_value", "normalise"]

PII_LABELS: dict[str, str] = {
    "id_card": "身份证号",
    "mobile": "手机号码",
    "bank_card": "银行卡号",
    "plate": "车牌号",
    "email": "电子邮箱",
    "birth_date": "出生日期",
    "address": "家庭住址",
}

# --------------------------------------------------------------------------- normalising


def _build_width_table() -> dict[int, str]:
    table: dict[int, str] = {}
    # Only digits, letters and the few symbols numbers are written with; full-width
    # punctuation such as ，（） stays, so it keeps separating URLs and numbers.
    for offset in range(10):
        table[0xFF10 + offset] = chr(ord("0") + offset)
    for offset in range(26):
        table[0xFF21 + offset] = chr(ord("A") + offset)
        table[0xFF41 + offset] = chr(ord("a") + offset)
    table.update({0xFF20: "@", 0xFF0B: "+", 0xFF0D: "-", 0xFF0E: ".", 0xFF0A: "*", 0x3000: " "})
    return table


_WIDTH_TABLE = _build_width_table()


def normalise(text: str) -> str:
    """Same length as `text`, so every offset found here is an offset into the original."""
    return text.translate(_WIDTH_TABLE)

DIGIT_RUN = re.compile(r"\d+")
# The part of an address a mask keeps never holds digits: those belong to the hidden detail.
_TOWNSHIP_PREFIX = re.compile(r"[^村组号室栋幢楼*0-9]+?(?:街道|镇|乡)(?![县市区旗])")
_ADMIN_PREFIX = re.compile(r"(?:[^村组号室栋幢楼*0-9]+?(?:省|自治区|自治州|州|盟|县|旗|市(?!场)|(?<![小社园校景])区))+")


def compact(value: str) -> str:
    """Only the digits and letters of `value`: every separator, visible or not, removed."""
    return "".join(ch for ch in normalise(value) if ch.isascii() and ch.isalnum())


# --------------------------------------------------------------------------- masking


def _mask_keeping(value: str, head: int, tail: int) -> str:
    """Star every significant character except the first `head` and last `tail`;
    separators stay so that the grouping of the original survives."""
    significant = [i for i, ch in enumerate(normalise(value)) if ch.isalnum()]
    hidden = set(significant[head : len(significant) - tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def _mask_mobile(value: str) -> str:
    normalised = normalise(value)
    digit_positions = [i for i, ch in enumerate(normalised) if ch.isdigit()]
    national = digit_positions[-11:]  # a +86/0086 prefix stays readable
    hidden = set(national[3:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def _mask_email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _mask_birth_date(value: str) -> str:
    normalised = normalise(value)
    if normalised.isdigit():
        return value[:4] + "*" * (len(value) - 4)
    masked = value[:4]
    cursor = 4
    for run in DIGIT_RUN.finditer(normalised[4:]):
        masked += value[cursor : run.start() + 4] + "**"
        cursor = run.end() + 4
    return masked + value[cursor:]


def _mask_address(value: str) -> str:
    township = _TOWNSHIP_PREFIX.match(value)
    if township:
        return township.group() + "****"
    admin = _ADMIN_PREFIX.match(value)
    return (admin.group() if admin else "") + "****"


def mask_value(kind: str, value: str) -> str:
    """The masked form of one value of the given kind (see PII_LABELS for the kinds)."""
    if kind == "id_card":
        legacy = len(compact(value)) == 15
        return _mask_keeping(value, 3, 3 if legacy else 4)
    if kind == "mobile":
        return _mask_mobile(value)
    if kind == "bank_card":
        return _mask_keeping(value, 6, 4)
    if kind == "plate":
        return _mask_keeping(value, 2, 1)
    if kind == "email":
        return _mask_email(value)
    if kind == "birth_date":
        return _mask_birth_date(value)
    if kind == "address":
        return _mask_address(value)
    raise ValueError(f"unknown PII kind: {kind!r}")
