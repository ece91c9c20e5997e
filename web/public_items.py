"""The items (事项清单) shown on a public policy page, as they stood at the revision shown."""

from __future__ import annotations

from fastapi import Request

from policies.service import items
from policies.views import ItemView


async def items_of_revision(request: Request, policy_id: int, revision: int) -> list[ItemView]:
    async with request.app.state.db.reader() as session:
        return await items.items_at(session, policy_id, revision)
