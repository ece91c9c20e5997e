"""The contract between the delivery pipeline and the messaging platforms.

The pipeline renders a `MessageContext` into a `RenderedMessage` for one channel and
hands it to that channel's adapter; the adapter answers with a `SendResult` that tells
the pipeline what to do next. Adapters never touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from vocabulary.codes import ChannelName as ChannelName  # the renderer's callers name channels by it


class MessageKind:
    PUBLISHED = "published"
    AMENDED = "amended"
    REPEALED = "repealed"
    EXPIRED = "expired"
    DIGEST = "digest"
    REMINDER = "reminder"
    RELAY = "relay"  # forwarded by a hub to its member


@dataclass(frozen=True)
class PolicyItem:
    """What a message says about one policy (a digest carries several)."""

    policy_id: int
    title: str
    doc_no: str | None
    agency: str
    validity_label: str
    who_qualifies: str
    benefits: str
    application_closes: date | None
    link: str  # signed tracked link to the public policy page
    change_summary: str = ""


@dataclass(frozen=True)
class MessageContext:
    kind: str  # MessageKind
    items: tuple[PolicyItem, ...]
    reasons: tuple[str, ...] = ()  # why the reader got it, in Chinese
    relayed_by: str = ""  # hub name when a hub forwarded it
    is_hub: bool = False  # hub operators get the 转发给会员 button
    delivery_id: int = 0
    unsubscribe_hint: str = "回复“退订”可停止接收此类政策"


@dataclass(frozen=True)
class Button:
    text: str
    action: str  # "url" | "interpret" | "ask" | "ack" | "forward" | "unsub"
    value: str  # a URL for "url", else a short ASCII payload (e.g. a delivery or policy id)


@dataclass(frozen=True)
class RenderedMessage:
    channel: str
    address: str  # chat id, openid, robot webhook key or URL, web inbox key
    text: str  # HTML for Telegram, plain text for WeChat, markdown for WeCom robot
    buttons: tuple[Button, ...] = ()
    title: str = ""
    url: str = ""


class SendStatus:
    SENT = "sent"  # the platform accepted it; not proof of reading
    RETRY = "retry"  # transient: network, 5xx, 429
    PERMANENT = "permanent"  # the address is gone: blocked, unsubscribed, chat not found
    FAILED = "failed"  # this message cannot be sent (bad content); the address is fine
    # Not sent: a shared platform limit has no token now. The delivery goes back to the queue for
    # `retry_after` seconds without spending an attempt (push.shared_limits.Throttled).
    DEFERRED = "deferred"


@dataclass(frozen=True)
class SendResult:
    status: str
    provider_message_id: str | None = None
    retry_after: float | None = None  # seconds, when the platform said so (Telegram 429)
    error: str = ""
    new_address: str | None = None  # Telegram group migrated to a supergroup
    raw: dict[str, object] = field(default_factory=dict)


class ChannelAdapter(Protocol):
    name: str

    async def send(self, message: RenderedMessage) -> SendResult: ...

    async def close(self) -> None: ...
