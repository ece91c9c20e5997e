"""The subscriptions doors: what other packages may import is all there, under its door."""

from __future__ import annotations

from subscriptions import service, views


def test_every_name_the_doors_list_is_importable_from_them() -> None:
    assert [n for n in service.__all__ if not hasattr(service, n)] == []
    assert [n for n in views.__all__ if not hasattr(views, n)] == []


def test_what_push_bot_and_web_used_from_internals_is_at_a_door() -> None:
    assert {"INVITE_DEFAULT_DAYS", "INVITE_MAX_DAYS", "registered_profile", "item_roster", "item_roster_csv",
            "record_item_status", "import_subscribers"} <= set(service.__all__)  # fmt: skip
    assert {"SubscriberKind", "InactiveReason", "RosterEntry", "ChannelName"} <= set(views.__all__)
