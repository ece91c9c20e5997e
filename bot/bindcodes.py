"""One-time bind codes: a web-chat visitor asks for one (绑定), then sends it from Telegram
(`/start bind-<code>`) or WeChat (`绑定 <code>`). Only a hash is stored; a code lives 30
minutes and is used once."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import BotBindCode
from core.clock import now

KEPT_AFTER_EXPIRY = timedelta(days=1)  # then the row is deleted (the table stays small)


BIND_CODE_ALPHABET = string.ascii_letters + string.digits
BIND_CODE_LENGTH = 10  # 62**10 ≈ 8e17: unguessable within its lifetime
BIND_CODE_VALID_FOR = timedelta(minutes=30)
_BIND_CODE = re.compile(r"^[A-Za-z0-9]{8,32}$")


class BindCodeProblem:
    UNKNOWN = "unknown"  # malformed, never issued, or for another site
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class BindCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Redeemed:
    """Either the web address the code was issued to, or why it cannot be used."""

    web_address: str = ""
    problem: str = ""


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def issue_bind_code(session: AsyncSession, web_address: str) -> BindCode:
    """A fresh one-time code for this web visitor; earlier unused codes of the visitor lapse."""
    at = now()
    await session.execute(
        update(BotBindCode)
        .where(BotBindCode.web_address == web_address, BotBindCode.used_at.is_(None), BotBindCode.expires_at > at)
        .values(expires_at=at)
    )
    await session.execute(delete(BotBindCode).where(BotBindCode.expires_at < at - KEPT_AFTER_EXPIRY))
    code = "".join(secrets.choice(BIND_CODE_ALPHABET) for _ in range(BIND_CODE_LENGTH))
    row = BotBindCode(code_hash=_code_hash(code), web_address=web_address, created_at=at,
                      expires_at=at + BIND_CODE_VALID_FOR, used_by="")
    session.add(row)
    await session.flush()
    return BindCode(code, row.expires_at)


async def redeem_bind_code(session: AsyncSession, code: str, *, used_by: str) -> Redeemed:
    """Use a code once. The conditional update makes two concurrent redemptions of the same
    code impossible: only one of them changes the row."""
    code = (code or "").strip()
    if not _BIND_CODE.match(code):
        return Redeemed(problem=BindCodeProblem.UNKNOWN)
    found = await session.execute(select(BotBindCode).where(BotBindCode.code_hash == _code_hash(code)))
    row = found.scalar_one_or_none()
    if row is None:
        return Redeemed(problem=BindCodeProblem.UNKNOWN)
    if row.used_at is not None:
        return Redeemed(problem=BindCodeProblem.USED)
    at = now()
    if row.expires_at <= at:
        return Redeemed(problem=BindCodeProblem.EXPIRED)
    taken = await session.execute(
        update(BotBindCode)
        .where(BotBindCode.id == row.id, BotBindCode.used_at.is_(None))
        .values(used_at=at, used_by=used_by[:240])
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return Redeemed(problem=BindCodeProblem.USED)
    return Redeemed(web_address=row.web_address)
