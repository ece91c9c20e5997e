"""The command line speaks Chinese to the person at the terminal: usage, help and errors;
no traceback for their mistakes; the role checked before the password, which is asked twice;
roles typed in Chinese; Alembic's progress lines only with --verbose."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.test_cli import REPO, run_cli


def _no_english_machinery(result: subprocess.CompletedProcess[str]) -> None:
    both = result.stdout + result.stderr
    for english in ("Traceback", "usage:", "error:", "the following arguments", "invalid choice", "INFO"):
        assert english not in both, both


def test_help_and_usage_errors_are_chinese(tmp_path: Path) -> None:
    helped = run_cli(tmp_path, "--help")
    assert helped.returncode == 0 and "用法：run.py" in helped.stdout and "显示本帮助并退出" in helped.stdout
    _no_english_machinery(helped)
    unknown = run_cli(tmp_path, "publsh")
    assert unknown.returncode == 2 and "没有“publsh”这个命令" in unknown.stderr
    _no_english_machinery(unknown)
    missing = run_cli(tmp_path, "user", "create")
    assert missing.returncode == 2 and "缺少必填参数：--username" in missing.stderr
    _no_english_machinery(missing)
    bare = run_cli(tmp_path, "token")
    assert bare.returncode == 2 and "缺少必填参数：子命令" in bare.stderr


def test_user_mistakes_get_one_chinese_line(tmp_path: Path) -> None:
    bad_role = run_cli(tmp_path, "user", "create", "--username", "clerk", "--role", "超人")
    assert bad_role.returncode == 2 and "没有“超人”这个角色" in bad_role.stderr and "部门编辑" in bad_role.stderr
    assert "密码" not in bad_role.stdout  # refused before any password prompt
    _no_english_machinery(bad_role)
    no_agency = run_cli(tmp_path, "user", "create", "--username", "clerk", "--role", "部门编辑")
    assert no_agency.returncode == 1 and "必须指定所属单位" in no_agency.stderr
    no_terminal = run_cli(tmp_path, "user", "create", "--username", "clerk", "--role", "审核人")
    assert no_terminal.returncode == 1 and "没有可交互的终端" in no_terminal.stderr
    _no_english_machinery(no_terminal)
    weak = run_cli(tmp_path, "user", "create", "--username", "clerk", "--password", "short")
    assert weak.returncode == 1 and "password" not in weak.stderr and "字段" not in weak.stderr
    missing_file = run_cli(tmp_path, "subscribers", "import", str(tmp_path / "没有这个文件.csv"))
    assert missing_file.returncode == 1 and "找不到文件" in missing_file.stderr
    _no_english_machinery(missing_file)
    made = run_cli(tmp_path, "user", "create", "--username", "clerk", "--role", "审核人",
                   "--password", "S3cure!pass-2026")
    assert made.returncode == 0 and "已创建账号 clerk（审核人）" in made.stdout, made.stderr
    _no_english_machinery(made)  # Alembic's INFO lines stay hidden
    verbose = run_cli(tmp_path / "v", "--verbose", "token", "create", "--agency", "泾源县民政局")
    assert verbose.returncode == 0 and "alembic" in verbose.stderr and "部门编辑令牌" in verbose.stdout


def _create_with_terminal(tmp_path: Path, *typed: str) -> tuple[int, str]:
    """Runs `user create` with a pseudo-terminal as its terminal, answering each password
    prompt with the next of `typed` once it appears (getpass flushes anything typed ahead)."""
    primary, secondary = pty.openpty()
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "DATA_DIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "run.py", "user", "create", "--username", "boss"], cwd=REPO, env=env,
                               stdin=secondary, stdout=secondary, stderr=secondary, start_new_session=True)
    os.close(secondary)
    answers = list(typed)
    sent = 0
    output = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(primary, 4096).decode(errors="replace")
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if answers and output.count("密码：") > sent:  # a new prompt (echo is off once it shows)
            os.write(primary, (answers.pop(0) + "\n").encode())
            sent += 1
    os.close(primary)
    return process.wait(timeout=120), output


def test_password_is_asked_twice(tmp_path: Path) -> None:
    code, output = _create_with_terminal(tmp_path, "S3cure!pass-2026", "S3cure!pass-2027")
    assert code == 1 and "再次输入密码" in output and "两次输入的密码不一致" in output
    code, output = _create_with_terminal(tmp_path, "S3cure!pass-2026", "S3cure!pass-2026")
    assert code == 0 and "已创建账号 boss（管理员）" in output
    assert "S3cure" not in output  # never echoed
