"""The set-up flow as aiogram FSM states; the dialogue's `Conversation` lives in FSM storage."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup

from bot.dialogue.context import Conversation, Step


class Onboarding(StatesGroup):
    person = State()
    township = State()
    topics = State()
    frequency = State()
    enterprise = State()


_BY_STEP: dict[str, State] = {
    Step.PERSON: Onboarding.person,
    Step.TOWNSHIP: Onboarding.township,
    Step.TOPICS: Onboarding.topics,
    Step.FREQUENCY: Onboarding.frequency,
    Step.ENTERPRISE: Onboarding.enterprise,
}
_BY_STATE = {state.state: step for step, state in _BY_STEP.items()}


async def load(state: FSMContext) -> Conversation:
    current = await state.get_state()
    data: dict[str, Any] = await state.get_data()
    return Conversation(_BY_STATE.get(current or "", Step.IDLE), dict(data))


async def save(state: FSMContext, conversation: Conversation) -> None:
    step_state = _BY_STEP.get(conversation.step)
    await state.set_state(step_state)
    await state.set_data(dict(conversation.data))
