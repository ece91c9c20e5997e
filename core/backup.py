"""`python run.py backup PATH`: a consistent online copy of the SQLite database plus the secret key.

The copy goes through SQLite's online backup API, so it is consistent even while the server and
workers keep writing (WAL mode). The secret key is copied too (mode 0600): without it the tracked
links in messages already sent, and console sessions, stop working after a restore.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from core.db import is_sqlite
from core.errors import ValidationFailed
from core.secret_key import KEY_FILE_NAME
from core.settings import Settings

BACKUP_DB_NAME = "policy_direct.db"


@dataclass(frozen=True)
class BackupResult:
    database: Path
    size_bytes: int
    secret_key: Path | None  # None: SECRET_KEY comes from the environment, keep it yourself
    integrity: str


def sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[-1].split("?", 1)[0])


def backup(settings: Settings, target: Path) -> BackupResult:
    url = settings.effective_database_url
    if not is_sqlite(url):
        raise ValidationFailed(
            "当前使用 PostgreSQL：请用 pg_dump 备份（见 README“运维”一节），本命令只备份内置的 SQLite 数据库。",
            field="DATABASE_URL",
        )
    source = sqlite_path(url)
    if not source.exists():
        raise ValidationFailed(f"找不到数据库文件 {source}，请先运行一次 python run.py。", field="DATABASE_URL")
    target.mkdir(parents=True, exist_ok=True)
    copy = target / BACKUP_DB_NAME
    if copy.exists():
        raise ValidationFailed(f"{copy} 已存在：请换一个空目录，以免覆盖旧备份。", field="PATH")
    partial = copy.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(source) as live, sqlite3.connect(partial) as out:
        live.backup(out, pages=4096)  # in steps, so writers are not held up for the whole copy
        integrity = out.execute("PRAGMA integrity_check").fetchone()[0]
    partial.rename(copy)
    return BackupResult(copy, copy.stat().st_size, _copy_secret_key(settings, target), integrity)


def _copy_secret_key(settings: Settings, target: Path) -> Path | None:
    if settings.secret_key:
        return None
    key = Path(settings.data_dir) / KEY_FILE_NAME
    if not key.exists():
        return None
    copied = target / KEY_FILE_NAME
    fd = os.open(copied, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, key.open("rb") as original:
        shutil.copyfileobj(original, out)
    return copied
