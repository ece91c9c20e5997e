"""Telegram's FSM state lives in the database (bot.telegram.storage): a bot restarted in the
middle of the set-up flow continues it, and the FSM state is the shared conversation store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey

from bot import store
from bot.dialogue.context import Step
from bot.telegram.app import build_telegram, run_polling
from bot.telegram.states import Onboarding
from bot.telegram.storage import DatabaseStorage
from core.db import Database
from tests.bot.helpers import services
from tests.bot.test_telegram import CHAT, TOKEN, Chat, subscriber_of
from tests.fakes.telegram_api import FakeTelegram


@asynccontextmanager
async def running_bot(db: Database, tg: FakeTelegram) -> AsyncIterator[Chat]:
    """A fresh process's bot: new services, Bot and Dispatcher on the same database."""
    s = services(db, telegram_bot_token=TOKEN, telegram_api_base=tg.base_url)
    runtime = build_telegram(s)
    assert runtime is not None
    polls_before = len(tg.calls_to("getUpdates"))
    polling = asyncio.create_task(run_polling(runtime, polling_timeout=1))
    await tg.wait_for(lambda: len(tg.calls_to("getUpdates")) > polls_before)
    try:
        yield Chat(tg, runtime, s)
    finally:
        await runtime.dispatcher.stop_polling()
        await asyncio.wait_for(polling, timeout=10)


async def button(chat: Chat, label: str) -> tuple[str, int]:
    """The newest button with `label`, once the message carrying it has arrived."""

    def found() -> tuple[str, int] | None:
        try:
            return chat.button(label)
        except AssertionError:
            return None

    return await chat.tg.wait_for(found, timeout=30)


async def test_onboarding_survives_a_restart(db: Database, fake_telegram: FakeTelegram) -> None:
    async with running_bot(db, fake_telegram) as chat:
        await chat.say("/start")
        data, message_id = await button(chat, "居民")
        await chat.press(data, message_id)
        # The callback is answered before the next question is sent: wait for the question.
        await fake_telegram.wait_for(lambda: chat.texts()[-1].startswith("第2步"), timeout=30)

    async with running_bot(db, fake_telegram) as chat:
        data, message_id = await button(chat, "泾河源镇")
        await chat.press(data, message_id)
        data, topics_message = await button(chat, "就业创业")
        await chat.press(data, topics_message)
        data, _ = await button(chat, "完成")
        await chat.press(data, topics_message)
        data, message_id = await button(chat, "每周汇总")
        await chat.press(data, message_id)
        await fake_telegram.wait_for(lambda: "设置完成" in chat.texts()[-1], timeout=30)

    sub = await subscriber_of(db)
    assert set(sub.topics) == {"employment"} and sub.townships == ("jingheyuan",)
    assert sub.preference.frequency == "weekly" and sub.audience == "resident"


async def test_the_enterprise_step_filter_reads_the_stored_state_after_a_restart(
    db: Database, fake_telegram: FakeTelegram
) -> None:
    async with db.session() as session:
        conversation = await store.load_conversation(session, "telegram", str(CHAT))
        conversation.step = Step.ENTERPRISE
        await store.save_conversation(session, "telegram", str(CHAT), conversation)
    storage = DatabaseStorage(db)
    key = StorageKey(bot_id=42, chat_id=CHAT, user_id=CHAT)
    assert await storage.get_state(key) == Onboarding.enterprise.state


async def test_fsm_context_reads_and_writes_the_conversation_store(db: Database) -> None:
    state = FSMContext(DatabaseStorage(db), StorageKey(bot_id=42, chat_id=CHAT, user_id=CHAT))
    assert await state.get_state() is None and await state.get_data() == {}
    await state.set_state(Onboarding.topics)
    await state.update_data(onboarding=True)
    async with db.reader() as session:
        conversation = await store.load_conversation(session, "telegram", str(CHAT))
    assert conversation.step == Step.TOPICS and conversation.data == {"onboarding": True}
    other = FSMContext(DatabaseStorage(db), StorageKey(bot_id=42, chat_id=CHAT, user_id=CHAT))
    assert await other.get_state() == Onboarding.topics.state
    await other.set_state(None)
    assert await state.get_state() is None and await state.get_data() == {"onboarding": True}
