"""PII guard: find and mask personal data before a department publishes a text.

Work-plan item 46 asks that published documents carry no 公民身份号码, 手机号码, 家庭住址,
银行账号或卡号, 出生日期 or 私家车牌号. Every candidate is checked by a validator (check
digits, real dates, personal context words) rather than a bare pattern, because policy texts
are full of numbers that must stay: 文号, office landlines, hotlines, 统一社会信用代码 of
enterprises, document dates and URLs.

Design notes that keep `find_pii(mask_pii(text)) == []`:

* Matching runs on a copy where full-width digits and letters are replaced one for one, so
  offsets into the original stay valid.
* Masks use `*`, and every numeric boundary treats `*` like a digit: the digits a mask keeps
  can never join a neighbour into a new number.
* Context checks (bank words, credit-code words) look at the whole clause, not at a fixed
  number of characters, because masks change lengths and a distance window would then
  pull a far-away word into range.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

__all__ = ["PiiFinding", "find_pii", "mask_pii", "mask_value", "pii_report"]

LABELS: dict[str, str] = {
    "id_card": "身份证号",
    "mobile": "手机号码",
    "bank_card": "银行卡号",
    "plate": "车牌号",
    "email": "电子邮箱",
    "birth_date": "出生日期",
    "address": "家庭住址",
}

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


@dataclass(frozen=True)
class PiiFinding:
    kind: str
    start: int
    end: int
    text: str
    label: str
    line: int
    column: int
    masked: str

    def describe(self) -> str:
        return f"第{self.line}行第{self.column}列：{self.label} {self.masked}"


class _Candidate(NamedTuple):
    start: int
    end: int
    kind: str
    # Found by the separated-number scan: it only fills gaps the stricter patterns left.
    loose: bool = False


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


def _normalise(text: str) -> str:
    """Same length as `text`, so every offset found here is an offset into the original."""
    return text.translate(_WIDTH_TABLE)


# --------------------------------------------------------------------------- patterns

# A number must not continue a digit run on either side; `*` counts as a digit so that the
# digits a mask keeps stay glued to their mask. Digits glued to Latin letters, `@` or a
# leading `.` belong to a code, a host name or an e-mail address, not to a person.
_NOT_AFTER_DIGIT = r"(?<![0-9A-Za-z*@.])"
_NOT_BEFORE_DIGIT = r"(?![0-9A-Za-z*@])"
# Grouped numbers (138 1234 5678) must also not continue a *grouped* run.
_NOT_AFTER_GROUP = _NOT_AFTER_DIGIT + r"(?<![0-9*][ -])"
_NOT_BEFORE_GROUP = _NOT_BEFORE_DIGIT + r"(?![ -][0-9*])"

_ID_18_PLAIN = re.compile(_NOT_AFTER_DIGIT + r"\d{17}[0-9Xx]" + _NOT_BEFORE_DIGIT)
_ID_18_GROUPED = re.compile(_NOT_AFTER_GROUP + r"\d{6} \d{8} \d{3}[0-9Xx]" + _NOT_BEFORE_GROUP)
_ID_15 = re.compile(_NOT_AFTER_DIGIT + r"\d{15}" + _NOT_BEFORE_DIGIT)
_BANK_PLAIN = re.compile(_NOT_AFTER_DIGIT + r"\d{16,19}" + _NOT_BEFORE_DIGIT)
_BANK_GROUPED = re.compile(_NOT_AFTER_GROUP + r"\d{4}(?: \d{4}){3}(?: \d{1,3})?" + _NOT_BEFORE_GROUP)
_MOBILE_PREFIX = r"(?:(?:\+|00)?86[ -]?)?"
_MOBILE_PLAIN = re.compile(_NOT_AFTER_DIGIT + _MOBILE_PREFIX + r"1[3-9]\d{9}" + _NOT_BEFORE_DIGIT)
_MOBILE_GROUPED = re.compile(
    _NOT_AFTER_GROUP + _MOBILE_PREFIX + r"1[3-9]\d(?:[ -]\d{4}[ -]?|\d{4}[ -])\d{4}" + _NOT_BEFORE_GROUP
)

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_CHAR = "A-HJ-NP-Z0-9"
_PLATE = re.compile(
    rf"(?<![A-Za-z0-9*])[{_PROVINCES}][A-HJ-NP-Z][·•・ \u00a0\u2010-\u2015\u200b\u200c\u200d\u2060\ufeff\u00ad-]{{0,2}}"
    rf"(?P<serial>[A-HJK][{_PLATE_CHAR}]\d{{4}}|\d{{5}}[DF]|[{_PLATE_CHAR}]{{4}}[{_PLATE_CHAR}挂学警港澳])"
    r"(?![A-Za-z0-9*])"
)
# Real plates carry at most three letters in a five-character serial; demanding two
# digits keeps words like 新ABCDE out.
_PLATE_MIN_DIGITS = 2

# The local part is bounded so that a long run of letters cannot make the scan quadratic;
# it may not start inside a grouped number ("138 1234 5678abc@x.com").
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-*@])(?<![0-9*][ -])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9*@])"
)
# Official mailboxes of government bodies are published on purpose (信箱 in every footer).
_PUBLIC_EMAIL_DOMAINS = (".gov.cn",)

_URL = re.compile(
    r"(?<![A-Za-z0-9@._%+\-])(?:https?://|ftp://|www\.|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/)"
    r"[A-Za-z0-9\-._~:/?#\[\]@!$&'*+=%]*"
)

_DATE = (
    r"(?P<date>(?:19|20)\d{2}(?:"
    r" *年 *\d{1,2} *月(?: *\d{1,2} *[日号])?"
    r"|(?P<sep>[-/.])\d{1,2}(?:(?P=sep)\d{1,2})?"
    r"|\d{4}"
    r"))" + _NOT_BEFORE_DIGIT
)
_BIRTH_WORD_THEN_DATE = re.compile(
    r"(?:出生日期|出生年月日|出生年月|出生时间|出生于|出生|生日|生于)[ :：]*(?:为|是|于|在)?[ :：]*"
    + _NOT_AFTER_DIGIT
    + _DATE
)
_DATE_THEN_BIRTH_WORD = re.compile(_NOT_AFTER_DIGIT + _DATE + r" *(?:出生|生(?=[,，。；;、)）\s]|$))")
# "出生于2020年1月1日以后的" describes a class of people, not somebody's birthday.
_RANGE_AFTER = re.compile(r" *(?:以后|之后|以前|之前|以来|后|前|起|至|到|及|[-—~～])")
_RANGE_BEFORE = re.compile(r"(?:至|到|起|[-—~～]) *$")

_ADDRESS_KEYWORDS = "家庭住址|家庭地址|居住地址|现居住地|现住址|户籍地址|住址|家住|住在|现住"
# Words that start a new field; an address that runs into them has ended.
_ADDRESS_STOP_WORDS = "|".join(
    [_ADDRESS_KEYWORDS, "信用代码|纳税人识别号|身份证|电话|手机|联系|卡号|账号|帐号|出生|邮箱|姓名|性别|民族"]
)
_ADDRESS_STOP_CHARS = "的应须需要填写等或并请"
_ADDRESS = re.compile(
    rf"(?:{_ADDRESS_KEYWORDS})[ :：]*(?:为|是|在|于)?[ :：]*"
    # House numbers are short; a long digit run after 家住 is an ID or a phone, not an address.
    rf"(?P<body>(?:(?!{_ADDRESS_STOP_WORDS}|\d{{7}})[^\W_{_ADDRESS_STOP_CHARS}]|[#\-]){{1,40}})",
)
_ADDRESS_THROUGH_LAST_DETAIL = re.compile(r".*(?:单元|[村组号室栋幢楼])")
_ADDRESS_UNIT = re.compile(r"街道|单元|[省市县区乡镇路街巷村组号室栋幢楼]|\d+")
_ADDRESS_MIN_UNITS = 2
_ADDRESS_KEYWORD_HINT = re.compile(_ADDRESS_KEYWORDS)
# The part of an address a mask keeps never holds digits: those belong to the hidden detail.
_TOWNSHIP_PREFIX = re.compile(r"[^村组号室栋幢楼*0-9]+?(?:街道|镇|乡)(?![县市区旗])")
_ADMIN_PREFIX = re.compile(r"(?:[^村组号室栋幢楼*0-9]+?(?:省|自治区|自治州|州|盟|县|旗|市(?!场)|(?<![小社园校景])区))+")

# Every numeric kind holds a run of at least ten digits, spaces or hyphens that starts with a
# digit. Finding those runs first is one fast scan; the detailed patterns, whose leading
# lookbehinds defeat the regex engine's prefix search, then only run next to them.
_NUMBER_ZONE = re.compile(r"\d[\d \-]{9,}")
_WINDOW_BEFORE = 2  # the "+" of +86
_WINDOW_AFTER = 3  # check letter X plus the two characters the lookaheads inspect
# A date, then 出生/生: only looked for just before each 生.
_BIRTH_AFTER_WINDOW = 24

_DIGIT_RUN = re.compile(r"\d+")
_NEWLINE = re.compile("\n")
_BIRTH_WORD = re.compile("生")
_CLAUSE_END = re.compile(r"[。！？；;!?\n]")
_CHEAP_SIGNAL = re.compile(r"[0-9@]|住|地址")

_BANK_CONTEXT = re.compile(r"卡号|账号|帐号|银行|开户|账户|帐户|储蓄卡|信用卡|借记卡|社保卡|一卡通")
_ORGANISATION_CONTEXT = re.compile(r"信用代码|纳税人识别号|税号|组织机构代码|注册号|营业执照")
# Issuer prefixes of cards sold in China (UnionPay 62, Visa 4, Mastercard 51-55, JCB 35,
# older domestic debit 60/9558/95599); other Luhn-valid runs need a bank word nearby.
_CARD_ISSUER_PREFIXES = ("62", "4", "51", "52", "53", "54", "55", "35", "60", "9558", "95599")

# First two digits of a resident ID: provinces, then 71 Taiwan and 81-83 HK/Macau/Taiwan
# residence permits.
_PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
    | {"71", "81", "82", "83"}
)
_EARLIEST_BIRTH_YEAR = 1900

# Characters people (or their editors) put inside a number: spaces of every width, dashes,
# dots, slashes, line breaks, and invisible ones (zero-width space/joiners, BOM, soft hyphen)
# that a copy from a web page or a word processor leaves behind.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_GAP_CHARS = " \t\r\n\u00a0\u2002-\u200a\u202f\u205f\u3000\\-\u2010-\u2015\u2212\ufe58\ufe63.·•・/\\\\_" + _INVISIBLE


# --------------------------------------------------------------------------- context


class _Context:
    """Facts about the whole text that several detectors share, computed once."""

    def __init__(self, normalised: str) -> None:
        self.text = normalised
        self._clause_ends = [m.start() for m in _CLAUSE_END.finditer(normalised)]
        self._mentions: dict[tuple[str, int, int], bool] = {}
        self.number_windows = [
            (max(0, zone.start() - _WINDOW_BEFORE), min(len(normalised), zone.end() + _WINDOW_AFTER))
            for zone in _NUMBER_ZONE.finditer(normalised)
        ]
        may_hold_url = "/" in normalised or "www." in normalised
        self._url_spans = [m.span() for m in _URL.finditer(normalised)] if may_hold_url else []

    def _clause_bounds(self, start: int, end: int) -> tuple[int, int]:
        index = bisect.bisect_left(self._clause_ends, start)
        clause_start = self._clause_ends[index - 1] + 1 if index else 0
        after = bisect.bisect_left(self._clause_ends, end)
        clause_end = self._clause_ends[after] if after < len(self._clause_ends) else len(self.text)
        return clause_start, clause_end

    def clause_mentions(self, words: re.Pattern[str], start: int, end: int) -> bool:
        """Whether the clause around [start, end) holds one of `words`.

        Remembered per clause: a long clause full of numbers must not be searched once per number.
        """
        key = (words.pattern, *self._clause_bounds(start, end))
        found = self._mentions.get(key)
        if found is None:
            found = self._mentions[key] = words.search(self.text, key[1], key[2]) is not None
        return found

    def in_url(self, start: int, end: int) -> bool:
        return any(url_start < end and start < url_end for url_start, url_end in self._url_spans)

    def number_matches(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """Matches of `pattern` near runs of ten or more digits only.

        Lookbehinds still see the whole text; the window's end is cut a few characters
        past the run, which is all the lookaheads need.
        """
        for pos, endpos in self.number_windows:
            yield from pattern.finditer(self.text, pos, endpos)


# --------------------------------------------------------------------------- validators


def _compact(value: str) -> str:
    """Only the digits and letters of `value`: every separator, visible or not, removed."""
    return "".join(ch for ch in _normalise(value) if ch.isascii() and ch.isalnum())


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        return False
    return year >= _EARLIEST_BIRTH_YEAR and date <= datetime.date.today()


def _is_resident_id_18(number: str) -> bool:
    number = number.upper()
    if number[:2] not in _PROVINCE_CODES:
        return False
    if ric.calc_check_digit(number) != number[-1]:
        return False
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        return False
    return _valid_date(birth.year, birth.month, birth.day)


def _is_resident_id_15(number: str) -> bool:
    if number[:2] not in _PROVINCE_CODES:
        return False
    return _valid_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))


def _looks_like_resident_id(number: str) -> bool:
    """ID-shaped (province code, then 19xx/20xx): a typo'd ID must not turn into a card."""
    return len(number) == 18 and number[:2] in _PROVINCE_CODES and number[6:8] in ("19", "20")


def _is_organisation_code(number: str, context: _Context, start: int, end: int) -> bool:
    return uscc.is_valid(number) and context.clause_mentions(_ORGANISATION_CONTEXT, start, end)


# --------------------------------------------------------------------------- detectors


def _find_id_cards(context: _Context) -> Iterator[_Candidate]:
    for pattern in (_ID_18_PLAIN, _ID_18_GROUPED):
        for match in context.number_matches(pattern):
            number = _compact(match.group())
            if _is_resident_id_18(number) and not _is_organisation_code(number, context, *match.span()):
                yield _Candidate(match.start(), match.end(), "id_card")
    for match in context.number_matches(_ID_15):
        # Old 15-digit 税号 are region code + organisation code, so only context tells them apart.
        if _is_resident_id_15(match.group()) and not context.clause_mentions(_ORGANISATION_CONTEXT, *match.span()):
            yield _Candidate(match.start(), match.end(), "id_card")


def _is_bank_card(number: str, grouped: bool, context: _Context, start: int, end: int) -> bool:
    if not luhn.is_valid(number):
        return False
    if _is_organisation_code(number, context, start, end):
        return False
    looks_certain = grouped or number.startswith(_CARD_ISSUER_PREFIXES)
    if looks_certain and not _looks_like_resident_id(number):
        return True
    return context.clause_mentions(_BANK_CONTEXT, start, end)


def _find_bank_cards(context: _Context) -> Iterator[_Candidate]:
    for pattern, grouped in ((_BANK_PLAIN, False), (_BANK_GROUPED, True)):
        for match in context.number_matches(pattern):
            if _is_bank_card(_compact(match.group()), grouped, context, *match.span()):
                yield _Candidate(match.start(), match.end(), "bank_card")


def _find_mobiles(context: _Context) -> Iterator[_Candidate]:
    for pattern in (_MOBILE_PLAIN, _MOBILE_GROUPED):
        for match in context.number_matches(pattern):
            yield _Candidate(match.start(), match.end(), "mobile")


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


# A number broken up by any of the gap characters above: maximal runs of digit groups, each
# gap at most four characters (" - ", "\r\n", a zero-width space next to a space...).
# Possessive quantifiers keep the scan linear on long runs of short groups.
_CHAIN = re.compile(rf"(?<![0-9A-Za-z*@])\d++(?:[{_GAP_CHARS}]{{1,4}}+\d++)*+(?:[{_GAP_CHARS}]{{0,4}}+[Xx])?+")
_CHAIN_GROUP = re.compile(r"\d+[Xx]?|[Xx]")
_GLUED_AFTER = re.compile(r"[0-9A-Za-z*@]")
_INTO_MASK = re.compile(rf"[{_GAP_CHARS}]{{0,4}}\*")
_MOBILE_DIGITS = re.compile(r"1[3-9]\d{9}")
_YEAR_GROUP = re.compile(r"(?:19|20)\d{2}")
_LONGEST_NUMBER = 19
_NUMBER_LENGTHS = frozenset({11, 16, 17, 18, 19})


def _chain_groups(context: _Context, chain: re.Match[str]) -> list[tuple[int, int]]:
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


_GAP_BEFORE = re.compile(rf"[{_GAP_CHARS}]{{1,4}}$")


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


def _separated_kind(number: str, parts: list[str], context: _Context, start: int, end: int) -> str | None:
    if len(number) == 11 and _MOBILE_DIGITS.fullmatch(number):
        return "mobile"
    if len(number) == 18 and _is_resident_id_18(number) and not _is_organisation_code(number, context, start, end):
        return "id_card"
    if not (16 <= len(number) <= _LONGEST_NUMBER and number.isdigit()):
        return None
    # Cheap tests first: most long digit chains are neither issued cards nor near a bank word.
    issued = number.startswith(_CARD_ISSUER_PREFIXES)
    if not issued and (not context.clause_mentions(_BANK_CONTEXT, start, end) or _looks_like_dates(parts)):
        return None
    if not _luhn_valid(number) or _looks_like_resident_id(number):
        return None
    return None if _is_organisation_code(number, context, start, end) else "bank_card"


def _find_separated_numbers(context: _Context) -> Iterator[_Candidate]:
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


def _find_plates(context: _Context) -> Iterator[_Candidate]:
    # Plates are written in lower case too (宁a12345); upper-casing ASCII keeps every offset.
    for match in _PLATE.finditer(context.text.translate(_ASCII_UPPER)):
        serial = match.group("serial")
        if sum(ch.isdigit() for ch in serial) >= _PLATE_MIN_DIGITS:
            yield _Candidate(match.start(), match.end(), "plate")


def _find_emails(context: _Context) -> Iterator[_Candidate]:
    if "@" not in context.text:
        return
    for match in _EMAIL.finditer(context.text):
        if not match.group().lower().endswith(_PUBLIC_EMAIL_DOMAINS):
            yield _Candidate(match.start(), match.end(), "email")


def _date_is_plausible_birth(date_text: str) -> bool:
    numbers = [int(n) for n in _DIGIT_RUN.findall(date_text)]
    if len(numbers) == 1:  # 19910512
        numbers = [int(date_text[:4]), int(date_text[4:6]), int(date_text[6:8])]
    year, month = numbers[0], numbers[1]
    day = numbers[2] if len(numbers) > 2 else 1  # 出生年月 may stop at the month
    return _valid_date(year, month, day)


def _dates_before_birth_word(text: str) -> Iterator[re.Match[str]]:
    for birth_word in _BIRTH_WORD.finditer(text):
        # endpos keeps the character after 生 visible, so 生效 is never read as 生 + end.
        window_start = max(0, birth_word.start() - _BIRTH_AFTER_WINDOW)
        yield from _DATE_THEN_BIRTH_WORD.finditer(text, window_start, birth_word.end() + 1)


def _birth_date_candidate(match: re.Match[str]) -> Iterator[_Candidate]:
    if _date_is_plausible_birth(match.group("date")):
        yield _Candidate(match.start("date"), match.end("date"), "birth_date")


def _find_birth_dates(context: _Context) -> Iterator[_Candidate]:
    text = context.text
    if "生" not in text:
        return
    for match in _BIRTH_WORD_THEN_DATE.finditer(text):
        if not _RANGE_AFTER.match(text, match.end("date")):
            yield from _birth_date_candidate(match)
    for match in _dates_before_birth_word(text):
        start = match.start("date")
        if not _RANGE_BEFORE.search(text, max(0, start - 3), start):
            yield from _birth_date_candidate(match)


def _trim_address(body: str) -> str:
    """Cut the body after its last 村/组/号/室… so the words that follow are not part of it."""
    through_last_detail = _ADDRESS_THROUGH_LAST_DETAIL.match(body)
    return through_last_detail.group() if through_last_detail else ""


def _find_addresses(context: _Context) -> Iterator[_Candidate]:
    text = context.text
    if not _ADDRESS_KEYWORD_HINT.search(text):
        return
    for match in _ADDRESS.finditer(text):
        address = _trim_address(match.group("body"))
        if len(_ADDRESS_UNIT.findall(address)) >= _ADDRESS_MIN_UNITS:
            start = match.start("body")
            yield _Candidate(start, start + len(address), "address")


_DETECTORS = (
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


def _without_overlaps(candidates: list[_Candidate]) -> list[_Candidate]:
    """Leftmost-longest over all findings, except that a separated-number finding may only
    swallow strict findings whole: one that cuts into a strict finding (a date glued to the
    phone after it) is dropped, so it can never hide that finding."""
    strict = sorted(c for c in candidates if not c.loose)
    starts = [c.start for c in strict]
    loose = [c for c in candidates if c.loose and not _overlaps_partly(c, strict, starts)]
    return _leftmost_longest(strict + loose)


# --------------------------------------------------------------------------- masking


def _mask_keeping(value: str, head: int, tail: int) -> str:
    """Star every significant character except the first `head` and last `tail`;
    separators stay so that the grouping of the original survives."""
    significant = [i for i, ch in enumerate(_normalise(value)) if ch.isalnum()]
    hidden = set(significant[head : len(significant) - tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def _mask_mobile(value: str) -> str:
    normalised = _normalise(value)
    digit_positions = [i for i, ch in enumerate(normalised) if ch.isdigit()]
    national = digit_positions[-11:]  # a +86/0086 prefix stays readable
    hidden = set(national[3:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def _mask_email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _mask_birth_date(value: str) -> str:
    normalised = _normalise(value)
    if normalised.isdigit():
        return value[:4] + "*" * (len(value) - 4)
    masked = value[:4]
    cursor = 4
    for run in _DIGIT_RUN.finditer(normalised[4:]):
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
    """The masked form of one value of the given kind (see LABELS for the kinds)."""
    if kind == "id_card":
        legacy = len(_compact(value)) == 15
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


# --------------------------------------------------------------------------- public API


def _line_starts(text: str) -> list[int]:
    return [0] + [newline.end() for newline in _NEWLINE.finditer(text)]


def find_pii(text: str) -> list[PiiFinding]:
    """Personal data in `text`, sorted by position and never overlapping."""
    normalised = _normalise(text)
    if not _CHEAP_SIGNAL.search(normalised):
        return []
    context = _Context(normalised)
    candidates = [
        candidate
        for detector in _DETECTORS
        for candidate in detector(context)
        if not context.in_url(candidate.start, candidate.end)
    ]
    kept = _without_overlaps(candidates)
    line_starts = _line_starts(text) if kept else [0]
    findings = []
    for candidate in kept:
        original = text[candidate.start : candidate.end]
        line_index = bisect.bisect_right(line_starts, candidate.start) - 1
        findings.append(
            PiiFinding(
                kind=candidate.kind,
                start=candidate.start,
                end=candidate.end,
                text=original,
                label=LABELS[candidate.kind],
                line=line_index + 1,
                column=candidate.start - line_starts[line_index] + 1,
                masked=mask_value(candidate.kind, original),
            )
        )
    return findings


def _replace_findings(text: str, findings: list[PiiFinding]) -> str:
    pieces: list[str] = []
    cursor = 0
    for finding in findings:
        pieces.append(text[cursor : finding.start])
        pieces.append(finding.masked)
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces)


# Each pass hides characters for good, so a handful of passes always reaches a clean text.
_MAX_MASK_PASSES = 8


def mask_pii(text: str) -> str:
    """`text` with every finding replaced by its masked form."""
    masked = text
    for _ in range(_MAX_MASK_PASSES):
        findings = find_pii(masked)
        if not findings:
            break
        # One pass is enough for every text the property test has produced; further passes
        # are a safety net for an overlap nobody has thought of, where the candidate that
        # lost could resurface from the characters a mask keeps.
        masked = _replace_findings(masked, findings)
    return masked


def pii_report(text: str) -> list[str]:
    """One Chinese line per finding, for the reviewer who must fix the text."""
    return [finding.describe() for finding in find_pii(text)]
