"""GET /metrics: Prometheus text with the queue read from the database, in-process latencies
and counters, no personal data, and an optional bearer token; on both backends."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.clock import FixedClock
from core.db import Database
from core.scheduler import JobScheduler, JobSpec, daily
from core.settings import Settings
from policies.qa.engine import QaEngine
from push.fanout import FanOut
from tests.factories import make_published_policy
from tests.push.helpers import StaticAudience, make_recipients
from web.app import create_app

FIRST_CHAT = 7_770_001


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def _client(db: Database, settings: Settings, engine: QaEngine | None = None) -> httpx.AsyncClient:
    app = create_app(db, settings, qa_engine=engine)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_queue_figures_come_from_the_database(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    people = await make_recipients(db, 3, first_chat=FIRST_CHAT)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(people)).run_once()
    clock.advance(timedelta(seconds=90))
    settings = Settings(secret_key="k", data_dir=tmp_path)
    async with await _client(db, settings) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert value(found, "policy_direct_deliveries", channel="telegram", status="pending") == 3
    assert value(found, "policy_direct_queue_due") == 3
    assert value(found, "policy_direct_queue_oldest_due_age_seconds") == 90
    assert value(found, "policy_direct_relay_tasks", state="open") == 0
    # Scrape-safe: no chat id (or any other address) in any label or value.
    for n in range(3):
        assert str(FIRST_CHAT + n) not in response.text


async def test_token_is_required_when_set(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    settings = Settings(secret_key="k", data_dir=tmp_path, metrics_token="scrape-secret")
    async with await _client(db, settings) as client:
        refused = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert refused.status_code == wrong.status_code == 401
    assert "令牌" in refused.json()["error"]
    assert allowed.status_code == 200 and "policy_direct_queue_due" in allowed.text


async def test_questions_and_scheduler_runs_are_counted(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    settings = Settings(secret_key="k", data_dir=tmp_path)
    async with db.reader() as session:
        engine = await QaEngine.load(session, phone="12345")

    async def fails(_at: object) -> None:
        raise RuntimeError("boom")

    async def works(_at: object) -> None:
        return None

    jobs = JobScheduler([JobSpec("metrics_test_ok", daily(9), works), JobSpec("metrics_test_fail", daily(9), fails)])
    async with await _client(db, settings, engine) as client:
        before = samples((await client.get("/metrics")).text)
        question = "火星上的养老补贴怎么申请" + date.today().isoformat()
        assert (await client.get("/api/ask", params={"q": question})).status_code == 200
        await jobs.run("metrics_test_ok", clock.now())
        await jobs.run("metrics_test_fail", clock.now())
        after = (await client.get("/metrics")).text
    found = samples(after)
    asked = sum(
        value(found, "policy_direct_qa_questions_total", outcome=o) - value(before, "policy_direct_qa_questions_total",
                                                                          outcome=o)
        for o in ("faq", "policy", "not_found", "invalid")
    )  # fmt: skip
    assert asked == 1
    assert value(found, "policy_direct_qa_seconds_count") - value(before, "policy_direct_qa_seconds_count") == 1
    assert question not in after  # the question itself is never a label
    ok = ("policy_direct_scheduler_runs_total", {"job": "metrics_test_ok", "result": "ok"})
    failed = ("policy_direct_scheduler_runs_total", {"job": "metrics_test_fail", "result": "failed"})
    for name, labels in (ok, failed):
        assert value(found, name, **labels) - value(before, name, **labels) == 1
