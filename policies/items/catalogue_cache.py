"""The calculator's catalogue of live items, rebuilt only when the items or policies changed.

Each answer costs one small aggregate query (the stamp); the catalogue itself is read again
only when the stamp moved, so thousands of calculator uses a day do not reread every item."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from policies.items import service
from policies.items.calculator import Catalogue

_cached: dict[str, tuple[tuple[object, ...], Catalogue]] = {}


async def current_catalogue(session: AsyncSession) -> Catalogue:
    key = str(session.bind.url) if session.bind is not None else ""
    stamp = await service.catalogue_stamp(session)
    found = _cached.get(key)
    if found is not None and found[0] == stamp:
        return found[1]
    catalogue = Catalogue(await service.live_items(session))
    _cached[key] = (stamp, catalogue)
    return catalogue
