"""Buttons under pushed policies (确认收到, 我要咨询, 退订此类, 转发给会员, 查看解读), answer
feedback (有用/没用), and any other callback: a stale or foreign button."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery

from bot.dialogue import Dialogue, Reply, Turn
from bot.telegram.callback_data import AckCb, AskCb, DialogueCb, ForwardCb, InterpretCb, PushCb, UnsubCb, to_action
from vocabulary.actions import Kind


async def on_push_button(query: CallbackQuery, callback_data: PushCb, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.press(turn, to_action(callback_data))


async def on_feedback(query: CallbackQuery, callback_data: DialogueCb, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.press(turn, to_action(callback_data))


async def on_unknown_button(query: CallbackQuery, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    # Malformed or unknown data (an old keyboard, a foreign client): the dialogue says so.
    return await dialogue.press(turn, query.data or "")


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="callbacks")
    router.callback_query.register(on_push_button, AckCb.filter())
    router.callback_query.register(on_push_button, AskCb.filter())
    router.callback_query.register(on_push_button, UnsubCb.filter())
    router.callback_query.register(on_push_button, ForwardCb.filter())
    router.callback_query.register(on_push_button, InterpretCb.filter())
    router.callback_query.register(on_feedback, DialogueCb.filter(F.kind == Kind.FEEDBACK))
    router.callback_query.register(on_unknown_button)
    return router
