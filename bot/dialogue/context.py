"""The state one turn of a conversation works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subscriptions.views import SubscriberView


class Step:
    """Where a conversation is in onboarding; "" when it is not in a flow."""

    IDLE = ""
    PERSON = "person"
    TOWNSHIP = "township"
    TOPICS = "topics"
    FREQUENCY = "frequency"
    ENTERPRISE = "enterprise"  # waiting for "credit code + name" as text
    ALL = (PERSON, TOWNSHIP, TOPICS, FREQUENCY, ENTERPRISE)


@dataclass
class Conversation:
    """Kept between turns by the front end (aiogram FSM storage, or the `bot_conversation` table).

    `data` holds small JSON-able values: `onboarding` (bool: the full set-up flow is running),
    `invite` (a hub invite waiting for the enterprise to register), `options` (the actions of
    the last numbered list, for channels without buttons)."""

    step: str = Step.IDLE
    data: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        self.step = Step.IDLE
        for key in ("onboarding", "invite"):
            self.data.pop(key, None)


@dataclass
class Turn:
    """One incoming event: who sent it, where, and the unit of work it runs in."""

    session: AsyncSession
    channel: str
    address: str
    subscriber: SubscriberView
    conversation: Conversation
    has_buttons: bool = True  # False for WeChat: buttons become numbered options
