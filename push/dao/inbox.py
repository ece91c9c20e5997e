"""The web channel's inbox (`web_inbox_message`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from push.models import WebInboxMessage


async def add_inbox_message(
    session: AsyncSession, *, inbox_key: str, title: str, text: str, url: str, at: datetime
) -> int:
    result = await session.execute(
        insert(WebInboxMessage)
        .values(inbox_key=inbox_key, title=title, text=text, url=url, created_at=at, read=False)
        .returning(WebInboxMessage.id)
    )
    return int(result.scalar_one())


async def inbox_messages(session: AsyncSession, inbox_key: str, limit: int = 50) -> list[WebInboxMessage]:
    rows = await session.execute(
        select(WebInboxMessage)
        .where(WebInboxMessage.inbox_key == inbox_key)
        .order_by(WebInboxMessage.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


async def mark_inbox_read(session: AsyncSession, inbox_key: str, message_ids: Sequence[int]) -> int:
    result = await session.execute(
        update(WebInboxMessage)
        .where(WebInboxMessage.inbox_key == inbox_key, WebInboxMessage.id.in_(list(message_ids)))
        .values(read=True),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
