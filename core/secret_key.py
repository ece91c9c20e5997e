"""The key that signs tracked links and console sessions.

Taken from SECRET_KEY when set. Otherwise one is generated on first start and kept in the data
directory (mode 0600), so links in messages already sent stay valid across restarts and several
processes on one machine agree on it.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from core.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret_key"


def secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / KEY_FILE_NAME
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start together, exactly one writes and both read the same key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    log.warning("SECRET_KEY 未设置：已生成随机密钥并保存在 %s；多主机部署请设置 SECRET_KEY", path)
    return key
