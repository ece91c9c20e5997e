"""The set-up flow as aiogram FSM states (for state filters such as `Onboarding.enterprise`).

The dialogue's `Conversation` is what is stored (bot.store); an FSM state is only another
name for its step, translated here both ways."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup

from bot.dialogue.context import Step


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


def state_of(step: str) -> str | None:
    """The FSM state name of a conversation step (None outside the flow)."""
    found = _BY_STEP.get(step)
    return found.state if found is not None else None


def step_of(state: str | None) -> str:
    """The conversation step of an FSM state name; a state outside the flow is no step."""
    return _BY_STATE.get(state or "", Step.IDLE)
