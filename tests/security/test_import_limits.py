"""`run.py import` reads hostile files safely: a size cap per file, Word files that would
unpack to gigabytes (zip bombs) refused before unpacking, NUL bytes refused, JSON checked field
by field, each bad file reported in Chinese (never a traceback) while the good ones import."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import zipfile
from pathlib import Path

import docx

from core.db import Database
from policies.importer import ImportLimits, import_paths
from tests.test_serve import REPO

NOTICE = ("泾源县人力资源和社会保障局\n关于创业补贴申领的通知\n泾人社发〔2026〕21号\n"
          "符合条件的人员可申领一次性创业补贴。\n")
LIMITS = ImportLimits(max_file_bytes=64 * 1024, max_docx_uncompressed_bytes=2 * 1024 * 1024, max_docx_members=200)


def _good_docx(path: Path) -> None:
    document = docx.Document()
    for line in NOTICE.replace("21号", "22号").replace("创业补贴", "就业见习补贴").splitlines():
        document.add_paragraph(line)
    document.save(str(path))


def _bomb(path: Path, unpacked_bytes: int) -> None:
    """A real .docx whose body part unpacks to `unpacked_bytes` of spaces (a few KB on disk)."""
    _good_docx(path.with_suffix(".seed.docx"))
    with zipfile.ZipFile(path.with_suffix(".seed.docx")) as seed, \
         zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in seed.infolist():
            out.writestr(item, seed.read(item))
        with out.open("word/padding.xml", "w") as padding:
            block = b" " * (1024 * 1024)
            for _ in range(unpacked_bytes // len(block)):
                padding.write(block)
    path.with_suffix(".seed.docx").unlink()


def _many_members(path: Path, count: int) -> None:
    with zipfile.ZipFile(path, "w") as out:
        for n in range(count):
            out.writestr(f"x/{n}.xml", b"<a/>")


def hostile_folder(folder: Path) -> dict[str, str]:
    """File name → a word the refusal must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good.txt").write_text(NOTICE, encoding="utf-8")
    _good_docx(folder / "good.docx")
    (folder / "huge.txt").write_text("政策" * 40_000, encoding="utf-8")
    (folder / "huge.md").write_bytes(b"#" * (LIMITS.max_file_bytes + 1))
    _bomb(folder / "bomb.docx", 8 * 1024 * 1024)
    _many_members(folder / "members.docx", 500)
    (folder / "garbage.docx").write_bytes(os.urandom(4096))
    (folder / "nul.txt").write_bytes("通知\x00正文".encode())
    (folder / "utf16.md").write_bytes("Policy notice 2026".encode("utf-16"))
    (folder / "wrong_types.json").write_text(json.dumps(
        {"title": ["不是文本"], "body": 5, "topics": "employment", "issued_on": "2026-13-45"}), encoding="utf-8")
    (folder / "number.json").write_text("42", encoding="utf-8")
    (folder / "list_of_junk.json").write_text(json.dumps([1, "a", None]), encoding="utf-8")
    (folder / "deep.json").write_text("[" * 30_000 + "]" * 30_000, encoding="utf-8")
    (folder / "syntax.json").write_text('{"title": "a",', encoding="utf-8")
    return {
        "huge.txt": "文件过大", "huge.md": "文件过大", "bomb.docx": "解压后过大", "members.docx": "内部文件过多",
        "garbage.docx": "Word", "nul.txt": "空字符", "utf16.md": "空字符", "wrong_types.json": "title",
        "number.json": "顶层", "list_of_junk.json": "JSON 对象", "deep.json": "JSON", "syntax.json": "JSON 格式错误",
    }


async def test_each_bad_file_is_reported_and_the_good_ones_import(db: Database, tmp_path: Path) -> None:
    expected = hostile_folder(tmp_path / "in")
    report = await import_paths(db, [tmp_path / "in"], limits=LIMITS)
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert by_name["good.txt"].status == "created" and by_name["good.docx"].status == "created"
    for name, word in expected.items():
        assert by_name[name].status == "failed", (name, by_name[name])
        assert word in by_name[name].message, (name, by_name[name].message)
    wrong = by_name["wrong_types.json"].message
    for field in ("title", "body", "topics", "issued_on"):
        assert field in wrong
    assert report.created == 2 and report.failed == len(expected)


async def test_the_command_line_prints_reasons_and_no_traceback(tmp_path: Path) -> None:
    expected = hostile_folder(tmp_path / "in")
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'import.db'}", "DATA_DIR": str(tmp_path),
           "IMPORT_MAX_FILE_BYTES": str(LIMITS.max_file_bytes),
           "IMPORT_MAX_DOCX_UNCOMPRESSED_BYTES": str(LIMITS.max_docx_uncompressed_bytes)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "run.py", "import", str(tmp_path / "in"), cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    text = out.decode() + err.decode()
    assert process.returncode == 1  # some files failed
    assert "Traceback" not in text
    for name in expected:
        assert f"[失败] {tmp_path / 'in' / name}" in text
    assert "新建 2" in text
