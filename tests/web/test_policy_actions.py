"""The policy steps the REST API and the console share (`web.policy_actions`): the role check
comes first, what the caller sent is read only after it, and a release wakes the fan-out
once it is committed."""

from __future__ import annotations

import pytest

from core.db import Database
from core.errors import Forbidden
from policies import service as policies
from push import service as push
from tests.factories import make_draft, make_published_policy
from tests.web.conftest import COMMERCE, HR
from web import policy_actions as actions
from web.accounts import Principal

EDITOR = Principal(actor="hr-editor", role="editor", agency=HR)
OTHER_EDITOR = Principal(actor="commerce-editor", role="editor", agency=COMMERCE)


@pytest.fixture
def wakes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    woken: list[str] = []
    monkeypatch.setattr(push, "wake", lambda: woken.append("wake"))
    return woken


def _never_read() -> str:
    raise AssertionError("read what a refused caller sent")


async def test_refused_editor_changes_nothing_and_is_never_read(db: Database, wakes: list[str]) -> None:
    policy = await make_published_policy(db, author=EDITOR.actor)
    with pytest.raises(Forbidden):
        await actions.repeal(db, OTHER_EDITOR, policy.id, _never_read)
    with pytest.raises(Forbidden):
        await actions.amend(db, OTHER_EDITOR, policy.id, _never_read)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        await actions.publish(db, OTHER_EDITOR, policy.id)
    async with db.reader() as session:
        assert (await policies.get_policy(session, policy.id)).status == "published"
    assert wakes == []


async def test_release_steps_wake_the_fanout_after_commit(db: Database, wakes: list[str]) -> None:
    draft = await make_draft(db, author=EDITOR.actor)
    assert (await actions.submit(db, EDITOR, draft.id)).status == "submitted"
    assert wakes == []  # a submission reaches nobody
    async with db.session() as session:
        await policies.approve(session, draft.id, "reviewer")
    assert (await actions.publish(db, EDITOR, draft.id)).status == "published"
    amended = await actions.amend(db, EDITOR, draft.id,
                                  lambda: policies.AmendmentInput(body="补贴提高到6000元。", change_summary="提高补贴"))
    assert amended.revision == 2
    assert (await actions.repeal(db, EDITOR, draft.id, lambda: "已被替代")).status == "repealed"
    assert wakes == ["wake", "wake", "wake"]
