"""Reading and checking the rows of a subscriber import (.csv or .xlsx): the columns, the
file formats, and `parse`, which validates one row on its own (no database). The columns and
what a row means are described in `subscriptions.importer`."""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.errors import ValidationFailed
from subscriptions import validation as valid

COLUMNS = {
    "kind": ("类型", "kind", "订阅者类型"),
    "name": ("名称", "name", "企业名称", "姓名"),
    "credit_code": ("统一社会信用代码", "credit_code", "信用代码"),
    "industry": ("行业", "industry", "行业门类"),
    "size": ("规模", "size", "企业规模"),
    "qualifications": ("资质", "qualifications"),
    "groups": ("人群", "groups", "身份"),
    "township": ("乡镇", "township"),
    "channel": ("渠道", "channel"),
    "address": ("地址", "address", "渠道地址"),
    "contact": ("联系人", "contact"),
    "topics": ("主题", "topics"),
    "keywords": ("关键词", "keywords"),
    "hub": ("园区协会", "hub", "园区", "协会"),
}
_SPLIT = re.compile(r"[、,，;；\s]+")


@dataclass
class ImportRow:
    number: int
    values: dict[str, str] = field(default_factory=dict)
    # The values stripped once: a row is read about fifteen times while it is parsed.
    text: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.text = {name: value.strip() for name, value in self.values.items()}

    def get(self, name: str) -> str:
        return self.text.get(name, "")

    def words(self, name: str) -> list[str]:
        return [w for w in _SPLIT.split(self.get(name)) if w]


def _header_map(header: list[str]) -> dict[int, str]:
    lookup = {alias.lower(): name for name, aliases in COLUMNS.items() for alias in aliases}
    return {i: lookup[h.strip().lower()] for i, h in enumerate(header) if h and h.strip().lower() in lookup}


NOT_CSV = "文件不是有效的 CSV 表格，请从 Excel 另存为 CSV（UTF-8）后再导入。"
NOT_XLSX = "文件不是有效的 .xlsx 工作簿，请用 Excel 打开并另存为 .xlsx 后再导入。"
NO_HEADER = "第一行（表头）中没有可识别的列名，请使用 名称、渠道、地址、主题 等列名（见导入说明）。"


def _rows_from_table(table: Iterator[list[str]]) -> Iterator[ImportRow]:
    header = next(table, None)
    if header is None:
        raise ValidationFailed("文件是空的：没有表头，也没有数据行。", field="file")
    columns = _header_map(header)
    if not columns:
        raise ValidationFailed(NO_HEADER, field="file")
    known = sorted(columns.items())
    for number, cells in enumerate(table, start=2):
        if not "".join(cells).strip():  # cells are text (the xlsx reader turns None into "")
            continue
        width = len(cells)
        yield ImportRow(number, {name: cells[i] for i, name in known if i < width})


def _csv_table(path: Path) -> Iterator[list[str]]:
    # utf-8-sig: Excel writes a BOM; GB18030 is what older registry exports use.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with path.open(encoding=encoding, newline="") as fh:
                rows = list(csv.reader(fh))
            break
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:  # NUL bytes, unterminated quotes: not a text table
            raise ValidationFailed(NOT_CSV, field="file") from exc
    else:
        raise ValidationFailed("无法识别文件编码，请另存为 UTF-8 编码的 CSV。", field="file")
    yield from rows


def _xlsx_table(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # late: no loop; openpyxl loads only for a spreadsheet

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationFailed(NOT_XLSX, field="file") from exc
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield ["" if v is None else str(v) for v in values]
    finally:
        workbook.close()


def read_rows(path: Path) -> list[ImportRow]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = list(_rows_from_table(_csv_table(path)))
    elif suffix == ".xlsx":
        rows = list(_rows_from_table(_xlsx_table(path)))
    else:
        raise ValidationFailed("只能导入 .csv 或 .xlsx 文件。", field="file")
    if not rows:
        raise ValidationFailed("文件只有表头，没有数据行。", field="file")
    return rows


@dataclass(frozen=True)
class Parsed:
    """One row, validated on its own (no database needed)."""

    number: int
    kind: str
    name: str
    credit_code: str
    industry: str
    size: str
    qualifications: tuple[str, ...]
    groups: tuple[str, ...]
    township: str
    channel: str
    address: str
    contact: str
    topics: tuple[str, ...]
    keywords: tuple[tuple[str, str], ...]  # (keyword, space-joined tokens)
    hub: str


@lru_cache(maxsize=20_000)
def _keyword(text: str) -> tuple[str, str]:
    keyword, tokens = valid.keyword(text)
    return keyword, " ".join(tokens)


def _kind(row: ImportRow) -> str:
    text = row.get("kind").lower()
    if text in ("企业", "enterprise"):
        return "enterprise"
    if text in ("居民", "个人", "resident"):
        return "resident"
    if not text:
        return "enterprise" if row.get("credit_code") else "resident"
    raise ValidationFailed(f"类型“{row.get('kind')}”无法识别，请填 企业 或 居民。", field="kind")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check_text(row: ImportRow) -> None:
    """Control characters (NUL above all, which PostgreSQL refuses) make a row bad on every backend."""
    if not _CONTROL.search("".join(row.values.values())):
        return
    for name, value in row.values.items():
        if _CONTROL.search(value):
            raise ValidationFailed("含有不可见的控制字符，请删除后重新导入。", field=name)


_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: n for n, c in enumerate(_USCC)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _credit_code(text: str) -> str:
    """`valid.credit_code`, with a fast path for a code already in compact form and correct
    (nearly every row of a registry export): the same check as python-stdnum's, without its
    per-character clean-up. Anything else goes to `valid.credit_code` for its answer or error."""
    if len(text) == 18 and text[:8].isascii() and text[:8].isdigit():
        try:
            total = sum(_USCC_VALUE[c] * w for c, w in zip(text, _USCC_WEIGHTS, strict=False))
            if text[17] == _USCC[(31 - total) % 31]:
                return text
        except KeyError:
            pass
    return valid.credit_code(text)


def _words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(text) if w]


# Each takes a whole cell, so `Parser` remembers the answer per distinct cell: registry
# rows repeat a few values, and splitting and resolving them again was most of a row's cost.
def _eligibility(text: str, audience: str, name: str) -> tuple[str, ...]:
    return tuple(valid.eligibility(_words(text), audience, field=name))


def _topics(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(valid.topic(t) for t in _words(text)))


def _keywords(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(dict.fromkeys(_keyword(k) for k in _words(text)))


class Parser:
    """`parse` for one import: the answers of the vocabulary look-ups (township, industry,
    topics…) are remembered for the import's length, since registry rows repeat a few values."""

    def __init__(self) -> None:
        self._memo: dict[tuple[Any, ...], Any] = {}

    def _cached(self, fn: Callable[..., Any], *args: Any) -> Any:
        key = (fn, *args)
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = fn(*args)  # a raised error is not remembered
            return value

    def parse(self, row: ImportRow) -> Parsed:
        _check_text(row)
        kind = _kind(row)
        text, cached = row.text, self._cached
        get = text.get
        channel = cached(valid.channel, text["channel"]) if get("channel") else ""
        if get("address") and not channel:
            raise ValidationFailed("填写了地址但没有填写渠道。", field="channel")
        address = valid.address(get("address", "")) if channel else ""
        code = ""
        enterprise = kind == "enterprise"
        if enterprise:
            if not get("credit_code"):
                raise ValidationFailed("企业须填写统一社会信用代码。", field="credit_code")
            code = _credit_code(text["credit_code"])
            if not get("name"):
                raise ValidationFailed("企业名称不能为空。", field="name")
        elif not channel:
            raise ValidationFailed("居民须填写渠道和地址，才能收到推送。", field="address")
        quals, groups, topics, keywords = (get(n, "") for n in ("qualifications", "groups", "topics", "keywords"))
        return Parsed(
            number=row.number,
            kind=kind,
            name=get("name", "")[:200],
            credit_code=code,
            industry=cached(valid.industry, get("industry", "")) if enterprise else "",
            size=cached(valid.size, get("size", "")) if enterprise else "",
            qualifications=cached(_eligibility, quals, "enterprise", "qualifications") if quals else (),
            groups=cached(_eligibility, groups, "resident", "groups") if groups else (),
            township=cached(valid.township, get("township", "")),
            channel=channel,
            address=address,
            contact=get("contact", "")[:120],
            topics=cached(_topics, topics) if topics else (),
            keywords=cached(_keywords, keywords) if keywords else (),
            hub=get("hub", ""),
        )


def parse(row: ImportRow) -> Parsed:
    """One row, validated on its own (see `Parser` for a whole file)."""
    return Parser().parse(row)
