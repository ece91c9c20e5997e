"""语音播报 / 关闭语音: the chat's choice to hear pushes as voice messages too.

The web chat's 长辈模式 turns it on through `push.voice.service.set_voice_preference` (the same
function these commands use), so the choice is one per chat whichever way it was made.
"""

from __future__ import annotations

from bot.dialogue import menus
from bot.dialogue.context import Turn
from bot.dialogue.replies import Reply
from push.service import set_voice_preference
from subscriptions.views import ChannelName

VOICE_ON = ("已开启语音播报：今后推送的政策会同时发来一段语音，朗读谁可以申请、可以享受什么、"
            "截止时间、怎么申请和咨询电话。语音由计算机合成，声音较生硬但能听清。发送“关闭语音”可随时停止。")
VOICE_ON_WECHAT = "微信规定：您最近 48 小时内给公众号发过消息，语音才能送达；否则推送里会附上收听链接。"
VOICE_ON_WEB = "网页收件箱里的政策会附上收听链接，点开即可播放。"
VOICE_OFF = "已关闭语音播报，今后只推送文字。发送“语音播报”可重新开启。"
BTN_READ_ALOUD = "🔊 朗读"


def listen_url(base_url: str, policy_id: int) -> str:
    return f"{base_url.rstrip('/')}/p/{int(policy_id)}/listen"


def faq_listen_url(base_url: str, faq_id: int) -> str:
    return f"{base_url.rstrip('/')}/faq/{int(faq_id)}/listen"


async def turn_on(turn: Turn) -> list[Reply]:
    await set_voice_preference(turn.session, turn.channel, turn.address, True)
    extra = {ChannelName.WECHAT: VOICE_ON_WECHAT, ChannelName.WEB: VOICE_ON_WEB}.get(turn.channel, "")
    return [Reply(VOICE_ON + ("\n" + extra if extra else ""), menus.main_menu(turn.subscriber))]


async def turn_off(turn: Turn) -> list[Reply]:
    await set_voice_preference(turn.session, turn.channel, turn.address, False)
    return [Reply(VOICE_OFF, menus.main_menu(turn.subscriber))]
