"""House rules of the web package's source (STYLE.md, issue 15): no file over 500 lines, and
an import inside a function only where it breaks a real import loop, saying so in a
`# late: <reason>` comment on the line above."""

from __future__ import annotations

import ast
from pathlib import Path

import web

WEB_DIR = Path(web.__file__).resolve().parent
SOURCES = sorted(p for p in WEB_DIR.rglob("*.py") if "migrations" not in p.parts)
MAX_LINES = 500


def test_no_web_source_file_is_over_500_lines() -> None:
    long = {str(p.relative_to(WEB_DIR)): n for p in SOURCES if (n := len(p.read_text(encoding="utf-8").splitlines()))
            > MAX_LINES}
    assert long == {}


def _late_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
    return found


def test_every_late_import_says_which_loop_it_breaks() -> None:
    unexplained = []
    for path in SOURCES:
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in _late_imports(ast.parse("\n".join(lines))):
            if "# late:" not in lines[node.lineno - 2]:
                unexplained.append(f"{path.relative_to(WEB_DIR)}:{node.lineno}")
    assert unexplained == []
