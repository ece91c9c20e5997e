"""The PII guard's patterns and the per-text context its detectors share (see `policies.pii`)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

# --------------------------------------------------------------------------- patterns

# A number must not continue a digit run on either side; `*` counts as a digit so that the
# digits a mask keeps stay glued to their mask. Digits glued to Latin letters, `@` or a
# leading `.` belong to a code, a host name or an e-mail address, not to a person.
NOT_AFTER_DIGIT = r"(?<![0-9A-Za-z*@.])"
NOT_BEFORE_DIGIT = r"(?![0-9A-Za-z*@])"
# Grouped numbers (138 1234 5678) must also not continue a *grouped* run.
NOT_AFTER_GROUP = NOT_AFTER_DIGIT + r"(?<![0-9*][ -])"
NOT_BEFORE_GROUP = NOT_BEFORE_DIGIT + r"(?![ -][0-9*])"

ID_18_PLAIN = re.compile(NOT_AFTER_DIGIT + r"\d{17}[0-9Xx]" + NOT_BEFORE_DIGIT)
ID_18_GROUPED = re.compile(NOT_AFTER_GROUP + r"\d{6} \d{8} \d{3}[0-9Xx]" + NOT_BEFORE_GROUP)
ID_15 = re.compile(NOT_AFTER_DIGIT + r"\d{15}" + NOT_BEFORE_DIGIT)
BANK_PLAIN = re.compile(NOT_AFTER_DIGIT + r"\d{16,19}" + NOT_BEFORE_DIGIT)
BANK_GROUPED = re.compile(NOT_AFTER_GROUP + r"\d{4}(?: \d{4}){3}(?: \d{1,3})?" + NOT_BEFORE_GROUP)
MOBILE_PREFIX = r"(?:(?:\+|00)?86[ -]?)?"
MOBILE_PLAIN = re.compile(NOT_AFTER_DIGIT + MOBILE_PREFIX + r"1[3-9]\d{9}" + NOT_BEFORE_DIGIT)
MOBILE_GROUPED = re.compile(
    NOT_AFTER_GROUP + MOBILE_PREFIX + r"1[3-9]\d(?:[ -]\d{4}[ -]?|\d{4}[ -])\d{4}" + NOT_BEFORE_GROUP
)

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_CHAR = "A-HJ-NP-Z0-9"
PLATE = re.compile(
    rf"(?<![A-Za-z0-9*])[{PROVINCES}][A-HJ-NP-Z][·•・ \u00a0\u2010-\u2015\u200b\u200c\u200d\u2060\ufeff\u00ad-]{{0,2}}"
    rf"(?P<serial>[A-HJK][{PLATE_CHAR}]\d{{4}}|\d{{5}}[DF]|[{PLATE_CHAR}]{{4}}[{PLATE_CHAR}挂学警港澳])"
    r"(?![A-Za-z0-9*])"
)
# Real plates carry at most three letters in a five-character serial; demanding two
# digits keeps words like 新ABCDE out.
PLATE_MIN_DIGITS = 2

# The local part is bounded so that a long run of letters cannot make the scan quadratic;
# it may not start inside a grouped number ("138 1234 5678abc@x.com").
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-*@])(?<![0-9*][ -])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9*@])"
)
# Official mailboxes of government bodies are published on purpose (信箱 in every footer).
PUBLIC_EMAIL_DOMAINS = (".gov.cn",)

URL = re.compile(
    r"(?<![A-Za-z0-9@._%+\-])(?:https?://|ftp://|www\.|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/)"
    r"[A-Za-z0-9\-._~:/?#\[\]@!$&'*+=%]*"
)

DATE = (
    r"(?P<date>(?:19|20)\d{2}(?:"
    r" *年 *\d{1,2} *月(?: *\d{1,2} *[日号])?"
    r"|(?P<sep>[-/.])\d{1,2}(?:(?P=sep)\d{1,2})?"
    r"|\d{4}"
    r"))" + NOT_BEFORE_DIGIT
)
BIRTH_WORD_THEN_DATE = re.compile(
    r"(?:出生日期|出生年月日|出生年月|出生时间|出生于|出生|生日|生于)[ :：]*(?:为|是|于|在)?[ :：]*"
    + NOT_AFTER_DIGIT
    + DATE
)
DATE_THEN_BIRTH_WORD = re.compile(NOT_AFTER_DIGIT + DATE + r" *(?:出生|生(?=[,，。；;、)）\s]|$))")
# "出生于2020年1月1日以后的" describes a class of people, not somebody's birthday.
RANGE_AFTER = re.compile(r" *(?:以后|之后|以前|之前|以来|后|前|起|至|到|及|[-—~～])")
RANGE_BEFORE = re.compile(r"(?:至|到|起|[-—~～]) *$")

ADDRESS_KEYWORDS = "家庭住址|家庭地址|居住地址|现居住地|现住址|户籍地址|住址|家住|住在|现住"
# Words that start a new field; an address that runs into them has ended.
ADDRESS_STOP_WORDS = "|".join(
    [ADDRESS_KEYWORDS, "信用代码|纳税人识别号|身份证|电话|手机|联系|卡号|账号|帐号|出生|邮箱|姓名|性别|民族"]
)
ADDRESS_STOP_CHARS = "的应须需要填写等或并请"
ADDRESS = re.compile(
    rf"(?:{ADDRESS_KEYWORDS})[ :：]*(?:为|是|在|于)?[ :：]*"
    # House numbers are short; a long digit run after 家住 is an ID or a phone, not an address.
    rf"(?P<body>(?:(?!{ADDRESS_STOP_WORDS}|\d{{7}})[^\W_{ADDRESS_STOP_CHARS}]|[#\-]){{1,40}})",
)
ADDRESS_THROUGH_LAST_DETAIL = re.compile(r".*(?:单元|[村组号室栋幢楼])")
ADDRESS_UNIT = re.compile(r"街道|单元|[省市县区乡镇路街巷村组号室栋幢楼]|\d+")
ADDRESS_MIN_UNITS = 2
ADDRESS_KEYWORD_HINT = re.compile(ADDRESS_KEYWORDS)

# Every numeric kind holds a run of at least ten digits, spaces or hyphens that starts with a
# digit. Finding those runs first is one fast scan; the detailed patterns, whose leading
# lookbehinds defeat the regex engine's prefix search, then only run next to them.
NUMBER_ZONE = re.compile(r"\d[\d \-]{9,}")
WINDOW_BEFORE = 2  # the "+" of +86
WINDOW_AFTER = 3  # check letter X plus the two characters the lookaheads inspect
# A date, then 出生/生: only looked for just before each 生.
BIRTH_AFTER_WINDOW = 24

NEWLINE = re.compile("\n")
BIRTH_WORD = re.compile("生")
CLAUSE_END = re.compile(r"[。！？；;!?\n]")
CHEAP_SIGNAL = re.compile(r"[0-9@]|住|地址")

BANK_CONTEXT = re.compile(r"卡号|账号|帐号|银行|开户|账户|帐户|储蓄卡|信用卡|借记卡|社保卡|一卡通")
ORGANISATION_CONTEXT = re.compile(r"信用代码|纳税人识别号|税号|组织机构代码|注册号|营业执照")
# Issuer prefixes of cards sold in China (UnionPay 62, Visa 4, Mastercard 51-55, JCB 35,
# older domestic debit 60/9558/95599); other Luhn-valid runs need a bank word nearby.
CARD_ISSUER_PREFIXES = ("62", "4", "51", "52", "53", "54", "55", "35", "60", "9558", "95599")

# First two digits of a resident ID: provinces, then 71 Taiwan and 81-83 HK/Macau/Taiwan
# residence permits.
PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
    | {"71", "81", "82", "83"}
)
EARLIEST_BIRTH_YEAR = 1900

# Characters people (or their editors) put inside a number: spaces of every width, dashes,
# dots, slashes, line breaks, and invisible ones (zero-width space/joiners, BOM, soft hyphen)
# that a copy from a web page or a word processor leaves behind.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
GAP_CHARS = " \t\r\n\u00a0\u2002-\u200a\u202f\u205f\u3000\\-\u2010-\u2015\u2212\ufe58\ufe63.·•・/\\\\_" + INVISIBLE


# --------------------------------------------------------------------------- context


class Context:
    """Facts about the whole text that several detectors share, computed once."""

    def __init__(self, normalised: str) -> None:
        self.text = normalised
        self._clause_ends = [m.start() for m in CLAUSE_END.finditer(normalised)]
        self._mentions: dict[tuple[str, int, int], bool] = {}
        self.number_windows = [
            (max(0, zone.start() - WINDOW_BEFORE), min(len(normalised), zone.end() + WINDOW_AFTER))
            for zone in NUMBER_ZONE.finditer(normalised)
        ]
        may_hold_url = "/" in normalised or "www." in normalised
        self._url_spans = [m.span() for m in URL.finditer(normalised)] if may_hold_url else []

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
