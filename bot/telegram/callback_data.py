"""Inline-button payloads (Telegram callback data, at most 64 bytes).

The push messages' buttons (`push/render.py` → the Telegram adapter) use the first five:
`ack:<delivery_id>`, `ask:<policy_id>`, `uns:<delivery_id>`, `fwd:<delivery_id>`,
`int:<policy_id>`. The dialogue's own buttons travel as `d:<kind>:<arg>`; the kinds are `vocabulary.actions`.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from vocabulary.actions import Kind, decode, encode


class AckCb(CallbackData, prefix=Kind.ACK):
    delivery_id: int


class AskCb(CallbackData, prefix=Kind.ASK):
    policy_id: int


class UnsubCb(CallbackData, prefix=Kind.UNSUB):
    delivery_id: int


class ForwardCb(CallbackData, prefix=Kind.FORWARD):
    delivery_id: int


class InterpretCb(CallbackData, prefix=Kind.INTERPRET):
    policy_id: int


class DialogueCb(CallbackData, prefix="d"):
    kind: str
    arg: str = ""


PushCb = AckCb | AskCb | UnsubCb | ForwardCb | InterpretCb
_PUSH_FACTORIES: dict[str, tuple[type[CallbackData], str]] = {
    Kind.ACK: (AckCb, "delivery_id"),
    Kind.ASK: (AskCb, "policy_id"),
    Kind.UNSUB: (UnsubCb, "delivery_id"),
    Kind.FORWARD: (ForwardCb, "delivery_id"),
    Kind.INTERPRET: (InterpretCb, "policy_id"),
}


def to_callback_data(action: str) -> str:
    """The packed callback data of a dialogue action (raises ValueError above 64 bytes)."""
    parsed = decode(action)
    factory = _PUSH_FACTORIES.get(parsed.kind)
    if factory is not None and parsed.number is not None:
        cls, field = factory
        return cls(**{field: parsed.number}).pack()
    return DialogueCb(kind=parsed.kind, arg=parsed.arg).pack()


def to_action(data: CallbackData) -> str:
    """Back from a parsed callback to the dialogue's action string."""
    if isinstance(data, DialogueCb):
        return encode(data.kind, data.arg)
    for kind, (cls, field) in _PUSH_FACTORIES.items():
        if isinstance(data, cls):
            return encode(kind, getattr(data, field))
    raise TypeError(f"not a bot callback: {data!r}")
