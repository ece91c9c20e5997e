"""Read the header of a raw official document: title, 文号, issuing agency, date, body start.

Chinese official documents follow GB/T 9704-2012: an optional masthead (XX文件), the 文号,
the title (often two lines, XX关于…的通知), the addressee line ending in a colon, the body,
then the signature block — the agency on one line and the date on the next. Documents
pasted from a website keep that order but lose the layout, so everything here works on
lines with the padding stripped and tolerates blank lines anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from policies.text.docno import DocNoError, find_doc_nos, parse_doc_no

_PADDING = " \t\u3000\xa0\ufeff\r\n"
_TITLE_ENDINGS = (
    "通知", "意见", "办法", "方案", "规定", "细则", "决定", "批复", "公告", "通告", "报告", "规划", "要点",
    "函", "纪要", "指南", "须知", "清单", "目录", "公示", "措施", "条例", "规则", "制度", "计划", "标准",
    "指引", "决议", "命令", "通报", "请示", "答复", "解读", "说明", "政策", "若干措施", "实施细则",
)  # fmt: skip
_TITLE_QUALIFIER = re.compile(r"[（(](试行|暂行|修订|修订稿|征求意见稿|\d{4}年修订|\d{4}年版)[）)]$")
_AGENCY_ENDINGS = (
    "人民政府", "政府", "办公室", "委员会", "局", "委", "厅", "部", "院", "中心", "站", "所",
    "联合会", "总工会", "团委", "妇联", "残联", "工商联", "科协", "党委", "支队", "大队", "办", "社",
    "馆", "分局", "分行", "公司",
)  # fmt: skip
_BODY_OPENERS = re.compile(r"^(一、|第一条|第一章|为了?|现将|根据|按照|经|近日|现就|.{0,4}年[，,])")
_SKIPPABLE = re.compile(r"^(签发人|[（(]此件.{0,12}[）)]|[（(]?主动公开[）)]?|密级|紧急程度|特急|加急|附件)")
_PUNCTUATION_IN_PROSE = re.compile(r"[。；;！？!?]")

_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "O": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_YEAR = "〇零○OＯ一二三四五六七八九"
_CN_SMALL = "一二三四五六七八九十"
_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
    re.compile(
        rf"(?P<y>[{_CN_YEAR}]{{4}})\s*年\s*(?P<m>[{_CN_SMALL}]{{1,3}})\s*月\s*(?P<d>[{_CN_SMALL}]{{1,3}})\s*日"
    ),
    re.compile(r"(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})(?!\d)"),
)


@dataclass(frozen=True, slots=True)
class DocumentHeader:
    title: str
    doc_no: str | None
    agency: str | None
    issued_on: date | None
    body_start: int  # index into the original text where the main text (after the addressee) begins


@dataclass(frozen=True, slots=True)
class _Line:
    text: str  # stripped
    start: int  # offset of the raw line in the document
    end: int  # offset just after the raw line (including its newline)


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    offset = 0
    for raw in text.splitlines(keepends=True):
        lines.append(_Line(raw.strip(_PADDING), offset, offset + len(raw)))
        offset += len(raw)
    return lines


def _non_empty(lines: list[_Line], start: int = 0) -> Iterator[tuple[int, _Line]]:
    for index in range(start, len(lines)):
        if lines[index].text:
            yield index, lines[index]


def _small_chinese_number(text: str) -> int:
    """一 … 三十一 (month and day numerals)."""
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else -1
    tens, _, units = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def _to_date(match: re.Match[str]) -> date | None:
    y, m, d = match["y"], match["m"], match["d"]
    try:
        year = int(y) if y.isdigit() else int("".join(str(_CN_DIGITS[c]) for c in y))
        month = int(m) if m.isdigit() else _small_chinese_number(m)
        day = int(d) if d.isdigit() else _small_chinese_number(d)
        return date(year, month, day)
    except (KeyError, ValueError):
        return None


def parse_chinese_date(text: str) -> date | None:
    """The first date in `text`: 2023年7月18日, 二〇二三年七月十八日, 2023-07-18."""
    best: tuple[int, date] | None = None
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            parsed = _to_date(match)
            if parsed is not None and (best is None or match.start() < best[0]):
                best = (match.start(), parsed)
                break
    return best[1] if best else None


def _date_line(text: str) -> date | None:
    """A line that is only a date (the signature date), possibly in brackets."""
    inner = text.strip("（）() ")
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(inner)
        if match:
            return _to_date(match)
    return None


def _looks_like_agency(text: str) -> bool:
    if not 2 < len(text) <= 40 or _PUNCTUATION_IN_PROSE.search(text) or "：" in text or ":" in text:
        return False
    return any(part.endswith(_AGENCY_ENDINGS) for part in re.split(r"[\s、]+", text) if part)


def _agency_from_line(text: str) -> str:
    # Joint signatures are often laid out side by side on one line.
    parts = [p for p in re.split(r"[\s\u3000]{2,}|\s+", text) if p]
    return "、".join(parts)


def _is_title_complete(title: str) -> bool:
    bare = _TITLE_QUALIFIER.sub("", title).rstrip('》」”"')
    return bare.endswith(_TITLE_ENDINGS)


def _is_doc_no_line(text: str) -> bool:
    if len(text) > 30:
        return False
    try:
        parse_doc_no(text, max_year=9999)
        return True
    except DocNoError:
        return bool(find_doc_nos(text, max_year=9999)) and len(text) <= 24


def _is_addressee(text: str) -> bool:
    return text.endswith(("：", ":")) and len(text) <= 120 and not _PUNCTUATION_IN_PROSE.search(text)


def _is_masthead(text: str) -> bool:
    return text.endswith("文件") and len(text) <= 24 and not _PUNCTUATION_IN_PROSE.search(text)


@dataclass
class _Front:
    title: str = ""
    doc_no: str | None = None
    masthead_agency: str | None = None
    body_line: int = 0


def _read_front(lines: list[_Line]) -> _Front:
    """Masthead, 文号 and title at the top, up to the addressee line or the first prose line."""
    front = _Front()
    title_parts: list[str] = []
    for index, line in _non_empty(lines):
        text = line.text
        front.body_line = index
        if not title_parts and _is_masthead(text):
            front.masthead_agency = text.removesuffix("文件")
            continue
        if _is_doc_no_line(text):
            front.doc_no = front.doc_no or find_doc_nos(text, max_year=9999)[0]
            continue
        if _SKIPPABLE.match(text):
            continue
        if _is_addressee(text):
            front.body_line = index + 1
            break
        if title_parts and (_is_title_complete("".join(title_parts)) or _is_prose(text)):
            break
        if not title_parts and _is_prose(text):
            break
        title_parts.append(text)
        if len(title_parts) == 3:  # titles are at most three lines; beyond that we are in the body
            front.body_line = index + 1
            break
    else:
        front.body_line = len(lines)
    front.title = "".join(title_parts)
    return front


def _is_prose(text: str) -> bool:
    return len(text) > 60 or bool(_PUNCTUATION_IN_PROSE.search(text)) or bool(_BODY_OPENERS.match(text))


def _signature(lines: list[_Line]) -> tuple[str | None, date | None]:
    """The first agency line directly followed by a date line (blank lines between allowed)."""
    previous: _Line | None = None
    for _, line in _non_empty(lines):
        when = _date_line(line.text)
        if when is not None and previous is not None and _looks_like_agency(previous.text):
            return _agency_from_line(previous.text), when
        previous = line
    return None, None


def _agency_from_title(title: str) -> str | None:
    head, found, _ = title.partition("关于")
    if found and head and _looks_like_agency(head):
        return head
    return None


def _first_date_line(lines: list[_Line]) -> date | None:
    for _, line in _non_empty(lines):
        when = _date_line(line.text)
        if when is not None:
            return when
    return None


def extract_header(text: str) -> DocumentHeader:
    """Title, 文号, agency, date and where the body starts; missing parts are None (title "")."""
    lines = _lines(text or "")
    front = _read_front(lines)
    agency, issued_on = _signature(lines)
    agency = agency or _agency_from_title(front.title) or front.masthead_agency
    if issued_on is None:
        issued_on = _first_date_line(lines)
    body_line = front.body_line
    while body_line < len(lines) and not lines[body_line].text:
        body_line += 1
    body_start = lines[body_line].start if body_line < len(lines) else len(text or "")
    return DocumentHeader(
        title=front.title,
        doc_no=front.doc_no,
        agency=agency,
        issued_on=issued_on,
        body_start=body_start,
    )
