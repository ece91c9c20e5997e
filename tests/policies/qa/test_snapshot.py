"""The index snapshot: a restart loads it only when it was made at the database's state."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.clock import FixedClock
from core.db import Database
from policies.qa import faq as faqs
from policies.qa.engine import QaEngine
from policies.qa.snapshot import capture, open_engine, snapshot_path, write_snapshot
from tests.factories import make_published_policy, repeal_policy

QUESTIONS = ("公租房谁能申请", "创业补贴能拿多少", "泾政办规发〔2023〕3号", "公共租赁住房管理办法",
             "创业补贴什么时候发",
             "护照怎么办理", "", "😀😀", "hello")

HOUSING = {
    "title": "泾源县公共租赁住房管理办法",
    "doc_no": "泾政办规发〔2023〕3号",
    "agency": "泾源县住房和城乡建设局",
    "body": "申请公共租赁住房应当具有本县城镇户籍或在本县稳定就业，家庭人均收入低于上年度人均可支配收入的70%。",
    "topics": ["housing"],
}


async def _library(db: Database) -> None:
    housing = await make_published_policy(db, **HOUSING)
    subsidy = await make_published_policy(db, doc_no="泾人社规发〔2023〕2号")
    await make_published_policy(db, title="泾源县旧的住房补贴办法", doc_no="泾建发〔2019〕1号")
    await repeal_policy(db, housing.id)
    async with db.session() as session:
        await faqs.create_faq(session, faqs.FaqInput(
            question="创业补贴什么时候发放", answer="审核通过后20个工作日内发放。", policy_ids=(subsidy.id,)))


async def _open(db: Database, folder: Path):  # type: ignore[no-untyped-def]
    async with db.reader() as session:
        return await open_engine(session, folder, phone="12345")


def _same_answers(a: QaEngine, b: QaEngine) -> None:
    for question in QUESTIONS:
        assert a.ask(question) == b.ask(question), question
        assert a.rank(question).hits == b.rank(question).hits, question
    assert a.facets() == b.facets()


async def test_round_trip_gives_identical_answers(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    await _library(db)
    built = await _open(db, tmp_path)
    assert not built.from_snapshot
    write_snapshot(capture(built.engine, built.fingerprint), tmp_path)
    loaded = await _open(db, tmp_path)
    assert loaded.from_snapshot and loaded.fingerprint == built.fingerprint
    _same_answers(built.engine, loaded.engine)
    # Both keep changing the same way afterwards.
    for engine in (built.engine, loaded.engine):
        engine.remove_policy(next(iter(c.policy_id for c in engine.cards())))
    _same_answers(built.engine, loaded.engine)


async def test_a_snapshot_of_a_changed_index_round_trips(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    # Dead slots and delta postings are compacted away on the way out.
    await _library(db)
    built = await _open(db, tmp_path)
    first = built.engine.cards()[0]
    built.engine.put_policy(first.with_status("expired"))
    built.engine.put_policy(first)
    write_snapshot(capture(built.engine, built.fingerprint), tmp_path)
    _same_answers(built.engine, (await _open(db, tmp_path)).engine)


async def test_a_changed_database_rebuilds(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    await _library(db)
    built = await _open(db, tmp_path)
    write_snapshot(capture(built.engine, built.fingerprint), tmp_path)
    await make_published_policy(db, title="泾源县农村危房改造补助办法", doc_no="泾建发〔2024〕9号")
    reopened = await _open(db, tmp_path)
    assert not reopened.from_snapshot and reopened.fingerprint != built.fingerprint
    assert len(reopened.engine) == len(built.engine) + 1
    answer = reopened.engine.ask("危房改造补助")
    assert answer.policy is not None and answer.policy.title == "泾源县农村危房改造补助办法"


async def test_a_faq_edit_changes_the_fingerprint(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    await _library(db)
    built = await _open(db, tmp_path)
    write_snapshot(capture(built.engine, built.fingerprint), tmp_path)
    async with db.session() as session:
        entry = (await faqs.list_faqs(session))[0]
        await faqs.update_faq(session, entry.id, faqs.FaqInput(
            question=entry.question, answer=entry.answer, variants=("补贴啥时候到账",), policy_ids=entry.policy_ids))
    assert not (await _open(db, tmp_path)).from_snapshot


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped"])
async def test_a_damaged_snapshot_rebuilds_and_is_logged(db: Database, clock: FixedClock, tmp_path: Path,
                                                          damage: str, caplog: pytest.LogCaptureFixture) -> None:
    await _library(db)
    built = await _open(db, tmp_path)
    path = write_snapshot(capture(built.engine, built.fingerprint), tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "garbage":
        data = bytearray(b"not a snapshot at all")
    elif damage == "truncated":
        data = data[: len(data) // 2]
    else:
        middle = len(data) // 2
        data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    reopened = await _open(db, tmp_path)
    assert not reopened.from_snapshot
    assert "snapshot" in caplog.text
    _same_answers(built.engine, reopened.engine)


async def test_no_snapshot_folder_builds(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    await _library(db)
    missing = tmp_path / "nowhere"
    reopened = await _open(db, missing)
    assert not reopened.from_snapshot and not snapshot_path(missing).exists()
