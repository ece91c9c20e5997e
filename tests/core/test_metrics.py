"""The in-process instruments: a rate-limit wait and a timed block are observed with their channel."""

from __future__ import annotations

import pytest

from core import metrics


def _count_and_sum(histogram: object, channel: str) -> tuple[float, float]:
    found = {s.name.rsplit("_", 1)[-1]: s.value for family in histogram.collect()  # type: ignore[attr-defined]
             for s in family.samples if s.labels.get("channel") == channel}
    return found.get("count", 0.0), found.get("sum", 0.0)


async def test_rate_limit_sleep_records_each_wait_then_sleeps() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    count, total = _count_and_sum(metrics.RATE_LIMIT_WAIT_SECONDS, "test-channel")
    waiting = metrics.rate_limit_sleep("test-channel", sleep=fake_sleep)
    await waiting(0.25)
    await waiting(0.5)
    assert slept == [0.25, 0.5]
    assert _count_and_sum(metrics.RATE_LIMIT_WAIT_SECONDS, "test-channel") == (count + 2, pytest.approx(total + 0.75))


def test_timed_observes_even_when_the_block_raises() -> None:
    count, _ = _count_and_sum(metrics.SEND_SECONDS, "timed-test")
    with pytest.raises(ValueError), metrics.timed(metrics.SEND_SECONDS, "timed-test"):
        raise ValueError("send failed")
    assert _count_and_sum(metrics.SEND_SECONDS, "timed-test")[0] == count + 1
