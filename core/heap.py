"""Keeping a long-running process's start-up objects out of the cyclic garbage collector."""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Move every object alive now out of the cyclic collector's reach.

    A sending process holds a few hundred thousand long-lived objects (jieba's dictionary, the
    ORM, aiogram's models, the templates); a fan-out allocates enough to trigger a full
    collection, which walked all of them: 180-680 ms with the first message of a 75,000-recipient
    policy waiting behind it. Collected first, so no garbage is frozen; objects freed by their
    reference count are still freed."""
    gc.collect()
    gc.freeze()
