"""Conversations: Telegram (aiogram), WeChat official account (wechatpy) and web chat, all
talking to one channel-agnostic dialogue core (`bot.dialogue`)."""
