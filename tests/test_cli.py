"""The command line as an operator uses it: `python run.py …` in a subprocess, on a SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORK_PLAN = REPO.parent / "shared/domain/county-openness-work-plan-2023.txt"


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "run.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_import_prints_the_draft_and_is_idempotent(tmp_path: Path) -> None:
    if not WORK_PLAN.exists():
        pytest.skip(f"{WORK_PLAN} not present")
    first = run_cli(tmp_path, "import", str(WORK_PLAN))
    assert first.returncode == 0, first.stderr
    assert "[新建]" in first.stdout and "泾源县人民政府办公室" in first.stdout and "2023-07-18" in first.stdout
    second = run_cli(tmp_path, "import", str(WORK_PLAN))
    assert "[跳过]" in second.stdout and "新建 0" in second.stdout


def test_unreadable_file_fails_with_a_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a zip")
    result = run_cli(tmp_path, "import", str(bad))
    assert result.returncode == 1
    assert "[失败]" in result.stdout and "Word" in result.stdout


def test_token_and_user_creation(tmp_path: Path) -> None:
    token = run_cli(tmp_path, "token", "create", "--agency", "泾源县民政局", "--role", "editor")
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().splitlines()[-1].startswith("pd_")
    user = run_cli(tmp_path, "user", "create", "--username", "admin", "--password", "S3cure!pass-2026")
    assert user.returncode == 0 and "已创建账号 admin" in user.stdout
    again = run_cli(tmp_path, "user", "create", "--username", "admin", "--password", "S3cure!pass-2026")
    assert again.returncode == 1 and "已存在" in again.stderr


def test_subscriber_import_reports_row_errors(tmp_path: Path) -> None:
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text(
        "kind,name,credit_code,township,topics\nenterprise,某公司,91640424MA76XXXXX1,香水镇,惠企政策\n",
        encoding="utf-8",
    )
    result = run_cli(tmp_path, "subscribers", "import", str(csv_file))
    assert result.returncode == 1
    assert "第 2 行【统一社会信用代码】" in result.stdout and "credit_code" not in result.stdout
