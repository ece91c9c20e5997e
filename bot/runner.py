"""Running one turn for every front end (Telegram, WeChat, web chat), with the one conversation store (bot.store).

One unit of work per turn: the subscriber is loaded (created on first contact), the
dialogue runs, the conversation is saved, and everything commits together. Any unexpected
error rolls the turn back (what was stored before stays) and becomes a polite reply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot import store, texts
from bot.dialogue.context import Turn
from bot.dialogue.replies import Reply
from core.db import Database
from subscriptions import service as subscriptions

log = logging.getLogger(__name__)

TurnFn = Callable[[Turn], Awaitable[list[Reply]]]


def numbered_options(replies: list[Reply]) -> list[str]:
    """The actions of the replies' buttons in the order text channels number them."""
    return [b.action for r in replies for b in r.flat_buttons if b.action]


async def run_turn(
    db: Database, channel: str, address: str, fn: TurnFn, *, has_buttons: bool, phone: str,
    display_name: str = "",
) -> list[Reply]:
    try:
        async with db.session() as session:
            subscriber = await subscriptions.ensure_subscriber_for_address(
                session, channel, address, display_name=display_name)
            conversation = await store.load_conversation(session, channel, address)
            turn = Turn(session, channel, address, subscriber, conversation, has_buttons=has_buttons)
            replies = await fn(turn)
            if not has_buttons:
                turn.conversation.data["options"] = numbered_options(replies)
            await store.save_conversation(session, channel, address, turn.conversation)
            return replies
    except Exception:  # a turn must answer; the unit of work rolled back
        log.exception("%s turn failed for %s", channel, address)
        return [Reply(texts.SOMETHING_WRONG.format(phone=phone))]
