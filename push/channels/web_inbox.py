"""Web inbox: the message is stored for the subscriber's web chat by a callback the pipeline supplies.

The callback keeps this adapter free of database code; it returns the stored message's id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from push.channels.base import ChannelName, RenderedMessage, SendResult, SendStatus

StoreCallback = Callable[[str, RenderedMessage], Awaitable[str]]

log = logging.getLogger(__name__)


class WebInboxChannel:
    name = ChannelName.WEB

    def __init__(self, store_callback: StoreCallback) -> None:
        self.store_callback = store_callback

    async def send(self, message: RenderedMessage) -> SendResult:
        try:
            stored_id = await self.store_callback(message.address, message)
        except InboxNotConfigured as exc:
            return SendResult(SendStatus.FAILED, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a storage failure is transient; the pipeline retries
            log.warning("web inbox store failed for %s: %s", message.address, exc)
            return SendResult(SendStatus.RETRY, error=f"网页收件箱保存失败：{type(exc).__name__}: {exc}")
        return SendResult(SendStatus.SENT, provider_message_id=str(stored_id))

    async def close(self) -> None:
        return None


class InboxNotConfigured(RuntimeError):
    """No store was supplied: retrying cannot help."""


async def store_not_configured(address: str, message: RenderedMessage) -> str:
    """Default store when the pipeline supplied none: every web delivery fails with this reason."""
    raise InboxNotConfigured("未配置网页收件箱存储（build_channels 需要 web_store）")
