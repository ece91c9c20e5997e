"""The PII guard's validators and detectors: each candidate is checked (check digits, real
dates, context words) before it counts, and overlapping candidates are resolved (see `policies.pii`)."""

from __future__ import annotations

import bisect
import datetime
import itertools
import re
import string
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from policies.pii_patterns import (
    ADDRESS,
    ADDRESS_KEYWORD_HINT,
    ADDRESS_MIN_UNITS,
    ADDRESS_THROUGH_LAST_DETAIL,
    ADDRESS_UNIT,
    BANK_CONTEXT,
    BANK_GROUPED,
    BANK_PLAIN,
    BIRTH_AFTER_WINDOW,
    BIRTH_WORD,
    BIRTH_WORD_THEN_DATE,
    CARD_ISSUER_PREFIXES,
    DATE_THEN_BIRTH_WORD,
    EARLIEST_BIRTH_YEAR,
    EMAIL,
    GAP_CHARS,
    ID_15,
    ID_18_GROUPED,
    ID_18_PLAIN,
    MOBILE_GROUPED,
    MOBILE_PLAIN,
    ORGANISATION_CONTEXT,
    PLATE,
    PLATE_MIN_DIGITS,
    PROVINCE_CODES,
    PUBLIC_EMAIL_DOMAINS,
    RANGE_AFTER,
    RANGE_BEFORE,
    Context,
)
from vocabulary.masking import DIGIT_RUN, compact

# When two candidates start at the same place and are equally long, the more specific
# validator wins (an 18-digit number that is a valid ID is not also reported as a card).
_PRIORITY: dict[str, int] = {
    "email": 0,
    "id_card": 1,
    "bank_card": 2,
    "mobile": 3,
    "plate": 4,
    "birth_date": 5,
    "address": 6,
}



class _Candidate(NamedTuple):
    start: int
    end: int
    kind: str
    # Found by the separated-number scan: it only fills gaps the stricter patterns left.
    loose: bool = False


# --------------------------------------------------------------------------- validators


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        return False
    return year >= EARLIEST_BIRTH_YEAR and date <= datetime.date.today()


def _is_resident_id_18(number: str) -> bool:
    number = number.upper()
    if number[:2] not in PROVINCE_CODES:
        return False
    if ric.calc_check_digit(number) != number[-1]:
        return False
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        return False
    return _valid_date(birth.year, birth.month, birth.day)


def _is_resident_id_15(number: str) -> bool:
    if number[:2] not in PROVINCE_CODES:
        return False
    return _valid_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))


def _looks_like_resident_id(number: str) -> bool:
    """ID-shaped (province code, then 19xx/20xx): a typo'd ID must not turn into a card."""
    return len(number) == 18 and number[:2] in PROVINCE_CODES and number[6:8] in ("19", "20")


def _is_organisation_code(number: str, context: Context, start: int, end: int) -> bool:
    return uscc.is_valid(number) and context.clause_mentions(ORGANISATION_CONTEXT, start, end)


# --------------------------------------------------------------------------- detectors


def _find_id_cards(context: Context) -> Iterator[_Candidate]:
    for pattern in (ID_18_PLAIN, ID_18_GROUPED):
        for match in context.number_matches(pattern):
            number = compact(match.group())
            if _is_resident_id_18(number) and not _is_organisation_code(number, context, *match.span()):
                yield _Candidate(match.start(), match.end(), "id_card")
    for match in context.number_matches(ID_15):
        # Old 15-digit 税号 are region code + organisation code, so only context tells them apart.
        if _is_resident_id_15(match.group()) and not context.clause_mentions(ORGANISATION_CONTEXT, *match.span()):
            yield _Candidate(match.start(), match.end(), "id_card")


def _is_bank_card(number: str, grouped: bool, context: Context, start: int, end: int) -> bool:
    if not luhn.is_valid(number):
        return False
    if _is_organisation_code(number, context, start, end):
        return False
    looks_certain = grouped or number.startswith(CARD_ISSUER_PREFIXES)
    if looks_certain and not _looks_like_resident_id(number):
        return True
    return context.clause_mentions(BANK_CONTEXT, start, end)


def _find_bank_cards(context: Context) -> Iterator[_Candidate]:
    for pattern, grouped in ((BANK_PLAIN, False), (BANK_GROUPED, True)):
        for match in context.number_matches(pattern):
            if _is_bank_card(compact(match.group()), grouped, context, *match.span()):
                yield _Candidate(match.start(), match.end(), "bank_card")


def _find_mobiles(context: Context) -> Iterator[_Candidate]:
    for pattern in (MOBILE_PLAIN, MOBILE_GROUPED):
        for match in context.number_matches(pattern):
            yield _Candidate(match.start(), match.end(), "mobile")


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


# A number broken up by any of the gap characters above: maximal runs of digit groups, each
# gap at most four characters (" - ", "\r\n", a zero-width space next to a space...).
# Possessive quantifiers keep the scan linear on long runs of short groups.
_CHAIN = re.compile(rf"(?<![0-9A-Za-z*@])\d++(?:[{GAP_CHARS}]{{1,4}}+\d++)*+(?:[{GAP_CHARS}]{{0,4}}+[Xx])?+")
_CHAIN_GROUP = re.compile(r"\d+[Xx]?|[Xx]")
_GLUED_AFTER = re.compile(r"[0-9A-Za-z*@]")
_INTO_MASK = re.compile(rf"[{GAP_CHARS}]{{0,4}}\*")
_MOBILE_DIGITS = re.compile(r"1[3-9]\d{9}")
_YEAR_GROUP = re.compile(r"(?:19|20)\d{2}")
_LONGEST_NUMBER = 19
_NUMBER_LENGTHS = frozenset({11, 16, 17, 18, 19})


def _chain_groups(context: Context, chain: re.Match[str]) -> list[tuple[int, int]]:
    if _INTO_MASK.match(context.text, chain.end()):
        # The chain runs into a mask: it is what a mask kept of a number, and its groups must
        # not form a new number with their neighbours.
        return []
    glued = _GLUED_AFTER.match(context.text, chain.end())
    groups = [(chain.start() + g.start(), chain.start() + g.end()) for g in _CHAIN_GROUP.finditer(chain.group())]
    # A last group glued to letters belongs to a code, not to this number.
    if glued:
        groups.pop()
    return groups


_GAP_BEFORE = re.compile(rf"[{GAP_CHARS}]{{1,4}}$")


def _continues_a_number(text: str, start: int) -> bool:
    """Whether a chain starting at `start` is the tail of a number the scan could not start
    on (one glued to letters, or the visible end of a mask): such a tail is not a number."""
    gap = _GAP_BEFORE.search(text, max(0, start - 4), start)
    return gap is not None and gap.start() > 0 and (text[gap.start() - 1].isdigit() or text[gap.start() - 1] == "*")


def _looks_like_dates(parts: list[str]) -> bool:
    """2021.01.01—2023.12.31 and the like: a year followed by a month or day group."""
    return any(_YEAR_GROUP.fullmatch(a) and len(b) <= 2 for a, b in itertools.pairwise(parts))


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_valid(number: str) -> bool:
    """stdnum's luhn, specialised to decimal digits: it runs once per sub-chain of a long chain."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        total += _LUHN_DOUBLED[digit] if position % 2 else digit
    return total % 10 == 0


def _separated_kind(number: str, parts: list[str], context: Context, start: int, end: int) -> str | None:
    if len(number) == 11 and _MOBILE_DIGITS.fullmatch(number):
        return "mobile"
    if len(number) == 18 and _is_resident_id_18(number) and not _is_organisation_code(number, context, start, end):
        return "id_card"
    if not (16 <= len(number) <= _LONGEST_NUMBER and number.isdigit()):
        return None
    # Cheap tests first: most long digit chains are neither issued cards nor near a bank word.
    issued = number.startswith(CARD_ISSUER_PREFIXES)
    if not issued and (not context.clause_mentions(BANK_CONTEXT, start, end) or _looks_like_dates(parts)):
        return None
    if not _luhn_valid(number) or _looks_like_resident_id(number):
        return None
    return None if _is_organisation_code(number, context, start, end) else "bank_card"


def _find_separated_numbers(context: Context) -> Iterator[_Candidate]:
    """IDs, mobiles and cards written with separators the grouped patterns do not know:
    any grouping, en/em dashes, dots, slashes, odd spaces, invisible characters, a line break."""
    for chain in _CHAIN.finditer(context.text):
        if _continues_a_number(context.text, chain.start()):
            continue
        groups = _chain_groups(context, chain)
        parts = [context.text[a:b] for a, b in groups]
        for first in range(len(groups)):
            number = ""
            for last in range(first, len(groups)):
                number += parts[last]
                if len(number) > _LONGEST_NUMBER:
                    break
                if last == first or len(number) not in _NUMBER_LENGTHS:
                    continue  # a single group is a plain number: the plain patterns see it
                start, end = groups[first][0], groups[last][1]
                kind = _separated_kind(number, parts[first : last + 1], context, start, end)
                if kind is not None:
                    yield _Candidate(start, end, kind, loose=True)


def _find_plates(context: Context) -> Iterator[_Candidate]:
    # Plates are written in lower case too (宁a12345); upper-casing ASCII keeps every offset.
    for match in PLATE.finditer(context.text.translate(_ASCII_UPPER)):
        serial = match.group("serial")
        if sum(ch.isdigit() for ch in serial) >= PLATE_MIN_DIGITS:
            yield _Candidate(match.start(), match.end(), "plate")


def _find_emails(context: Context) -> Iterator[_Candidate]:
    if "@" not in context.text:
        return
    for match in EMAIL.finditer(context.text):
        if not match.group().lower().endswith(PUBLIC_EMAIL_DOMAINS):
            yield _Candidate(match.start(), match.end(), "email")


def _date_is_plausible_birth(date_text: str) -> bool:
    numbers = [int(n) for n in DIGIT_RUN.findall(date_text)]
    if len(numbers) == 1:  # 19910512
        numbers = [int(date_text[:4]), int(date_text[4:6]), int(date_text[6:8])]
    year, month = numbers[0], numbers[1]
    day = numbers[2] if len(numbers) > 2 else 1  # 出生年月 may stop at the month
    return _valid_date(year, month, day)


def _dates_before_birth_word(text: str) -> Iterator[re.Match[str]]:
    for birth_word in BIRTH_WORD.finditer(text):
        # endpos keeps the character after 生 visible, so 生效 is never read as 生 + end.
        window_start = max(0, birth_word.start() - BIRTH_AFTER_WINDOW)
        yield from DATE_THEN_BIRTH_WORD.finditer(text, window_start, birth_word.end() + 1)


def _birth_date_candidate(match: re.Match[str]) -> Iterator[_Candidate]:
    if _date_is_plausible_birth(match.group("date")):
        yield _Candidate(match.start("date"), match.end("date"), "birth_date")


def _find_birth_dates(context: Context) -> Iterator[_Candidate]:
    text = context.text
    if "生" not in text:
        return
    for match in BIRTH_WORD_THEN_DATE.finditer(text):
        if not RANGE_AFTER.match(text, match.end("date")):
            yield from _birth_date_candidate(match)
    for match in _dates_before_birth_word(text):
        start = match.start("date")
        if not RANGE_BEFORE.search(text, max(0, start - 3), start):
            yield from _birth_date_candidate(match)


def _trim_address(body: str) -> str:
    """Cut the body after its last 村/组/号/室… so the words that follow are not part of it."""
    through_last_detail = ADDRESS_THROUGH_LAST_DETAIL.match(body)
    return through_last_detail.group() if through_last_detail else ""


def _find_addresses(context: Context) -> Iterator[_Candidate]:
    text = context.text
    if not ADDRESS_KEYWORD_HINT.search(text):
        return
    for match in ADDRESS.finditer(text):
        address = _trim_address(match.group("body"))
        if len(ADDRESS_UNIT.findall(address)) >= ADDRESS_MIN_UNITS:
            start = match.start("body")
            yield _Candidate(start, start + len(address), "address")


DETECTORS = (
    _find_id_cards,
    _find_bank_cards,
    _find_mobiles,
    _find_separated_numbers,
    _find_plates,
    _find_emails,
    _find_birth_dates,
    _find_addresses,
)


def _leftmost_longest(candidates: Iterable[_Candidate]) -> list[_Candidate]:
    """Leftmost first, then the longest, then the most specific kind."""
    ordered = sorted(set(candidates), key=lambda c: (c.start, c.start - c.end, _PRIORITY[c.kind]))
    kept: list[_Candidate] = []
    for candidate in ordered:
        if not kept or candidate.start >= kept[-1].end:
            kept.append(candidate)
    return kept


_LONGEST_STRICT_FINDING = 200  # e-mail (64 + domain) and address bodies are the longest


def _overlaps_partly(loose: _Candidate, strict: list[_Candidate], starts: list[int]) -> bool:
    """Whether a strict finding overlaps `loose` without lying inside it."""
    index = bisect.bisect_left(starts, loose.end)
    while index > 0:
        index -= 1
        other = strict[index]
        if other.start < loose.start - _LONGEST_STRICT_FINDING:
            return False
        if other.end > loose.start and (other.start < loose.start or other.end > loose.end):
            return True
    return False


def without_overlaps(candidates: list[_Candidate]) -> list[_Candidate]:
    """Leftmost-longest over all findings, except that a separated-number finding may only
    swallow strict findings whole: one that cuts into a strict finding (a date glued to the
    phone after it) is dropped, so it can never hide that finding."""
    strict = sorted(c for c in candidates if not c.loose)
    starts = [c.start for c in strict]
    loose = [c for c in candidates if c.loose and not _overlaps_partly(c, strict, starts)]
    return _leftmost_longest(strict + loose)
