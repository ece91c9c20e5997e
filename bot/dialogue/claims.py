"""Enterprise claims in the chat: redeem an invite code (认领 QY…), and, for a verified
contact, list and decide the pending claims on its enterprise (认领申请, 同意认领 N, 拒绝认领 N).
The rules live in `subscriptions.claims`; this module only talks."""

from __future__ import annotations

from bot import texts
from bot.dialogue import menus
from bot.dialogue.context import Turn
from bot.dialogue.intents import Intent
from bot.dialogue.replies import Reply
from subscriptions import service as subscriptions

INTENTS = (Intent.CLAIM, Intent.CLAIMS, Intent.APPROVE_CLAIM, Intent.REFUSE_CLAIM)


async def handle(turn: Turn, intent: str, rest: str) -> list[Reply]:
    if intent == Intent.CLAIM:
        return await redeem(turn, rest)
    if intent == Intent.CLAIMS:
        return await pending(turn)
    return await decide(turn, int(rest), approve=intent == Intent.APPROVE_CLAIM)


async def redeem(turn: Turn, code: str) -> list[Reply]:
    enterprise = await subscriptions.redeem_enterprise_invite(turn.session, turn.subscriber.id, code.strip())
    turn.subscriber = await subscriptions.set_recommend_by_profile(turn.session, turn.subscriber.id, True)
    turn.conversation.reset()
    return [Reply(texts.CLAIM_INVITE_REDEEMED.format(name=enterprise.name), menus.main_menu(turn.subscriber))]


async def pending(turn: Turn) -> list[Reply]:
    found = await subscriptions.claims_for(turn.session, subscriptions.Approver.contact(turn.subscriber.id), limit=20)
    if not found:
        return [Reply(texts.CLAIMS_NONE, menus.main_menu(turn.subscriber))]
    lines = [texts.CLAIMS_HEAD] + [
        texts.CLAIMS_ITEM.format(id=c.id, who=_masked(c.claimant_name), enterprise=c.enterprise_name,
                                 claimed=c.claimed_name)
        for c in found
    ]
    return [Reply("\n".join(lines), menus.main_menu(turn.subscriber))]


async def decide(turn: Turn, claim_id: int, *, approve: bool) -> list[Reply]:
    approver = subscriptions.Approver.contact(turn.subscriber.id)
    await subscriptions.decide_claim(turn.session, claim_id, approver, approve=approve)
    said = (texts.CLAIM_APPROVED if approve else texts.CLAIM_REFUSED).format(id=claim_id)
    return [Reply(said, menus.main_menu(turn.subscriber))]


def _masked(name: str) -> str:
    """A claimant's chat name, enough to recognise a colleague, not to identify a stranger."""
    name = (name or "").strip()
    if not name:
        return texts.CLAIMANT_UNNAMED
    return name[0] + "*" * min(len(name) - 1, 2) if len(name) > 1 else name + "*"
