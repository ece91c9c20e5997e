"""Build the channel adapters the settings enable, each with its own rate limiter."""

from __future__ import annotations

from collections.abc import Mapping

from core.metrics import rate_limit_sleep
from core.settings import Settings
from push.channels.base import ChannelAdapter, ChannelName
from push.channels.telegram import TelegramChannel, make_telegram_bot
from push.channels.web_inbox import StoreCallback, WebInboxChannel, store_not_configured
from push.channels.wechat import WeChatChannel
from push.channels.wecom_robot import DEFAULT_WEBHOOK_BASE, WeComRobotChannel
from push.ratelimit import (
    DailyQuota,
    LimiterConfig,
    telegram_limiter,
    wechat_limiter,
    wecom_robot_limiter,
)
from push.shared_limits import SharedLimits


def build_channels(
    settings: Settings,
    limiter_config: LimiterConfig | None = None,
    *,
    web_store: StoreCallback | None = None,
    wecom_webhook_base: str = DEFAULT_WEBHOOK_BASE,
    shared: SharedLimits | None = None,
) -> dict[str, ChannelAdapter]:
    """Telegram when a bot token is set, WeChat when app id and secret are set; WeCom robot and
    web inbox always. `web_store(address, rendered) -> id` persists web messages; without
    it every web delivery fails with a readable reason. With `shared` (REDIS_URL) every limit,
    the WeChat day quota included, is counted in Redis for all processes together."""
    limits = limiter_config or LimiterConfig()
    channels: dict[str, ChannelAdapter] = {}
    if settings.telegram_bot_token:
        bot = make_telegram_bot(settings.telegram_bot_token, settings.telegram_api_base)
        bot_id = settings.telegram_bot_token.split(":", 1)[0]
        tg_limiter = shared.telegram(bot_id, limits.telegram) if shared else telegram_limiter(
            limits.telegram, sleep=rate_limit_sleep("telegram"))
        channels[ChannelName.TELEGRAM] = TelegramChannel(bot, tg_limiter)  # type: ignore[arg-type]
    if settings.wechat_app_id and settings.wechat_app_secret:
        channels[ChannelName.WECHAT] = WeChatChannel(
            settings.wechat_app_id,
            settings.wechat_app_secret,
            settings.wechat_api_base,
            settings.wechat_template_id or None,
            shared.wechat(settings.wechat_app_id, limits.wechat) if shared else wechat_limiter(
                limits.wechat, sleep=rate_limit_sleep("wechat")),  # type: ignore[arg-type]
            daily_quota=DailyQuota(0 if shared else limits.wechat.per_day),
        )
    robot_limiter = shared.wecom_robot(limits.wecom_robot) if shared else wecom_robot_limiter(
        limits.wecom_robot, sleep=rate_limit_sleep("wecom_robot"))
    channels[ChannelName.WECOM_ROBOT] = WeComRobotChannel(wecom_webhook_base, robot_limiter)  # type: ignore[arg-type]
    channels[ChannelName.WEB] = WebInboxChannel(web_store or store_not_configured)
    return channels


async def close_all(channels: Mapping[str, ChannelAdapter]) -> None:
    """Close every adapter, even when one of them fails to close."""
    errors: list[BaseException] = []
    for adapter in channels.values():
        try:
            await adapter.close()
        except Exception as exc:  # noqa: BLE001 - keep closing the others, re-raise the first
            errors.append(exc)
    if errors:
        raise errors[0]
