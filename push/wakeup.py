"""In-process pipelines and the nudge that skips their fan-out poll after a publish."""

from __future__ import annotations

import asyncio
import weakref
from typing import Protocol


class Wakeable(Protocol):
    fanout_wake: asyncio.Event


running: weakref.WeakSet[Wakeable] = weakref.WeakSet()  # type: ignore[type-var]
"""The pipelines running in this process (push.service.Pipeline adds itself while it runs)."""


def wake() -> None:
    """Tell in-process pipelines that a policy event was just committed (skips the poll wait)."""
    for pipeline in list(running):
        pipeline.fanout_wake.set()
