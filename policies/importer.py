"""`python run.py import PATH…`: policy files become drafts with suggested tags.

Reads .txt, .md, .docx and .json (one policy object or a list), a folder too. Each file is
imported in its own transaction, so one bad file never loses the others. Idempotent by 文号
(and by title + agency when a document has none): importing the same files twice creates
nothing new and says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tqdm import tqdm

from core.db import Database
from core.errors import DomainError
from policies import store
from policies.lifecycle import DraftInput, InterpretationInput, create_draft
from policies.text import taxonomy
from policies.text.docno import DocNoError, parse_doc_no
from policies.text.header import extract_header
from policies.text.suggest import suggest_tags

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


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            files.append(path)
    return files


def read_text(path: Path) -> str:
    if not path.exists():
        raise UnreadableFile("文件不存在")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"不支持的文件类型 {suffix or '（无扩展名）'}，支持 {' '.join(SUPPORTED_SUFFIXES)}")
    if suffix == ".docx":
        return _read_docx(path)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("无法识别文件编码（请另存为 UTF-8）")


def _read_docx(path: Path) -> str:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnreadableFile(f"不是有效的 Word 文档：{exc}") from exc
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


def drafts_from_json(text: str) -> list[tuple[DraftInput, list[str]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"JSON 格式错误（第 {exc.lineno} 行）：{exc.msg}") from exc
    items = data if isinstance(data, list) else [data]
    return [draft_from_mapping(item) for item in items if isinstance(item, dict)]


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
) -> ImportReport:
    report = ImportReport()
    files = expand_paths(paths)
    for path in tqdm(files, desc="导入政策", unit="个文件", disable=not progress):
        try:
            text = read_text(path)
            if path.suffix.lower() == ".json":
                drafts = drafts_from_json(text)
                if not drafts:
                    raise UnreadableFile("JSON 中没有政策对象")
            else:
                if not text.strip():
                    raise UnreadableFile("文件是空的")
                drafts = [draft_from_document(text, path.stem, default_agency)]
        except (UnreadableFile, OSError) as exc:
            message = exc.message if isinstance(exc, UnreadableFile) else f"无法读取：{exc}"
            report.outcomes.append(FileOutcome(str(path), "failed", message))
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
