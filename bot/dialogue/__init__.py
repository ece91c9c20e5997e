"""The channel-agnostic dialogue core shared by Telegram, WeChat and the web chat."""

from bot.dialogue.context import Conversation, Step, Turn
from bot.dialogue.core import Dialogue
from bot.dialogue.replies import Button, Reply

__all__ = ["Button", "Conversation", "Dialogue", "Reply", "Step", "Turn"]
