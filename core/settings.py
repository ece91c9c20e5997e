"""Settings read from environment variables and an optional `.env` file.

Names follow the public surface in INTERFACES.md; keep them stable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="", description="SQLAlchemy async URL")
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_base_url: str = ""
    secret_key: str = Field(default="", description="signs tracked links and sessions")

    telegram_bot_token: str = ""
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""

    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com/cgi-bin/"
    wechat_template_id: str = ""

    consultation_phone: str = "12345"
    timezone: str = "Asia/Shanghai"
    review_levels: int = Field(default=1, ge=1, le=3)
    relay_deadline_working_days: int = Field(default=3, ge=1, le=30)
    delivery_attempt_retention_days: int = Field(default=180, ge=1)
    scheduler_poll_seconds: float = Field(default=5.0, gt=0)
    data_dir: Path = REPO_ROOT / "data"

    # Platform limits, shared by every sending process through Redis when REDIS_URL is set.
    redis_url: str = ""
    redis_key_prefix: str = "pd"
    telegram_per_second: int = Field(default=30, ge=0)
    telegram_per_chat_per_second: int = Field(default=1, ge=0)
    telegram_per_group_per_minute: int = Field(default=20, ge=0)

    # Read-aloud (语音播报): voice messages for chats that chose it; engine "" = espeak-ng
    voice_enabled: bool = True
    voice_engine: str = ""

    # Trust (issue 12): request sizes, login cost, file import, WeChat replay window.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, description="JSON and form request bodies")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, description="multipart uploads")
    import_max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="run.py import, per file")
    import_max_docx_uncompressed_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)
    wechat_replay_window_seconds: int = Field(default=300, ge=30, le=3600)

    # Operations: /metrics, structured logs
    metrics_token: str = Field(default="", description="bearer token /metrics requires; empty: open")
    log_format: str = Field(default="text", description="text or json")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'policy_direct.db'}"

    @property
    def effective_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def wechat_enabled(self) -> bool:
        return bool(self.wechat_token and self.wechat_app_id)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
