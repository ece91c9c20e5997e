"""Posters: signed short links, layout (the printed QR decodes to the signed link), scans
counted once per visitor and day, credits, and the successor of a repealed policy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import FixedClock
from core.db import Database
from core.errors import ValidationFailed
from push.posters import service as posters
from push.posters.content import how_to_apply
from push.posters.layout import shared_layout
from push.posters.links import poster_code, poster_id_of, poster_link
from tests.factories import make_published_policy, repeal_policy
from tests.push.posters.helpers import pdf_pages, pdf_text, png_qr_contents, qr_contents

SECRET = "poster-test-secret"
BASE = "https://zc.example.gov.cn"
BODY = ("第一条 为鼓励创业，制定本办法。\n第四条 申请人持身份证明、营业执照，到所在乡（镇）便民服务中心提出申请。\n"
        "第五条 审核通过后拨付补贴。")


def test_signed_code_round_trips_and_refuses_alterations() -> None:
    for poster_id in (1, 31, 32, 1000, 123_456_789):
        code = poster_code(poster_id, SECRET)
        assert poster_id_of(code, SECRET) == poster_id
        assert poster_id_of(code.upper(), SECRET) == poster_id  # typed from the poster in capitals
    code = poster_code(42, SECRET)
    altered_id = poster_code(43, SECRET)[:-8] + code[-8:]  # another poster's id with this signature
    flipped = code[:-1] + ("a" if code[-1] != "a" else "b")
    assert poster_id_of(altered_id, SECRET) is None
    assert poster_id_of(flipped, SECRET) is None
    assert poster_id_of(code, "another-key") is None
    assert poster_id_of("", SECRET) is None
    assert poster_id_of("not/a-code!", SECRET) is None
    assert len(poster_link(BASE, 42, SECRET)) < 45  # short enough for a coarse QR code


def test_how_to_apply_is_the_sentence_that_says_where() -> None:
    assert how_to_apply(BODY) == "申请人持身份证明、营业执照，到所在乡（镇）便民服务中心提出申请。"
    assert how_to_apply("第一条 本办法自发布之日起施行。") == ""


async def _policy(db: Database):  # type: ignore[no-untyped-def]
    return await make_published_policy(db, body=BODY, who_qualifies="首次创业的高校毕业生", benefits="一次性补贴5000元")


async def test_pdf_and_png_carry_a_qr_code_that_decodes_to_the_signed_link(db: Database) -> None:
    policy = await _policy(db)
    async with db.session() as session:
        made = await posters.create_posters(session, policy.id, [
            posters.PlaceInput("东山坡村村委会", "village", "泾河源镇"),
            posters.PlaceInput("县政务服务大厅", "service_hall"),
        ], "editor", batch="第一批")
    ids = [p.id for p in made]
    async with db.reader() as session:
        pages = await posters.poster_pages(session, ids, BASE, SECRET, "12345")
    pdf = shared_layout().pdf(pages)
    images = pdf_pages(pdf)
    assert len(images) == 2  # a batch: one page per place
    for image, poster_id in zip(images, ids, strict=True):
        assert qr_contents(image) == [poster_link(BASE, poster_id, SECRET)]
    texts = pdf_text(pdf)
    assert policy.title in texts[0].replace("\r\n", "").replace("\n", "")
    assert "东山坡村村委会" in texts[0] and "县政务服务大厅" in texts[1]
    assert "0954-5012345" in texts[0]  # the interpretation's consultation phone
    assert b"NotoSansCJK" in pdf  # the Chinese font travels inside the file
    assert png_qr_contents(shared_layout().png(pages[1], ppi=96)) == [poster_link(BASE, ids[1], SECRET)]


async def test_place_names_with_personal_data_are_refused(db: Database) -> None:
    policy = await _policy(db)
    async with db.session() as session:
        with pytest.raises(ValidationFailed) as refused:
            await posters.create_posters(session, policy.id, [posters.PlaceInput("张三家 13912345678")], "editor")
    assert "个人信息" in refused.value.message


async def test_scans_count_once_per_visitor_and_day_and_forged_codes_are_refused(
        db: Database, clock: FixedClock) -> None:
    policy = await _policy(db)
    async with db.session() as session:
        (poster,) = await posters.create_posters(session, policy.id, [posters.PlaceInput("东山坡村村委会")], "editor")
    code = poster_code(poster.id, SECRET)

    async def scan(ip: str, ua: str, code: str = code) -> posters.ScanOutcome:
        async with db.session() as session:
            return await posters.open_scan(session, code, SECRET, ip=ip, user_agent=ua)

    assert (await scan("10.0.0.1", "Mozilla/5.0 MicroMessenger/8.0")).counted
    assert not (await scan("10.0.0.1", "Mozilla/5.0 MicroMessenger/8.0")).counted  # same visitor, same day
    assert (await scan("10.0.0.2", "Mozilla/5.0")).counted
    forged = await scan("10.0.0.3", "Mozilla/5.0", code=poster_code(poster.id, "guessed-key"))
    assert forged.poster is None and not forged.counted
    clock.advance(timedelta(days=1))
    assert (await scan("10.0.0.1", "Mozilla/5.0 MicroMessenger/8.0")).counted  # a new day counts again
    async with db.session() as session:
        assert await posters.credit(session, poster.id, posters.CreditKind.SUBSCRIPTION, 7, "web")
        assert not await posters.credit(session, poster.id, posters.CreditKind.SUBSCRIPTION, 7, "web")
        assert await posters.credit(session, poster.id, posters.CreditKind.QUESTION, 7, "web")
    async with db.reader() as session:
        (row,) = await posters.posters_with_counts(session, policy.id)
    counts = row.counts
    assert (counts.scans, counts.scans_in_wechat, counts.subscriptions, counts.questions) == (3, 2, 1, 1)


async def test_a_repealed_policy_leads_to_the_successor_named_in_the_repeal(db: Database) -> None:
    old = await _policy(db)
    new = await make_published_policy(db, title="泾源县创业扶持补贴办法", doc_no="泾人社规发〔2026〕9号", body=BODY)
    await repeal_policy(db, old.id, reason="已被泾人社规发〔2026〕9号替代")
    async with db.reader() as session:
        from policies import service as policies

        successor = await posters.successor_of(session, await policies.get_policy(session, old.id))
    assert successor is not None and successor.id == new.id
