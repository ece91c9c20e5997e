"""The button-action grammar is defined once (vocabulary.actions) for push and bot."""

from __future__ import annotations

import pytest

from bot.telegram.callback_data import to_action, to_callback_data
from push.channels.telegram import CALLBACK_PREFIXES
from vocabulary.actions import MAX_BYTES, PUSH_BUTTON_KINDS, Kind, decode, encode


def test_push_buttons_use_the_shared_kinds() -> None:
    assert CALLBACK_PREFIXES is PUSH_BUTTON_KINDS
    assert set(PUSH_BUTTON_KINDS.values()) == {Kind.ACK, Kind.ASK, Kind.UNSUB, Kind.FORWARD, Kind.INTERPRET}


def test_actions_round_trip_and_stay_short() -> None:
    assert decode(encode(Kind.UNSUB, 42)).number == 42
    assert decode(encode(Kind.MENU, "my")).arg == "my"
    with pytest.raises(ValueError):
        encode(Kind.OPEN, "9" * MAX_BYTES)


def test_push_callback_data_parses_back_to_the_same_action() -> None:
    from aiogram.filters.callback_data import CallbackData

    from bot.telegram.callback_data import AckCb, DialogueCb

    packed = to_callback_data(encode(Kind.ACK, 7))
    assert packed == "ack:7"
    assert to_action(AckCb.unpack(packed)) == "ack:7"
    assert isinstance(DialogueCb.unpack(to_callback_data("m:my")), CallbackData)
