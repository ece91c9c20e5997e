"""The calculator's catalogue of live items, rebuilt only when the items or policies changed.

Each answer costs one small aggregate query (the stamp); the catalogue itself is read again
only when the stamp moved, so thousands of calculator uses a day do not reread every item.
Each process face (the web app, the bots) holds its own `CatalogueCache`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from policies.items import service
from policies.items.calculator import Catalogue


class CatalogueCache:
    def __init__(self) -> None:
        self._stamp: tuple[object, ...] | None = None
        self._catalogue = Catalogue(())

    async def current(self, session: AsyncSession) -> Catalogue:
        stamp = await service.catalogue_stamp(session)
        if stamp != self._stamp:
            self._catalogue = Catalogue(await service.live_items(session))
            self._stamp = stamp
        return self._catalogue
