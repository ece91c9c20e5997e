"""The 🔊 朗读 button in Telegram sends the policy's reading as a voice message into the chat
(OGG/Opus upload the first time, Telegram's file id afterwards), through the real aiogram bot
against the fake Bot API."""

from __future__ import annotations

from core.db import Database
from tests.bot.test_telegram import CHAT, Chat, chat  # noqa: F401 - `chat` is the fixture
from tests.factories import make_published_policy
from tests.fakes.telegram_api import is_ogg_opus


async def test_read_aloud_button_sends_the_voice_into_the_chat(chat: Chat, db: Database) -> None:  # noqa: F811
    policy = await make_published_policy(db)
    await chat.say(f"/start p{policy.id}")
    data, message_id = chat.button("朗读")
    assert data == f"say:{policy.id}"
    await chat.press(data, message_id)
    await chat.tg.wait_for(lambda: chat.tg.calls_to("sendVoice"), timeout=20)
    (first,) = chat.tg.calls_to("sendVoice")
    upload = first.params[str(first.params["voice"]).removeprefix("attach://")]
    assert first.params["chat_id"] == CHAT and is_ogg_opus(upload["data"])
    await chat.press(data, message_id)
    await chat.tg.wait_for(lambda: len(chat.tg.calls_to("sendVoice")) == 2, timeout=20)
    assert chat.tg.calls_to("sendVoice")[1].params["voice"] == chat.tg.voice_uploads[0]


async def test_read_aloud_of_a_knowledge_base_answer(chat: Chat, db: Database) -> None:  # noqa: F811
    from policies.qa import faq

    async with db.session() as session:
        entry = await faq.create_faq(session, faq.FaqInput(question="创业补贴多久能到账？",
                                                            answer="审核通过后15个工作日内拨付。"))
    await chat.say("/help")
    await chat.press(f"sayf:{entry.id}", chat.last_message_id())
    await chat.tg.wait_for(lambda: chat.tg.calls_to("sendVoice"), timeout=20)
    (call,) = chat.tg.calls_to("sendVoice")
    assert is_ogg_opus(call.params[str(call.params["voice"]).removeprefix("attach://")]["data"])
