"""文号 (document numbers) such as 泾政办发〔2023〕12号: parse, normalise, find in text.

A 文号 is 机关代字 + 〔年份〕 + 序号 + 号 (GB/T 9704-2012 7.2.4). Clerks type the brackets in
many ways (〔〕 [] 【】 （） () ［］) and sometimes full-width digits; all are stored in the
standard form with 〔〕 and ASCII digits so the same document never appears twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

EXPECTED_FORM = "“机关代字〔年份〕序号号”，例如 泾政办发〔2023〕12号"
FIRST_YEAR = 1949

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_OPEN_BRACKETS = "〔[【（(［〖"
_CLOSE_BRACKETS = "〕]】）)］〗"
_BRACKETS = str.maketrans(_OPEN_BRACKETS + _CLOSE_BRACKETS, "〔" * len(_OPEN_BRACKETS) + "〕" * len(_CLOSE_BRACKETS))

_ISSUER = r"[\u4e00-\u9fff]{1,12}"
_STRICT = re.compile(rf"^(?P<issuer>{_ISSUER})〔(?P<year>\d{{4}})〕第?(?P<serial>\d{{1,5}})号$")

# In running text the issuer has no left boundary, so take at most 10 characters and trim the
# words that commonly precede a 文号 (根据泾政发… / 印发的宁政办发…).
_IN_TEXT = re.compile(
    rf"(?P<issuer>[\u4e00-\u9fff]{{1,10}})\s*[{re.escape(_OPEN_BRACKETS)}]\s*(?P<year>[0-9０-９]{{4}})\s*"
    rf"[{re.escape(_CLOSE_BRACKETS)}]\s*第?\s*(?P<serial>[0-9０-９]{{1,5}})\s*号"
)
_LEADING_WORDS = re.compile(
    r"^.*(?:根据|按照|依据|参照|结合|执行|贯彻|落实|印发|转发|下发|废止|修订|见|详见|和|及|与|或|的|即|为|是|号文|文件)"
)
# Issuer codes this county meets most; in running text the longest one a candidate ends with is
# the issuer, whatever verb precedes it (重申泾政办规发…).
_KNOWN_ISSUER_CODES = (
    "泾政发", "泾政办发", "泾政规发", "泾政办规发", "泾政函", "泾政办函", "泾党办发",
    "固政发", "固政办发", "固政规发", "固政办规发", "固政函", "固政办函",
    "宁政发", "宁政办发", "宁政规发", "宁政办规发", "宁政函", "宁政办函", "宁党办发",
    "国发", "国办发", "国函", "国办函",
)  # fmt: skip
KNOWN_ISSUERS = tuple(sorted(_KNOWN_ISSUER_CODES, key=len, reverse=True))
_ISSUER_ENDINGS = ("发", "函", "字", "办", "规", "令", "电", "通", "复", "告", "文", "呈", "报", "明", "传")


class DocNoError(ValueError):
    """The text is not a well-formed 文号; the message (Chinese) says what is wrong."""


@dataclass(frozen=True, slots=True)
class DocNo:
    issuer: str
    year: int
    serial: int
    normalized: str

    def __str__(self) -> str:
        return self.normalized


def normalize_doc_no_text(raw: str) -> str:
    """Standard brackets and digits, no spaces; does not validate."""
    text = raw.translate(_FULLWIDTH_DIGITS).translate(_BRACKETS)
    return re.sub(r"[\s\u3000]+", "", text)


def _fail(problem: str) -> DocNoError:
    return DocNoError(f"文号格式不正确：{problem}。应为{EXPECTED_FORM}")


def parse_doc_no(raw: str, *, max_year: int | None = None) -> DocNo:
    """Parse a 文号; raise DocNoError with a Chinese explanation when it is malformed.

    `max_year` defaults to next year (a document may be numbered for the coming year in late
    December); pass it explicitly where the clock is injected.
    """
    text = normalize_doc_no_text(raw or "")
    if not text:
        raise _fail("文号为空")
    match = _STRICT.match(text)
    if match is None:
        raise _fail(_diagnose(text))
    year = int(match["year"])
    latest = max_year if max_year is not None else date.today().year + 1
    if not FIRST_YEAR <= year <= latest:
        raise _fail(f"年份 {year} 不在 {FIRST_YEAR}–{latest} 之间")
    serial = int(match["serial"])
    if serial == 0:
        raise _fail("序号不能为 0")
    issuer = match["issuer"]
    return DocNo(issuer=issuer, year=year, serial=serial, normalized=f"{issuer}〔{year}〕{serial}号")


def _diagnose(text: str) -> str:
    """Name the first thing missing, so the clerk knows what to fix."""
    if not text.endswith("号"):
        return "末尾缺少“号”字"
    if "〔" not in text or "〕" not in text:
        return "年份应放在六角括号〔〕内"
    issuer, _, rest = text.partition("〔")
    if not issuer:
        return "缺少机关代字"
    if not re.fullmatch(r"[\u4e00-\u9fff]+", issuer):
        return f"机关代字“{issuer}”应只含汉字"
    year, _, serial = rest.partition("〕")
    if not re.fullmatch(r"\d{4}", year):
        return f"年份“{year}”应为四位数字"
    if not re.fullmatch(r"第?\d{1,5}号", serial):
        return f"序号“{serial.removesuffix('号')}”应为数字"
    return "无法识别"


def is_normative_doc_no(doc_no: DocNo | str) -> bool:
    """True for 行政规范性文件 numbers: the issuer code carries 规 (泾政规发, 泾政办规发)."""
    issuer = doc_no.issuer if isinstance(doc_no, DocNo) else _issuer_of(doc_no)
    return "规" in issuer


def _issuer_of(raw: str) -> str:
    try:
        return parse_doc_no(raw, max_year=9999).issuer
    except DocNoError:
        return ""


def _trim_issuer(issuer: str) -> str:
    for known in KNOWN_ISSUERS:
        if issuer.endswith(known):
            return known
    trimmed = _LEADING_WORDS.sub("", issuer)
    return trimmed or issuer


def find_doc_nos(text: str, *, max_year: int | None = None) -> list[str]:
    """Every well-formed 文号 in running text, normalised, in order of first appearance."""
    found: list[str] = []
    for match in _IN_TEXT.finditer(text or ""):
        issuer = _trim_issuer(match["issuer"])
        if not issuer.endswith(_ISSUER_ENDINGS) and len(issuer) > 6:
            continue
        candidate = f"{issuer}〔{match['year']}〕{match['serial']}号"
        try:
            doc_no = parse_doc_no(candidate, max_year=max_year)
        except DocNoError:
            continue
        if doc_no.normalized not in found:
            found.append(doc_no.normalized)
    return found
