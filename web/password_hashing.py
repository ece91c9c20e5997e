"""Password hashing off the event loop, a few at a time.

argon2 is deliberately slow and memory-hungry (tens of milliseconds, 64 MB by default). Run on
the event loop, twenty logins at once would freeze every request, /healthz included; run
without a bound, they would take all cores and memory. So each hash runs in a worker thread,
and at most PASSWORD_HASH_CONCURRENCY of them at a time; the others wait their turn without
blocking anything else.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import get_settings

T = TypeVar("T")

hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
DUMMY_HASH = hasher.hash("not-a-real-password")

# One bound per event loop: a semaphore belongs to the loop it first waits on.
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(get_settings().password_hash_concurrency)
    return slot


async def _off_loop(work: Callable[..., T], *args: str) -> T:
    async with _slot():
        return await asyncio.to_thread(work, *args)


async def hash_password(password: str) -> str:
    return await _off_loop(hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; an unknown user (None) costs the same as a wrong password."""
    try:
        return bool(await _off_loop(hasher.verify, password_hash or DUMMY_HASH, password)) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)
