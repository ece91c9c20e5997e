"""Redis for the shared-limit tests: REDIS_URL or 127.0.0.1:6379. The tests skip with a
visible reason when none answers, unless CI=true or REQUIRE_REDIS=1, where they fail."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1" or os.environ.get("CI") == "true"


@pytest_asyncio.fixture
async def redis_url() -> AsyncIterator[str]:
    from redis.asyncio import Redis

    client = Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        if REQUIRE_REDIS:
            pytest.fail(f"no Redis at {TEST_REDIS_URL}: {exc}")
        pytest.skip(f"no Redis at {TEST_REDIS_URL}: {exc}")
    finally:
        await client.aclose()
    yield TEST_REDIS_URL


@pytest_asyncio.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own, so parallel runs never share a bucket; removed after."""
    from redis.asyncio import Redis

    prefix = f"pdtest:{uuid.uuid4().hex[:10]}"
    yield prefix
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
