"""The follower keeps an engine current with changes committed elsewhere (another process,
or this one before it told the engine)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from core.clock import FixedClock
from core.db import Database
from policies import service as policies
from policies.qa import faq as faqs
from policies.qa.engine import QaEngine
from policies.qa.follower import FollowerCursor, IndexFollower, current_cursor, start_engine
from policies.qa.models import AnswerKind
from policies.qa.snapshot import snapshot_fingerprint
from policies.search import word_lists
from tests.factories import FULL_INTERPRETATION, amend_policy, make_draft, make_published_policy, repeal_policy

HOUSING = {
    "title": "泾源县公共租赁住房管理办法",
    "doc_no": "泾政办规发〔2023〕3号",
    "agency": "泾源县住房和城乡建设局",
    "body": "申请公共租赁住房应当具有本县城镇户籍或在本县稳定就业，家庭人均收入低于上年度人均可支配收入的70%。",
    "topics": ["housing"],
    "interpretation": None,
}


async def test_publish_amend_repeal_after_load_reach_the_engine(db: Database, clock: FixedClock,
                                                                 tmp_path: Path) -> None:
    subsidy = await make_published_policy(db, doc_no="泾人社规发〔2023〕2号")
    engine, follower = await start_engine(db, "12345", snapshot_dir=tmp_path)
    assert len(engine) == 1
    assert engine.ask("公租房谁能申请").kind == "not_found"

    housing = await make_published_policy(db, **HOUSING)
    await amend_policy(db, subsidy.id, body="首次创业的，一次性创业补贴提高到8000元，带动就业的另奖励2000元。")
    assert await follower.catch_up() == 2
    answer = engine.ask("公租房谁能申请")
    assert answer.policy is not None and answer.policy.policy_id == housing.id
    passage = engine.ask("创业带动就业奖励多少").passage
    assert passage is not None and "2000" in passage.text

    await repeal_policy(db, housing.id)
    assert await follower.catch_up() == 1
    answer = engine.ask("泾政办规发〔2023〕3号")
    assert answer.policy is not None and answer.policy.validity_label == "已废止"
    assert await follower.catch_up() == 0  # nothing new: nothing refreshed


async def test_interpretation_saved_after_publication_is_followed(db: Database, clock: FixedClock) -> None:
    housing = await make_published_policy(db, **HOUSING)
    async with db.reader() as session:
        engine = await QaEngine.load(session, phone="12345")
    follower = IndexFollower(db, engine, cursor=await current_cursor(db))
    # Interpretations saved at the cursor's own instant are replayed once (harmless).
    await follower.catch_up()
    assert await follower.catch_up() == 0
    clock.advance(timedelta(minutes=5))
    async with db.session() as session:
        await policies.set_interpretation(session, housing.id, FULL_INTERPRETATION, "editor")
    assert await follower.catch_up() == 1
    card = engine.card(housing.id)
    assert card is not None and card.elements["key_points"] == FULL_INTERPRETATION.elements["key_points"]
    assert await follower.catch_up() == 0


async def test_faq_changes_from_elsewhere_and_replay_from_zero(db: Database, clock: FixedClock) -> None:
    subsidy = await make_published_policy(db)
    await make_draft(db, title="尚未发布的草稿")
    engine = QaEngine.build([], phone="12345")
    follower = IndexFollower(db, engine, cursor=FollowerCursor())  # replays the whole outbox
    await follower.catch_up()
    assert len(engine) == 1 and engine.card(subsidy.id) is not None
    async with db.session() as session:
        entry = await faqs.create_faq(session, faqs.FaqInput(
            question="创业补贴什么时候发放", answer="审核通过后20个工作日内发放到本人社保卡。",
            policy_ids=(subsidy.id,)))
    await follower.catch_up()
    answer = engine.ask("创业补贴什么时候发放")
    assert answer.kind == "faq" and answer.faq_id == entry.id
    async with db.session() as session:
        await faqs.delete_faq(session, entry.id)
    await follower.catch_up()
    assert engine.faqs.get(entry.id) is None


async def test_run_polls_until_stopped_and_saves_a_snapshot(db: Database, clock: FixedClock,
                                                            tmp_path: Path) -> None:
    await make_published_policy(db)
    engine, follower = await start_engine(db, "12345", snapshot_dir=tmp_path, poll_interval=0.01)
    first = snapshot_fingerprint(tmp_path)
    assert first is not None  # written after the build
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    await make_published_policy(db, **HOUSING)
    for _ in range(300):
        if engine.ask("公租房谁能申请").kind == "policy":
            break
        await asyncio.sleep(0.01)
    assert engine.ask("公租房谁能申请").kind == "policy"
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert snapshot_fingerprint(tmp_path) not in (None, first)  # saved at shutdown


async def test_a_word_list_saved_by_another_process_is_followed(db: Database, tmp_path: Path) -> None:
    await make_published_policy(db, interpretation=None)  # 泾源县一次性创业补贴实施办法
    engine, follower = await start_engine(db, "12345", data_dir=tmp_path)
    question = "弄了个修车铺能给点钱吗"
    assert engine.ask(question).kind == "not_found"
    await follower.catch_up()
    assert not follower.follow_word_lists()  # nothing saved since the start

    # The console of another process saves the concept map under the same DATA_DIR.
    concepts = word_lists.read_list("concepts") + "\n修车铺 = 洗车店 => 创业 = 一次性创业补贴\n"
    word_lists.save_list("concepts", concepts, tmp_path)
    await follower.catch_up()
    assert engine.ask(question).kind in AnswerKind.ANSWERED
    assert not follower.follow_word_lists()  # read once per save

    # Removing the edited copy goes back to the shipped list.
    word_lists.edited_path("concepts", tmp_path).unlink()
    assert follower.follow_word_lists()
    assert engine.ask(question).kind == "not_found"
