"""aiogram FSM storage kept in the `bot_conversation` table, so a restart in the middle of the
set-up flow loses nothing.

It is a view of the one conversation store (bot.store) that WeChat and the web chat use: the
FSM state is the conversation's step (bot.telegram.states) and the FSM data its `data`, under
the address `str(chat_id)` of the `telegram` channel. The turn itself loads and saves the
conversation through bot.runner; aiogram reads the state through here for its state filters.
The dispatcher keys FSM state by chat (FSMStrategy.CHAT), as subscriptions are keyed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from bot import store
from bot.telegram import states
from core.db import Database
from subscriptions.views import ChannelName


def address_of(key: StorageKey) -> str:
    """The conversation address of an FSM key: the chat, plus the thread and destiny when a
    strategy or handler asks for a narrower key than the chat."""
    address = str(key.chat_id)
    if key.thread_id is not None:
        address += f":t{key.thread_id}"
    if key.destiny != "default":
        address += f":{key.destiny}"
    return address


class DatabaseStorage(BaseStorage):
    """Each call is its own short unit of work."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        async with self.db.session() as session:
            conversation = await store.load_conversation(session, ChannelName.TELEGRAM, address_of(key))
            conversation.step = states.step_of(name)
            await store.save_conversation(session, ChannelName.TELEGRAM, address_of(key), conversation)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.db.reader() as session:
            conversation = await store.load_conversation(session, ChannelName.TELEGRAM, address_of(key))
        return states.state_of(conversation.step)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self.db.session() as session:
            conversation = await store.load_conversation(session, ChannelName.TELEGRAM, address_of(key))
            conversation.data = dict(data)
            await store.save_conversation(session, ChannelName.TELEGRAM, address_of(key), conversation)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.reader() as session:
            conversation = await store.load_conversation(session, ChannelName.TELEGRAM, address_of(key))
        return dict(conversation.data)

    async def close(self) -> None:
        """The database belongs to the process, not to the dispatcher: nothing to close."""
