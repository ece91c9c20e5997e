"""Updates on the fake Telegram server: long polling (getUpdates), and builders of the updates
a user would cause (messages, button presses, non-text messages, chat member changes)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Literal

from tests.fakes.telegram_wire import (
    _DEFAULT_EXCLUDED_UPDATES,
    ChatType,
    TelegramError,
    utf16_len,
)

log = logging.getLogger("tests.fakes.telegram")


class UpdatesMixin:
    """Part of FakeTelegram (tests.fakes.telegram_api); works on the state its __init__ sets."""

    # ------------------------------------------------------------------------------------------------
    # updates and long polling
    # ------------------------------------------------------------------------------------------------
    def _wake_poller(self, reason: str) -> None:
        waiter, self._poll_waiter = self._poll_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(reason)

    def _deliverable(self, update: dict[str, Any]) -> bool:
        kinds = set(update) - {"update_id"}
        if self._allowed_updates:
            return bool(kinds & set(self._allowed_updates))
        return not kinds <= _DEFAULT_EXCLUDED_UPDATES

    async def _get_updates(self, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
        if self.webhook:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params and isinstance(params["allowed_updates"], list):
            self._allowed_updates = params["allowed_updates"]  # Telegram remembers the last list
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            # Everything below offset is confirmed and never delivered again.
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._pending = self._pending[offset:]
        self._pending = [u for u in self._pending if self._deliverable(u)]
        limit = params.get("limit", 100)
        limit = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        timeout = params.get("timeout", 0)
        timeout = timeout if isinstance(timeout, int) else 0

        # A second poller terminates the first one, exactly like Telegram's 409.
        self._wake_poller("conflict")
        if not self._pending and timeout > 0 and not self._closing.is_set():
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._poll_waiter = waiter
            try:
                reason = await asyncio.wait_for(asyncio.shield(waiter), timeout=timeout)
            except TimeoutError:
                reason = "timeout"
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if reason == "conflict":
                raise TelegramError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            self._pending = [u for u in self._pending if self._deliverable(u)]
        return list(self._pending[:limit])

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (assigns ``update_id`` if missing) and return it."""
        if "update_id" not in update:
            update = {"update_id": self._new_update_id(), **update}
        else:
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._pending.append(update)
        self._wake_poller("update")
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._pending)

    def _new_update_id(self) -> int:
        self._next_update_id += 1
        return self._next_update_id - 1

    def _user(self, user_id: int, first_name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}

    def _user_message(
        self, chat_id: int, user_id: int | None, first_name: str, chat_type: ChatType | None
    ) -> dict[str, Any]:
        if user_id is None:
            user_id = chat_id if chat_id > 0 else 10_001
        return {
            "message_id": next(self._message_ids),
            "from": self._user(user_id, first_name),
            "chat": self.chat(chat_id, chat_type, first_name),
            "date": int(time.time()),
        }

    def message_update(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        first_name: str = "张三",
        chat_type: ChatType | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A text message from a user.  ``/commands`` get a ``bot_command`` entity automatically
        (aiogram's Command filter does not need it, but real clients send it).  ``chat_type``
        defaults to what the id implies (positive = private)."""
        message = self._user_message(chat_id, user_id, first_name, chat_type)
        message["text"] = text
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        if entities:
            message["entities"] = entities
        return {"update_id": self._new_update_id(), "message": message}

    def callback_update(
        self, chat_id: int, data: str, message_id: int, user_id: int | None = None, first_name: str = "张三"
    ) -> dict[str, Any]:
        """The user pressed an inline button with ``callback_data=data`` under bot message ``message_id``."""
        if user_id is None:
            user_id = chat_id if chat_id > 0 else 10_001
        message = self.messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "from": self.bot_user(),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": "…",
        }
        return {
            "update_id": self._new_update_id(),
            "callback_query": {
                "id": str(4_000_000_000 + next(self._callback_ids)),
                "from": self._user(user_id, first_name),
                "message": message,
                "chat_instance": str(abs(chat_id) * 7 + 1),
                "data": data,
            },
        }

    def user_update_non_text(
        self, chat_id: int, kind: Literal["sticker", "voice", "photo"] = "sticker", user_id: int | None = None
    ) -> dict[str, Any]:
        """A non-text message (sticker / voice / photo) shaped like the real Bot API JSON."""
        message = self._user_message(chat_id, user_id, "张三", None)
        uid = f"AgAD{message['message_id']:06d}"
        if kind == "sticker":
            message["sticker"] = {
                "file_id": f"CAACAgIAAxk{uid}",
                "file_unique_id": uid,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            }
        elif kind == "voice":
            message["voice"] = {
                "file_id": f"AwACAgUAAxk{uid}",
                "file_unique_id": uid,
                "duration": 3,
                "mime_type": "audio/ogg",
                "file_size": 12_345,
            }
        elif kind == "photo":
            message["photo"] = [
                {
                    "file_id": f"AgACAgUAAxk{uid}{w}",
                    "file_unique_id": f"{uid}{w}",
                    "width": w,
                    "height": w * 3 // 4,
                    "file_size": w * 40,
                }
                for w in (90, 320, 800)
            ]
        else:
            raise ValueError(f"unsupported kind {kind!r}")
        return {"update_id": self._new_update_id(), "message": message}

    def chat_member_update(
        self, chat_id: int, new_status: str = "kicked", old_status: str = "member", user_id: int | None = None
    ) -> dict[str, Any]:
        """``my_chat_member``: what Telegram sends when a user blocks (``kicked``) or restarts the bot."""
        if user_id is None:
            user_id = chat_id if chat_id > 0 else 10_001
        bot = self.bot_user()
        new_member: dict[str, Any] = {"status": new_status, "user": bot}
        if new_status == "kicked":
            new_member["until_date"] = 0
        return {
            "update_id": self._new_update_id(),
            "my_chat_member": {
                "chat": self.chat(chat_id),
                "from": self._user(user_id, "张三"),
                "date": int(time.time()),
                "old_chat_member": {"status": old_status, "user": bot},
                "new_chat_member": new_member,
            },
        }
