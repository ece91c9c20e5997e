"""The web inbox in the chat: which delivery an inbox message is, and 确认收到 for it.

An inbox message carries the tracked link of its delivery (`{base}/r/{token}`); the token is
the delivery id signed with the site's secret key (`push.links`), so it cannot be forged. The
message is looked up in the visitor's own inbox, and the acknowledgement goes through the same
relay function as the chat buttons, which checks again that the delivery went to this inbox.
"""

from __future__ import annotations

import re
from typing import Any

from bot import texts
from bot.dialogue import pushed
from bot.dialogue.context import Turn
from bot.dialogue.replies import Reply
from push import service as push
from push.service import read_token_payload
from vocabulary.actions import Kind, encode

INBOX_LIMIT = 50


def delivery_id_of(url: str, secret: str) -> int | None:
    """The delivery behind an inbox message's tracked link, or None (no link, not ours, forged)."""
    if "/r/" not in (url or "") or not secret:
        return None
    token = url.rsplit("/r/", 1)[1].split("?", 1)[0].split("#", 1)[0]
    return read_token_payload(token, secret)


_LISTEN_LINK = re.compile(r"/p/(\d{1,10})/listen\b")


def audio_of(text: str) -> str:
    """The audio of a push to a listener (语音播报 on: its text names the listening page)."""
    found = _LISTEN_LINK.search(text or "")
    return f"/p/{found.group(1)}/audio.ogg" if found else ""


def message_json(message: push.InboxMessage, secret: str) -> dict[str, Any]:
    """`unsubscribe_action` is the 退订此类 button's action for /chat/api/press (null when the
    message is not a policy push)."""
    delivery_id = delivery_id_of(message.url, secret)
    return {
        "id": message.id, "title": message.title, "text": message.text, "url": message.url,
        "created_at": message.created_at.isoformat(), "read": message.read,
        "can_ack": delivery_id is not None,
        "audio": audio_of(message.text),
        "unsubscribe_action": encode(Kind.UNSUB, delivery_id) if delivery_id is not None else None,
    }


async def acknowledge(turn: Turn, message_id: int, secret: str) -> list[Reply]:
    """确认收到 under inbox message `message_id` of this visitor (`turn.address` is the inbox key)."""
    mine = await push.web_inbox(turn.session, turn.address, limit=INBOX_LIMIT)
    found = next((m for m in mine if m.id == message_id), None)
    if found is None:
        return [Reply(texts.WEB_INBOX_GONE)]
    delivery_id = delivery_id_of(found.url, secret)
    if delivery_id is None:
        return [Reply(texts.WEB_INBOX_NOT_ACKNOWLEDGEABLE)]
    return await pushed.acknowledge(turn, delivery_id)
