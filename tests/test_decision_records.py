"""Decisions live in docs/adr/ only, as numbered, dated records with a status; benchmark history lives
in bench/README.md, and every benchmark runs as `python -m bench.NAME`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADR = ROOT / "docs" / "adr"
RECORD = re.compile(r"^(\d{4})-[a-z0-9-]+\.md$")
STATUS = re.compile(r"^Status: (Accepted|Superseded by (\d{4}))$", re.M)
DATE = re.compile(r"^Date: \d{4}-\d{2}-\d{2}$", re.M)
# Text a reader outside this checkout cannot open: a sibling folder or an absolute path on some machine.
OUTSIDE = re.compile(r"\.\./|/work/|performance-ceilings")


def _records() -> dict[int, Path]:
    records = {}
    for path in sorted(ADR.iterdir()):
        match = RECORD.match(path.name)
        assert match, f"{path.name}: a record is named NNNN-title.md"
        number = int(match[1])
        assert number not in records, f"two records numbered {number}"
        records[number] = path
    return records


def test_every_record_is_numbered_dated_and_has_a_status() -> None:
    records = _records()
    assert sorted(records) == list(range(1, len(records) + 1)), "numbers run 0001, 0002, … without gaps"
    for number, path in records.items():
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"# ADR {number:04d}: "), path.name
        status = STATUS.search(text)
        assert status, f"{path.name}: Status: Accepted | Superseded by NNNN"
        assert DATE.search(text), f"{path.name}: Date: YYYY-MM-DD"
        if status[2]:
            newer = int(status[2])
            assert newer in records and newer > number, f"{path.name} is superseded by a later record"
            assert f"supersedes {number:04d}" in records[newer].read_text(encoding="utf-8"), (
                f"{records[newer].name} names the record it supersedes")


def test_no_record_cites_a_file_outside_the_repository() -> None:
    for path in _records().values():
        found = OUTSIDE.search(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name} cites {found[0]!r}"


def test_decisions_have_one_home() -> None:
    strays = [p for p in ROOT.rglob("ADR*.md") if ".venv" not in p.parts and ADR not in p.parents]
    assert not strays, strays


def test_every_bench_runs_as_a_module_and_is_documented() -> None:
    readme = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    for script in sorted((ROOT / "bench").glob("*.py")):
        if script.name.startswith("_"):  # __init__ and the parts a bench imports (e.g. _load_live)
            continue
        text = script.read_text(encoding="utf-8")
        assert 'if __name__ == "__main__":' in text, script.name
        assert f"`bench.{script.stem}" in readme, f"bench/README.md documents bench.{script.stem}"
        assert f"python bench/{script.name}" not in text, f"{script.name}: run it as python -m bench.{script.stem}"
    assert "python bench/" not in (ROOT / "README.md").read_text(encoding="utf-8")
