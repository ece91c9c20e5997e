"""The fake Telegram server's message methods (getMe, sendMessage, sendVoice, edits), bot
commands and webhook settings."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from tests.fakes.telegram_wire import (
    _INT_RE,
    MAX_TEXT_LENGTH,
    ChatType,
    TelegramError,
    chat_type_for,
    is_ogg_opus,
    strip_html,
    utf16_len,
)

log = logging.getLogger("tests.fakes.telegram")


class MessagesMixin:
    """Part of FakeTelegram (tests.fakes.telegram_api); works on the state its __init__ sets."""

    def bot_user(self, token: str | None = None) -> dict[str, Any]:
        bot_id = int(token.split(":", 1)[0]) if token else self._bot_id
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": "政策直达 (fake)",
            "username": f"fake_{bot_id}_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_me(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return self.bot_user(token)

    def chat(
        self, chat_id: int, chat_type: ChatType | None = None, first_name: str = "张三"
    ) -> dict[str, Any]:
        kind = chat_type or chat_type_for(chat_id)
        if kind == "private":
            return {"id": chat_id, "type": "private", "first_name": first_name}
        return {"id": chat_id, "type": kind, "title": f"测试群 {chat_id}"}

    def _visible_text(self, params: dict[str, Any]) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if str(params.get("parse_mode", "")).upper() == "HTML":
            text = strip_html(text)
            if not text.strip():
                raise TelegramError(400, "Bad Request: message text is empty")
        if utf16_len(text) > MAX_TEXT_LENGTH:
            raise TelegramError(400, "Bad Request: message is too long")
        return text

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            return chat_id
        if isinstance(chat_id, str) and _INT_RE.match(chat_id):  # JSON clients may send "123"
            return int(chat_id)
        # "@channelusername" and garbage: this fake knows no public usernames.
        raise TelegramError(400, "Bad Request: chat not found")

    async def _send_message(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        text = self._visible_text(params)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self.bot_user(token),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _send_voice(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        """sendVoice: an uploaded OGG/Opus (or MP3) file, or the file_id of an earlier upload."""
        chat_id = self._chat_id(params)
        voice = params.get("voice")
        if isinstance(voice, str) and voice.startswith("attach://"):  # aiogram names the file part
            voice = params.get(voice[len("attach://"):])
        if isinstance(voice, dict):  # an upload
            data = voice.get("data", b"")
            if not (is_ogg_opus(data) or data[:3] == b"ID3" or data[:2] in (b"\xff\xf3", b"\xff\xfb")):
                raise TelegramError(400, "Bad Request: wrong type of the web page content")
            if len(data) > 50 * 1024 * 1024:
                raise TelegramError(413, "Request Entity Too Large")
            file_id = f"AwACAgIAAxkBAAI{next(self._file_ids)}_voice"
            self.voice_files[file_id] = data
            self.voice_uploads.append(file_id)
        elif isinstance(voice, str) and voice in self.voice_files:
            file_id, data = voice, self.voice_files[voice]
        else:
            raise TelegramError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self.bot_user(token),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "voice": {"file_id": file_id, "file_unique_id": file_id[-16:], "duration": int(params.get("duration") or 0),
                      "mime_type": "audio/ogg", "file_size": len(data)},
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _stored_message(self, params: dict[str, Any], token: str) -> dict[str, Any] | None:
        if "inline_message_id" in params:
            return None
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise TelegramError(400, "Bad Request: message identifier is not specified")
        # Unknown ids are synthesised (tests often edit messages they never sent through the fake).
        return self.messages.setdefault(
            (chat_id, message_id),
            {
                "message_id": message_id,
                "from": self.bot_user(token),
                "chat": self.chat(chat_id),
                "date": int(time.time()),
                "text": "…",
            },
        )

    def _apply_edit(self, message: dict[str, Any], text: str, markup: Any) -> dict[str, Any]:
        new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        if message.get("text") == text and message.get("reply_markup") == new_markup:
            raise TelegramError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        message["text"] = text
        message["edit_date"] = int(time.time())
        if new_markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new_markup
        return message

    async def _edit_message_text(self, params: dict[str, Any], token: str) -> dict[str, Any] | bool:
        text = self._visible_text(params)
        message = self._stored_message(params, token)
        if message is None:
            return True  # inline messages: the Bot API answers plain true
        return self._apply_edit(message, text, params.get("reply_markup"))

    async def _edit_reply_markup(self, params: dict[str, Any], token: str) -> dict[str, Any] | bool:
        message = self._stored_message(params, token)
        if message is None:
            return True
        return self._apply_edit(message, message.get("text", ""), params.get("reply_markup"))

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code", ""))

    async def _set_my_commands(self, params: dict[str, Any], token: str) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise TelegramError(400, 'Bad Request: parameter "commands" is required')
        self.commands[self._commands_key(params)] = commands
        return True

    async def _delete_my_commands(self, params: dict[str, Any], token: str) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_my_commands(self, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    async def _set_webhook(self, params: dict[str, Any], token: str) -> bool:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://"):
            raise TelegramError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {k: v for k, v in params.items() if k != "certificate"} if url else {}
        if url:
            self._wake_poller("conflict")
        return True

    async def _delete_webhook(self, params: dict[str, Any], token: str) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info
