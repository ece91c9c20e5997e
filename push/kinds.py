"""The delivery kinds: which carry the policy itself, which are deadline reminders, and the
template (MessageKind) each is rendered with."""

from __future__ import annotations

CONTENT_KINDS = ("published", "amended", "relay")
"""Kinds that carry the policy itself (as opposed to notices that it no longer applies); a
member reached through a hub's relay holds the policy like any other recipient."""

DEADLINE_KINDS = {7: "deadline_7d", 1: "deadline_1d"}
"""Application-deadline (申报截止) reminders, by days before the deadline. Each stage is its own
delivery kind, so that both stages fit the unique key (policy, revision, kind, subscriber,
address) next to the relay reminder (kind "reminder", to hubs); all render as
MessageKind.REMINDER (see `message_kind`)."""


def message_kind(delivery_kind: str) -> str:
    """The MessageKind (template) a delivery of this kind is rendered with."""
    return "reminder" if delivery_kind in DEADLINE_KINDS.values() else delivery_kind
