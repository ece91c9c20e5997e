"""The types other packages see of push: read models, enums, exceptions and handle types.
Functions are in `push.service`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from push.dao.rows import DeliveryView
from push.jobs.service import NoticeView
from push.posters.models import PlaceKind
from push.posters.service import PlaceInput, PosterRow, PosterView
from push.relay.views import MemberCounts, RelayOutcome, RelayTaskView
from push.reports import DeadLetter
from push.voice.engine import EngineUnavailable
from push.voice.library import MP3, OGG, VoiceClip
from push.voice.service import VoiceService

__all__ = [
    "MP3",
    "OGG",
    "DeadLetter",
    "DeliveryView",
    "EngineUnavailable",
    "InboxMessage",
    "MemberCounts",
    "NoticeView",
    "PlaceInput",
    "PlaceKind",
    "PosterRow",
    "PosterView",
    "RelayOutcome",
    "RelayTaskView",
    "VoiceClip",
    "VoiceService",
]


@dataclass(frozen=True)
class InboxMessage:
    id: int
    title: str
    text: str
    url: str
    created_at: datetime
    read: bool
