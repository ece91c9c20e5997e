"""绑定: a web-chat visitor binds its web subscription to a Telegram chat or a WeChat openid.

1. In the web chat, 绑定 (the intent or the header button) issues a one-time code and says
   how to use it: a Telegram deep link `https://t.me/<bot>?start=bind-<code>` (or the text
   `/start bind-<code>` when the bot's username is unknown), or `绑定 <code>` in WeChat.
2. In Telegram or WeChat the code merges the web contact into the chat's contact (see
   `bot.dialogue.merging`), so pushes reach both the chat and the web inbox.

A wrong, expired or reused code changes nothing and says which it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import bindcodes, texts
from bot.dialogue import menus, merging
from bot.dialogue.context import Turn
from bot.dialogue.replies import Button, Reply
from core.clock import CHINA_TZ
from subscriptions import service as subscriptions
from subscriptions.views import ChannelName

PAYLOAD_PREFIX = "bind-"
BINDABLE_CHANNELS = (ChannelName.TELEGRAM, ChannelName.WECHAT)


@dataclass
class BindTargets:
    """Which chats a web visitor can bind to; `telegram_username` is learnt from getMe when
    the bot starts (empty until then: the reply shows `/start bind-<code>` instead of a link)."""

    telegram: bool = False
    wechat: bool = False
    telegram_username: str = ""


async def offer(turn: Turn, targets: BindTargets) -> list[Reply]:
    """绑定 in the web chat: a fresh code and how to use it."""
    if turn.channel != ChannelName.WEB:
        return [Reply(texts.BIND_HOW_IN_CHAT, menus.main_menu(turn.subscriber))]
    if not (targets.telegram or targets.wechat):
        return [Reply(texts.BIND_NO_CHANNEL, menus.main_menu(turn.subscriber))]
    issued = await bindcodes.issue_bind_code(turn.session, turn.address)
    until = issued.expires_at.astimezone(CHINA_TZ).strftime("%H:%M")
    lines = [texts.BIND_CODE_ISSUED.format(code=issued.code, until=until)]
    buttons: list[Button] = []
    if targets.telegram:
        if targets.telegram_username:
            link = f"https://t.me/{targets.telegram_username}?start={PAYLOAD_PREFIX}{issued.code}"
            lines.append(texts.BIND_TELEGRAM_LINK.format(link=link))
            buttons.append(Button(texts.BTN_OPEN_TELEGRAM, url=link))
        else:
            lines.append(texts.BIND_TELEGRAM_TEXT.format(payload=f"{PAYLOAD_PREFIX}{issued.code}"))
    if targets.wechat:
        lines.append(texts.BIND_WECHAT_TEXT.format(code=issued.code))
    lines.append(texts.BIND_CODE_FOOTER)
    return [Reply("\n".join(lines), (tuple(buttons),) if buttons else ())]


async def redeem(turn: Turn, code: str) -> list[Reply]:
    """`/start bind-<code>` in Telegram or `绑定 <code>` in WeChat."""
    if turn.channel not in BINDABLE_CHANNELS:
        return [Reply(texts.BIND_ONLY_IN_CHAT, menus.main_menu(turn.subscriber))]
    code = code.strip()
    if not code:
        return [Reply(texts.BIND_HOW_IN_CHAT, menus.main_menu(turn.subscriber))]
    redeemed = await bindcodes.redeem_bind_code(turn.session, code, used_by=f"{turn.channel}:{turn.address}")
    if redeemed.problem:
        return [Reply(texts.BIND_CODE_PROBLEM[redeemed.problem], menus.main_menu(turn.subscriber))]
    web = await subscriptions.find_address(turn.session, ChannelName.WEB, redeemed.web_address)
    if web is None:  # the visitor never wrote (cannot happen: issuing a code is a turn)
        return [Reply(texts.BIND_CODE_PROBLEM[bindcodes.BindCodeProblem.UNKNOWN], menus.main_menu(turn.subscriber))]
    if web.subscriber_id == turn.subscriber.id:
        return [Reply(texts.BIND_ALREADY, menus.main_menu(turn.subscriber))]
    source = await subscriptions.get_subscriber(turn.session, web.subscriber_id)
    problem = merging.refusal(source, turn.subscriber)
    if problem:
        # The code stays used: the visitor asks for a new one after sorting it out by phone.
        return [Reply(problem, menus.main_menu(turn.subscriber))]
    turn.subscriber = await merging.merge_into(turn.session, source.id, turn.subscriber.id)
    turn.conversation.reset()
    mine = await subscriptions.my_subscriptions(turn.session, turn.subscriber.id)
    return [Reply(texts.BIND_DONE.format(summary=mine.text), menus.main_menu(turn.subscriber))]
