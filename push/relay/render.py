"""Put the hub's name into relayed messages (由XX园区/协会转达).

The delivery worker builds a `MessageContext` without `relayed_by`; this renderer wraps the
normal one and, for kind "relay", fills it in from the hubs credited with the delivery. The
pipeline takes it as `renderer=` (see `push.service.Pipeline(**worker_options)`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from core.db import Database
from push.channels.base import MessageContext, MessageKind, RenderedMessage
from push.relay import store
from push.render import render

NAME_CACHE_SIZE = 4096

BaseRenderer = Callable[[str, MessageContext, str], RenderedMessage]


def _default_base() -> BaseRenderer:
    return render


class RelayAwareRenderer:
    """An async renderer: `await RelayAwareRenderer(db)(channel, context, address)`."""

    def __init__(self, db: Database, base: BaseRenderer | None = None) -> None:
        self.db = db
        self.base = base or _default_base()
        self._names: OrderedDict[int, str] = OrderedDict()

    async def relayed_by(self, delivery_id: int) -> str:
        name = self._names.get(delivery_id)
        if name is None:
            async with self.db.reader() as session:
                names = (await store.hub_names_for_deliveries(session, [delivery_id])).get(delivery_id, [])
            name = "、".join(names)
            if name:  # an unknown id stays uncached: its forward may not be committed yet
                self._names[delivery_id] = name
                while len(self._names) > NAME_CACHE_SIZE:
                    self._names.popitem(last=False)
        return name

    async def __call__(self, channel: str, context: MessageContext, address: str) -> RenderedMessage:
        if context.kind == MessageKind.RELAY and not context.relayed_by and context.delivery_id:
            context = replace(context, relayed_by=await self.relayed_by(context.delivery_id))
        return self.base(channel, context, address)
