"""Hub invites: `/start hub-<code>` (Telegram deep link), a WeChat QR scene, or the web."""

from __future__ import annotations

from bot import texts
from bot.dialogue import menus
from bot.dialogue.context import Step, Turn
from bot.dialogue.replies import Reply
from core.errors import DomainError
from subscriptions import service as subscriptions


async def follow_invite(turn: Turn, payload: str) -> list[Reply]:
    hub = await subscriptions.find_hub_by_invite(turn.session, payload)
    if hub is None:
        return [Reply(texts.HUB_INVITE_BAD, menus.main_menu(turn.subscriber))]
    if turn.subscriber.enterprise_id is None:
        # Only an enterprise can be a member: register it first, then join (see onboarding).
        turn.conversation.reset()
        turn.conversation.data["invite"] = hub.invite_payload
        turn.conversation.step = Step.ENTERPRISE
        return [Reply(texts.HUB_NEEDS_ENTERPRISE.format(hub=hub.name), menus.enterprise_menu())]
    return await join(turn, hub.invite_payload)


async def join(turn: Turn, payload: str) -> list[Reply]:
    try:
        hub = await subscriptions.join_hub(turn.session, payload, turn.subscriber.id)
    except DomainError as exc:
        return [Reply(exc.message, menus.main_menu(turn.subscriber))]
    return [Reply(texts.HUB_JOINED.format(hub=hub.name), menus.main_menu(turn.subscriber))]
