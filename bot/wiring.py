"""What every front end shares: the dialogue (with its answerer) and the settings it needs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.dialogue.answers import Answerer, LibraryAnswerer
from bot.dialogue.binding import BindTargets
from bot.dialogue.core import Dialogue
from core.db import Database
from core.settings import Settings


@dataclass
class BotServices:
    db: Database
    settings: Settings
    dialogue: Dialogue

    @property
    def phone(self) -> str:
        return self.settings.consultation_phone


def build_services(db: Database, settings: Settings, *, answerer: Answerer | None = None) -> BotServices:
    """One per process: the Q&A engine inside the answerer is loaded once and shared."""
    dialogue = Dialogue(
        answerer or LibraryAnswerer(settings.consultation_phone, data_dir=settings.data_dir),
        base_url=settings.effective_public_base_url,
        phone=settings.consultation_phone,
        # The Telegram username is filled in by bot.telegram.app when the bot starts (getMe).
        bind_targets=BindTargets(telegram=settings.telegram_enabled, wechat=settings.wechat_enabled),
        link_secret=settings.secret_key,
    )
    return BotServices(db, settings, dialogue)
