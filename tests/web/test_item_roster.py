"""The department's roster of an item: known enterprises that qualify (or may), who has not
applied, the 免申即享 grant export, recording applied / granted, and who may see it."""

from __future__ import annotations

import csv
import io

import httpx

from core.clock import FixedClock
from core.db import Database
from subscriptions.item_roster.service import known_enterprises
from subscriptions.models import Enterprise
from tests.factories import make_published_policy
from tests.policies.items.helpers import HIGH_TECH_AWARD, save_items
from tests.subscriptions.test_item_audience import _people
from tests.web.conftest import COMMERCE, HR, csrf_of, login, make_user


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_roster_export_and_recording_a_grant(client: httpx.AsyncClient, db: Database,
                                                   clock: FixedClock) -> None:
    await _people(db)
    policy = await make_published_policy(db)
    await save_items(db, policy.id, [HIGH_TECH_AWARD], change_summary="事项清单")
    await make_user(db, "hr-editor", "editor", HR)
    await login(client, "hr-editor")
    base = f"/console/policies/{policy.id}/items/1/enterprises"
    page = await client.get(base)
    assert page.status_code == 200
    assert 'id="met-count">1<' in page.text and 'id="not-applied-count">2<' in page.text
    assert "六盘山科技有限公司" in page.text and "香水镇农产品加工厂" in page.text
    assert "新民镇高新企业" not in page.text  # another township: not met
    grant = _rows((await client.get(f"{base}.csv?scope=grant")).content)
    assert grant[0][:5] == ["企业名称", "统一社会信用代码", "乡镇", "行业", "判断"]
    assert [(r[0], r[2], r[3], r[4], r[6]) for r in grant[1:]] == [
        ("六盘山科技有限公司", "香水镇", "制造业", "符合", "未申请")]
    everyone = _rows((await client.get(f"{base}.csv")).content)
    assert [r[4] for r in everyone[1:]] == ["符合", "可能符合（需核实）"]
    assert everyone[2][5] == "企业资质：高新技术企业"

    certified_id = 1  # the first enterprise saved
    saved = await client.post(f"{base}/{certified_id}", data={"csrf_token": csrf_of(page.text), "status": "granted"})
    assert saved.status_code == 303
    page = await client.get(base)
    assert "已兑现" in page.text and 'id="not-applied-count">1<' in page.text
    assert _rows((await client.get(f"{base}.csv?scope=grant")).content)[1:] == []


async def test_only_the_agency_records_and_others_cannot_see(client: httpx.AsyncClient, db: Database,
                                                             clock: FixedClock) -> None:
    await _people(db)
    policy = await make_published_policy(db)
    await save_items(db, policy.id, [HIGH_TECH_AWARD], change_summary="事项清单")
    await make_user(db, "commerce-editor", "editor", COMMERCE)
    await login(client, "commerce-editor")
    base = f"/console/policies/{policy.id}/items/1/enterprises"
    assert (await client.get(base)).status_code == 403
    assert (await client.get(f"{base}.csv?scope=grant")).status_code == 403


async def test_known_enterprises_take_the_predicate(db: Database, clock: FixedClock) -> None:
    await _people(db)
    async with db.reader() as session:
        everyone = await known_enterprises(session)
        in_xiangshui = await known_enterprises(session, lambda: Enterprise.township == "xiangshui")
    assert len(everyone) == 3
    assert sorted(e.name for e in in_xiangshui) == sorted(["六盘山科技有限公司", "香水镇农产品加工厂"])


async def test_an_enterprise_only_named_in_a_chat_is_not_known_to_the_county(db: Database,
                                                                            clock: FixedClock) -> None:
    await _people(db)
    async with db.session() as session:
        first = await session.get(Enterprise, 1)
        assert first is not None
        first.verified = False  # as if it had been created from a chat, never confirmed
    async with db.reader() as session:
        known = await known_enterprises(session)
    assert len(known) == 2
    assert first.name not in {e.name for e in known}
