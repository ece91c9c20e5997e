"""Builders the PII guard's tests share: valid (and nearly valid) IDs, cards and credit codes."""

from __future__ import annotations

from stdnum import luhn
from stdnum.cn import ric, uscc

from policies.pii import PiiFinding, find_pii


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
