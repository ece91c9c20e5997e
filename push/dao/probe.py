"""The write probe behind /healthz."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from push.models import WriteProbe


async def probe_write(session: AsyncSession, now: datetime) -> None:
    """Rewrite the one probe row (created on first use): fails where an outcome could not be
    recorded either (read-only database, a standby, no space for the journal)."""
    dialect = (await session.connection()).dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(WriteProbe).values(id=1, checked_at=now)
    await session.execute(statement.on_conflict_do_update(index_elements=["id"], set_={"checked_at": now}))
