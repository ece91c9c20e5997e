"""Button actions as short ASCII strings `kind:arg`, the same on every channel.

They travel as Telegram callback data (64 bytes at most), as the web chat's `action` field
and as the numbered options of WeChat. The push messages' buttons (push/render.py → the
Telegram adapter) and the bot's handlers both read this one grammar:
`ack:<delivery_id>`, `ask:<policy_id>`, `uns:<delivery_id>`, `fwd:<delivery_id>`,
`int:<policy_id>`; the dialogue's own buttons use the other kinds below.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64  # Telegram's limit for callback data, in UTF-8 bytes


class Kind:
    # from push messages
    ACK = "ack"
    ASK = "ask"
    UNSUB = "uns"
    FORWARD = "fwd"
    INTERPRET = "int"
    # from the dialogue's own menus
    PERSON = "who"  # arg: resident | enterprise | hub | skip
    TOWNSHIP = "town"  # arg: township code | county | skip
    TOPIC = "tp"  # arg: topic code; toggles it
    ALL_TOPICS = "tpall"
    TOPICS_DONE = "tpok"
    FREQUENCY = "freq"  # arg: immediate | daily | weekly | skip
    SKIP_ENTERPRISE = "noent"
    OPEN = "p"  # arg: policy id
    FEEDBACK = "fb"  # arg: "<answer_id>.<1|0>"
    POSTER_SUBSCRIBE = "pst"  # arg: poster id; 订阅此类 in a chat opened from a poster
    POSTER_ASK = "psq"  # arg: poster id; 我要咨询 in a chat opened from a poster
    MENU = "m"  # arg: my | latest | sub | help | setup | pause | resume | unsuball | freq | bind
    CALCULATOR = "calc"  # arg: see bot.dialogue.calculator


# A push message's button action (push.channels.base.Button.action) → the kind its callback
# data carries; "url" buttons are links and have no kind.
PUSH_BUTTON_KINDS: dict[str, str] = {
    "interpret": Kind.INTERPRET,
    "ask": Kind.ASK,
    "ack": Kind.ACK,
    "forward": Kind.FORWARD,
    "unsub": Kind.UNSUB,
}


@dataclass(frozen=True)
class Action:
    kind: str
    arg: str = ""

    def encode(self) -> str:
        text = f"{self.kind}:{self.arg}" if self.arg else self.kind
        if len(text.encode()) > MAX_BYTES:
            raise ValueError(f"action longer than {MAX_BYTES} bytes: {text!r}")
        return text

    @property
    def number(self) -> int | None:
        """The arg as a positive integer id, or None when it is not one."""
        return int(self.arg) if self.arg.isascii() and self.arg.isdigit() and len(self.arg) < 12 else None


def encode(kind: str, arg: object = "") -> str:
    return Action(kind, str(arg)).encode()


def decode(text: str) -> Action:
    kind, _, arg = (text or "").partition(":")
    return Action(kind.strip(), arg.strip())
