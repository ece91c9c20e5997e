"""Queries of the bot's own tables."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.dialogue.context import Conversation, Step
from bot.models import BotConversation, BotInboundMessage
from core.clock import now
from core.db import Database

# A set-up flow left alone this long is over: the next message is read as a fresh one.
CONVERSATION_IDLE_AFTER = timedelta(hours=1)
# WeChat retries within about 15 seconds; a day of keys is plenty and keeps the table small.
INBOUND_KEPT_FOR = timedelta(days=1)


async def load_conversation(session: object, channel: str, address: str) -> Conversation:
    row = await session.get(BotConversation, (channel, address))  # type: ignore[attr-defined]
    if row is None:
        return Conversation()
    conversation = Conversation(row.step if row.step in Step.ALL else Step.IDLE, dict(row.data or {}))
    if now() - row.updated_at > CONVERSATION_IDLE_AFTER:
        conversation.reset()
    return conversation


async def save_conversation(session: object, channel: str, address: str, conversation: Conversation) -> None:
    row = await session.get(BotConversation, (channel, address))  # type: ignore[attr-defined]
    if row is None:
        row = BotConversation(channel=channel, address=address)
        session.add(row)  # type: ignore[attr-defined]
    row.step = conversation.step
    row.data = dict(conversation.data)
    row.updated_at = now()


async def take_inbound(db: Database, channel: str, dedupe_key: str) -> bool:
    """Record a platform message in its own committed unit of work; False when it was
    already taken (a retry), so a concurrent retry can never process it twice."""
    at = now()
    try:
        async with db.session() as session:
            session.add(BotInboundMessage(channel=channel, dedupe_key=dedupe_key[:200], received_at=at))
            await session.flush()
    except IntegrityError:
        return False
    async with db.session() as session:
        await session.execute(delete(BotInboundMessage).where(BotInboundMessage.received_at < at - INBOUND_KEPT_FOR))
    return True
