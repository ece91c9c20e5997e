"""`python run.py import PATH…`: policy files become drafts with suggested tags.

Reads .txt, .md, .docx and .json (one policy object or a list), a folder too. Each file is
imported in its own transaction, so one bad file never loses the others. Idempotent by 文号
(and by title + agency when a document has none): importing the same files twice creates
nothing new and says so.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tqdm import tqdm

from core.db import Database
from core.errors import DomainError
from core.settings import Settings
from policies import store
from policies.lifecycle import DraftInput, InterpretationInput, create_draft
from policies.text.docno import DocNoError, parse_doc_no
from policies.text.header import extract_header
from policies.text.suggest import suggest_tags
from vocabulary import taxonomy

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".json")


@dataclass
class FileOutcome:
    path: str
    status: str  # created | skipped | failed
    message: str
    policy_id: int | None = None
    title: str = ""
    agency: str = ""
    issued_on: date | None = None
    topics: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def created(self) -> int:
        return self._count("created")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failed(self) -> int:
        return self._count("failed")


class UnreadableFile(DomainError):
    pass


@dataclass(frozen=True)
class ImportLimits:
    """What one file may cost to read. Defaults come from IMPORT_MAX_FILE_BYTES and
    IMPORT_MAX_DOCX_UNCOMPRESSED_BYTES."""

    max_file_bytes: int
    max_docx_uncompressed_bytes: int
    max_docx_members: int = 5000

    @classmethod
    def from_settings(cls, settings: Settings) -> ImportLimits:
        return cls(settings.import_max_file_bytes, settings.import_max_docx_uncompressed_bytes)


def _size_label(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            files.append(path)
    return files


def read_text(path: Path, limits: ImportLimits) -> str:
    """The text of one file, or UnreadableFile saying in Chinese why not (size, type, encoding,
    NUL bytes, a Word file that unpacks to more than the cap)."""
    if not path.exists():
        raise UnreadableFile("文件不存在")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"不支持的文件类型 {suffix or '（无扩展名）'}，支持 {' '.join(SUPPORTED_SUFFIXES)}")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UnreadableFile(f"文件过大（{_size_label(size)}），单个文件最多 {_size_label(limits.max_file_bytes)}"
                             "（可用 IMPORT_MAX_FILE_BYTES 调整）")
    if suffix == ".docx":
        return _refuse_nul(_read_docx(path, limits))
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise UnreadableFile("文件含有空字符（NUL），不是纯文本文件（UTF-16 文本请另存为 UTF-8）")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("无法识别文件编码（请另存为 UTF-8）")


def _refuse_nul(text: str) -> str:
    if "\x00" in text:
        raise UnreadableFile("文档中含有空字符（NUL），请检查文件是否损坏")
    return text


def _check_docx_package(path: Path, limits: ImportLimits) -> None:
    """A .docx is a zip: its declared sizes bound what unpacking may produce (the zip reader
    never returns more than a member declares), so a small file that would unpack to gigabytes
    is refused before anything is unpacked."""
    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile("不是有效的 Word 文档（.docx 文件已损坏或不是 Word 格式）") from exc
    if len(members) > limits.max_docx_members:
        raise UnreadableFile(f"Word 文档内部文件过多（{len(members)} 个），疑似异常文件")
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.max_docx_uncompressed_bytes:
        raise UnreadableFile(f"Word 文档解压后过大（{_size_label(unpacked)}），最多 "
                             f"{_size_label(limits.max_docx_uncompressed_bytes)}，疑似压缩炸弹")


def _read_docx(path: Path, limits: ImportLimits) -> str:
    import docx  # late: no loop; python-docx (lxml) loads only for a Word file
    from docx.opc.exceptions import PackageNotFoundError

    _check_docx_package(path, limits)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UnreadableFile("不是有效的 Word 文档（缺少正文或格式不对）") from exc
    except Exception as exc:  # malformed XML inside the package: still just a bad file
        raise UnreadableFile(f"Word 文档内容无法解析（{exc.__class__.__name__}）") from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _parse_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


_JSON_TEXT_FIELDS = ("title", "body", "text", "agency", "doc_no", "kind", "audience", "summary", "benefits",
                     "who_qualifies", "source_url", "source")
_JSON_LIST_FIELDS = ("topics", "regions", "industries", "eligibility", "keywords")
_JSON_DATE_FIELDS = ("application_opens", "application_closes", "effective_date", "expiry_date", "issued_on", "date")
MAX_JSON_ITEMS = 1000


def drafts_from_json(text: str) -> list[tuple[DraftInput, list[str]]]:
    """Policy objects of a .json file, checked the way the REST API checks a draft; every
    problem is reported with the item number and the field, in Chinese."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"JSON 格式错误（第 {exc.lineno} 行）：{exc.msg}") from exc
    except RecursionError as exc:
        raise UnreadableFile("JSON 嵌套过深") from exc
    if not isinstance(data, (list, dict)):
        raise UnreadableFile("JSON 顶层应为一个政策对象或政策对象的列表")
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_JSON_ITEMS:
        raise UnreadableFile(f"一个 JSON 文件最多 {MAX_JSON_ITEMS} 个政策，请拆分")
    problems = [problem for number, item in enumerate(items, start=1) for problem in _json_problems(number, item)]
    if problems:
        raise UnreadableFile("；".join(problems[:10]) + ("……" if len(problems) > 10 else ""))
    return [draft_from_mapping(item) for item in items]


def _json_problems(number: int, item: object) -> list[str]:
    where = f"第 {number} 个政策"
    if not isinstance(item, dict):
        return [f"{where}应为 JSON 对象"]
    problems = []
    if not isinstance(item.get("title"), str) or not item["title"].strip():
        problems.append(f"{where}：title（标题）必填，且须为文本")
    if not isinstance(item.get("body", item.get("text")), str):
        problems.append(f"{where}：body（正文）必填，且须为文本")
    for name in _JSON_TEXT_FIELDS:
        if item.get(name) is not None and not isinstance(item[name], str):
            problems.append(f"{where}：{name} 须为文本")
    for name in _JSON_LIST_FIELDS:
        value = item.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            problems.append(f"{where}：{name} 须为文本列表，例如 [\"employment\"]")
    for name in _JSON_DATE_FIELDS:
        value = item.get(name)
        if value not in (None, "") and (not isinstance(value, str) or _parse_date(value) is None):
            problems.append(f"{where}：{name} 须为日期（YYYY-MM-DD）")
    interpretation = item.get("interpretation")
    if interpretation is not None and not (
        isinstance(interpretation, dict)
        and isinstance(interpretation.get("elements", {}), dict)
        and all(isinstance(v, str) for v in interpretation.get("elements", {}).values())
    ):
        problems.append(f"{where}：interpretation 须为对象，其 elements 为“要素: 文本”")
    return problems


def draft_from_mapping(item: dict[str, Any]) -> tuple[DraftInput, list[str]]:
    body = str(item.get("body") or item.get("text") or "")
    title = str(item.get("title") or "")
    suggestion = suggest_tags(body, title=title)
    interpretation = item.get("interpretation")
    draft = DraftInput(
        title=title,
        body=body,
        agency=str(item.get("agency") or ""),
        doc_no=_valid_doc_no(item.get("doc_no")),
        kind=str(item.get("kind") or "other"),
        audience=str(item.get("audience") or suggestion.audience),
        topics=list(item.get("topics") or [t.code for t in suggestion.topics]),
        regions=list(item.get("regions") or suggestion.regions),
        industries=list(item.get("industries") or suggestion.industries),
        eligibility=list(item.get("eligibility") or suggestion.eligibility),
        keywords=list(item.get("keywords") or suggestion.keywords),
        summary=str(item.get("summary") or ""),
        benefits=str(item.get("benefits") or ""),
        who_qualifies=str(item.get("who_qualifies") or ""),
        application_opens=_parse_date(item.get("application_opens")),
        application_closes=_parse_date(item.get("application_closes")),
        effective_date=_parse_date(item.get("effective_date")),
        expiry_date=_parse_date(item.get("expiry_date")),
        issued_on=_parse_date(item.get("issued_on") or item.get("date")),
        source_url=str(item.get("source_url") or item.get("source") or ""),
        interpretation=InterpretationInput(
            elements=dict(interpretation.get("elements") or {}),
            unit=str(interpretation.get("unit") or ""),
            phone=str(interpretation.get("phone") or ""),
        )
        if isinstance(interpretation, dict)
        else None,
    )
    return draft, []


def _valid_doc_no(value: Any) -> str | None:
    if not value:
        return None
    try:
        return parse_doc_no(str(value)).normalized
    except DocNoError:
        return None


def draft_from_document(text: str, fallback_title: str, default_agency: str | None) -> tuple[DraftInput, list[str]]:
    header = extract_header(text)
    notes: list[str] = []
    title = header.title or fallback_title
    agency = header.agency or default_agency or ""
    if not header.agency:
        notes.append("未能从文中识别发文机关" + ("，已使用 --agency 指定的机关" if default_agency else ""))
    suggestion = suggest_tags(text, title=title)
    draft = DraftInput(
        title=title,
        body=text.strip(),
        agency=agency,
        doc_no=header.doc_no,
        audience=suggestion.audience,
        topics=[t.code for t in suggestion.topics],
        regions=list(suggestion.regions),
        industries=list(suggestion.industries),
        eligibility=list(suggestion.eligibility),
        keywords=list(suggestion.keywords),
        issued_on=header.issued_on,
    )
    return draft, notes


async def _already_imported(db: Database, draft: DraftInput) -> str | None:
    async with db.reader() as session:
        existing = None
        if draft.doc_no:
            existing = await store.policy_by_doc_no(session, parse_doc_no(draft.doc_no).normalized)
        elif draft.title and draft.agency:
            existing = await store.policy_by_title(session, draft.title, draft.agency)
    if existing is None:
        return None
    key = f"文号 {existing.doc_no}" if existing.doc_no else "同名同机关"
    return f"已导入过（{key}，政策 {existing.id}），未重复创建"


async def _import_one(db: Database, path: Path, draft: DraftInput, notes: list[str], actor: str) -> FileOutcome:
    duplicate = await _already_imported(db, draft)
    if duplicate:
        return FileOutcome(str(path), "skipped", duplicate, title=draft.title, agency=draft.agency)
    try:
        async with db.session() as session:
            policy = await create_draft(session, draft, actor)
            policy_id, topics = policy.id, list(policy.topics)
    except DomainError as exc:
        return FileOutcome(str(path), "failed", exc.message, title=draft.title)
    message = "已创建草稿" + ("；" + "；".join(notes) if notes else "")
    return FileOutcome(
        str(path),
        "created",
        message,
        policy_id=policy_id,
        title=draft.title,
        agency=draft.agency,
        issued_on=draft.issued_on,
        topics=topics,
    )


async def import_paths(
    db: Database,
    paths: Sequence[str | Path],
    *,
    actor: str = "import",
    default_agency: str | None = None,
    progress: bool = False,
    limits: ImportLimits,
) -> ImportReport:
    report = ImportReport()
    files = expand_paths(paths)
    for path in tqdm(files, desc="导入政策", unit="个文件", disable=not progress):
        try:
            text = read_text(path, limits)
            if path.suffix.lower() == ".json":
                drafts = drafts_from_json(text)
                if not drafts:
                    raise UnreadableFile("JSON 中没有政策对象")
            else:
                if not text.strip():
                    raise UnreadableFile("文件是空的")
                drafts = [draft_from_document(text, path.stem, default_agency)]
        except (UnreadableFile, OSError) as exc:
            message = exc.message if isinstance(exc, UnreadableFile) else f"无法读取：{exc.strerror or exc}"
            report.outcomes.append(FileOutcome(str(path), "failed", message))
            continue
        except Exception as exc:  # noqa: BLE001 - one odd file must not stop a folder import
            report.outcomes.append(FileOutcome(str(path), "failed", f"无法读取（{exc.__class__.__name__}）"))
            continue
        for draft, notes in drafts:
            report.outcomes.append(await _import_one(db, path, draft, notes, actor))
    return report


def print_report(report: ImportReport) -> None:
    labels = {"created": "新建", "skipped": "跳过", "failed": "失败"}
    for o in report.outcomes:
        line = f"[{labels[o.status]}] {o.path}"
        if o.policy_id:
            line += f" → 政策 {o.policy_id}《{o.title}》 发文机关：{o.agency} 日期：{o.issued_on or '未识别'}"
            names = [t.name if (t := taxonomy.topic_by_code(code)) else code for code in o.topics]
            line += f" 主题：{'、'.join(names) or '无'}"
        print(f"{line}\n        {o.message}")
    print(f"共 {len(report.outcomes)} 项：新建 {report.created}，跳过 {report.skipped}，失败 {report.failed}")
