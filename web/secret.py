"""The key that signs console session cookies.

`SECRET_KEY` wins when set. Otherwise a random key is generated once and kept in
`<data_dir>/secret_key` (mode 0600): sessions then survive a restart, and a fresh install
still never runs with a guessable key. A deployment with several processes or hosts must
set `SECRET_KEY` so they all agree.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from core.settings import Settings

log = logging.getLogger(__name__)
SECRET_FILE_NAME = "secret_key"


def session_secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / SECRET_FILE_NAME
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    key = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
    except FileExistsError:
        # Another process wrote it first; use theirs so both sign alike.
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        log.warning("SECRET_KEY 未设置且无法写入 %s（%s）：本次使用临时密钥，重启后需重新登录", path, exc)
        return key
    log.warning("SECRET_KEY 未设置：已生成随机密钥并保存在 %s；多进程或多主机部署请设置 SECRET_KEY", path)
    return key
