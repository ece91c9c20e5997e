"""The Telegram front end (aiogram 3): routers per feature over the dialogue core."""
