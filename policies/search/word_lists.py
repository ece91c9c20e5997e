"""The Q&A word lists departments edit in the console: the concept map (everyday words →
policy words) and the synonyms. The shipped files live in policies/data/; an edited copy is
saved under DATA_DIR/qa_words/ and takes their place, so an upgrade never overwrites what a
department wrote and a read-only install can still be edited.

The caller says where DATA_DIR is (the settings are read by the application, not here);
without it only the shipped lists are read. `lists_version` tells another process that a
list was saved, so it can reload (policies/qa/follower.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import ValidationFailed
from policies.search.synonyms import CONCEPTS_FILE, OUT_OF_SCOPE_FILE, SYNONYMS_FILE, SynonymTable, outside_words

EDITED_DIR_NAME = "qa_words"
MAX_LIST_CHARS = 200_000
MAX_PHRASE_CHARS = 30


@dataclass(frozen=True, slots=True)
class WordList:
    name: str  # ASCII, in URLs
    label: str  # what the console calls it
    shipped: Path


WORD_LISTS = {
    "concepts": WordList("concepts", "口语概念图", CONCEPTS_FILE),
    "synonyms": WordList("synonyms", "同义词", SYNONYMS_FILE),
    "out_of_scope": WordList("out_of_scope", "本库不管的事项", OUT_OF_SCOPE_FILE),
}


def edited_path(name: str, data_dir: Path) -> Path:
    return data_dir / EDITED_DIR_NAME / f"{name}.txt"


def read_list(name: str, data_dir: Path | None = None) -> str:
    """The edited copy under `data_dir` when there is one, else the shipped list."""
    edited = edited_path(name, data_dir) if data_dir is not None else None
    source = edited if edited is not None and edited.exists() else WORD_LISTS[name].shipped
    return source.read_text(encoding="utf-8") if source.exists() else ""


ListsVersion = tuple[tuple[str, int, int], ...]


def lists_version(data_dir: Path | None) -> ListsVersion:
    """Changes whenever a list is saved (or an edited copy removed): each edited copy's
    modification time and size. Saving replaces the file, so a save is never missed even
    within the file system's time resolution unless the size is the same too."""
    if data_dir is None:
        return ()
    version = []
    for name in WORD_LISTS:
        try:
            stat = edited_path(name, data_dir).stat()
        except OSError:
            continue
        version.append((name, stat.st_mtime_ns, stat.st_size))
    return tuple(version)


def check_list(text: str) -> list[str]:
    """What is wrong with an edited list, line by line, in words a department can act on."""
    problems = []
    if len(text) > MAX_LIST_CHARS:
        return [f"内容过长（最多 {MAX_LIST_CHARS} 个字符）"]
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.count("=>") > 1:
            problems.append(f"第 {number} 行：“=>”只能出现一次")
            continue
        sides = line.split("=>")
        phrases = [p.strip() for side in sides for p in side.replace("＝", "=").split("=")]
        if len(phrases) < 2:
            problems.append(f"第 {number} 行：请用“=”或“=>”连接至少两个说法，例如“饭馆 => 创业”")
        elif any(not p for p in phrases):
            problems.append(f"第 {number} 行：“=”两边都要有说法")
        elif any(len(p) > MAX_PHRASE_CHARS for p in phrases):
            problems.append(f"第 {number} 行：每个说法最多 {MAX_PHRASE_CHARS} 个字")
    return problems


def save_list(name: str, text: str, data_dir: Path) -> None:
    if name not in WORD_LISTS:
        raise ValidationFailed("没有这个词表", field="name")
    problems = check_list(text)
    if problems:
        raise ValidationFailed("；".join(problems[:10]), field="text")
    path = edited_path(name, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text.replace("\r\n", "\n"), encoding="utf-8")
    temporary.replace(path)


def load_table(data_dir: Path | None = None) -> SynonymTable:
    """What queries are expanded with: the synonyms and the concept map, with the out-of-scope
    words beside them (never expanded), edited copies under `data_dir` first (only the
    shipped lists without one)."""
    return SynonymTable.parse(read_list("synonyms", data_dir)).merged(
        SynonymTable.parse(read_list("concepts", data_dir))).with_outside(
        outside_words(read_list("out_of_scope", data_dir)))
