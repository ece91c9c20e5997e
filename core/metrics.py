"""Operations metrics in Prometheus form, measured in-process (prometheus-client).

Only what a process can count as it goes lives here: send latency, rate-limit waits, Q&A
latency and outcomes, scheduler runs. Figures that the database already holds (deliveries by
status, queue depth, oldest due delivery, relay tasks) are read at scrape time instead
(`push.gauges`), so every process reports the same truth without counting it twice.

Labels carry only channel names, outcomes and job names: never an address, a question or
any other personal data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # RSS, CPU, open files of this process

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

SEND_SECONDS = Histogram(
    "policy_direct_send_seconds", "Time a channel took to accept one message (including its rate-limit wait)",
    ["channel"], buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)  # fmt: skip
RATE_LIMIT_WAIT_SECONDS = Histogram(
    "policy_direct_rate_limit_wait_seconds", "Time a send waited for its channel's rate limit",
    ["channel"], buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)  # fmt: skip
QA_SECONDS = Histogram(
    "policy_direct_qa_seconds", "Time to answer one question", buckets=_LATENCY_BUCKETS, registry=REGISTRY
)
QA_QUESTIONS = Counter(
    "policy_direct_qa_questions", "Questions answered, by outcome (faq, policy, not_found, invalid)",
    ["outcome"], registry=REGISTRY,
)  # fmt: skip
SCHEDULER_RUNS = Counter(
    "policy_direct_scheduler_runs", "Scheduled job runs, by job and result (ok, failed)",
    ["job", "result"], registry=REGISTRY,
)  # fmt: skip


@contextmanager
def timed(histogram: Histogram, *labels: str) -> Iterator[None]:
    """Observe the seconds the block took (also when it raises)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        (histogram.labels(*labels) if labels else histogram).observe(time.perf_counter() - start)


def rate_limit_sleep(
    channel: str, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> Callable[[float], Awaitable[None]]:
    """A `sleep` for a rate limiter that also records each wait under `channel`."""

    async def waiting(seconds: float) -> None:
        RATE_LIMIT_WAIT_SECONDS.labels(channel).observe(max(seconds, 0.0))
        await sleep(seconds)

    return waiting


def record_answer(outcome: str, seconds: float) -> None:
    QA_QUESTIONS.labels(outcome).inc()
    QA_SECONDS.observe(seconds)


def record_scheduler_run(job: str, *, ok: bool) -> None:
    SCHEDULER_RUNS.labels(job, "ok" if ok else "failed").inc()
