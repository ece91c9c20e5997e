"""Merging two contacts into one when a web-chat visitor binds a Telegram chat or WeChat openid.

Direction: the contact behind the web address (`source`) is merged INTO the contact of the
chat where the code was redeemed (`target`). The chat contact is the durable one (a phone
account, possibly an enterprise contact); the web contact is an anonymous cookie.

The merge itself is `subscriptions.service.merge_subscribers`: criteria are united, the
delivery preference is the chat contact's (unless it had never subscribed to anything),
and every address of the web contact (the web inbox, and any chat bound earlier) moves to
the chat contact with its id, so pushes reach the web inbox and every bound chat, and
"我的订阅" is the same everywhere. The web contact is left empty, marked as merged.

This module only words the refusals for the chat: `refusal` says, in the bot's words, why
the service would refuse (a hub contact, two different enterprises), so the dialogue can
answer before trying. All of it runs in the caller's unit of work.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from core.errors import Conflict
from subscriptions import service as subscriptions
from subscriptions.views import SubscriberKind, SubscriberView


def refusal(source: SubscriberView, target: SubscriberView) -> str:
    """Why these two contacts cannot be merged, or "" (mirrors `merge_subscribers`' refusals)."""
    if SubscriberKind.HUB in (source.kind, target.kind):
        return texts.BIND_REFUSED_HUB
    if source.enterprise_id and target.enterprise_id and source.enterprise_id != target.enterprise_id:
        return texts.BIND_REFUSED_TWO_ENTERPRISES
    return ""


async def merge_into(session: AsyncSession, source_id: int, target_id: int) -> SubscriberView:
    """Merge contact `source_id` into `target_id` (see the module docstring); returns the target.
    Raises `Conflict` (with the bot's wording when `refusal` knows the reason)."""
    source = await subscriptions.get_subscriber(session, source_id)
    target = await subscriptions.get_subscriber(session, target_id)
    problem = refusal(source, target)
    if problem:
        raise Conflict(problem, field="bind")
    return await subscriptions.merge_subscribers(session, source_id, target_id)
