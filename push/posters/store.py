"""Queries of the poster tables; `push.posters.service` is the only caller."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from push.posters.models import CreditKind, Poster, PosterCredit, PosterScan


async def add_posters(session: AsyncSession, posters: Sequence[Poster]) -> list[Poster]:
    session.add_all(list(posters))
    await session.flush()
    return list(posters)


async def poster(session: AsyncSession, poster_id: int) -> Poster | None:
    return await session.get(Poster, poster_id)


async def posters_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Poster]:
    rows = (await session.scalars(select(Poster).where(Poster.id.in_(list(ids))))).all()
    by_id = {p.id: p for p in rows}
    return [by_id[i] for i in ids if i in by_id]


async def posters_of_policies(session: AsyncSession, policy_ids: Sequence[int] | None) -> list[Poster]:
    query = select(Poster).order_by(Poster.policy_id, Poster.township, Poster.place_name, Poster.id)
    if policy_ids is not None:
        query = query.where(Poster.policy_id.in_(list(policy_ids)))
    return list((await session.scalars(query)).all())


async def mark_printed(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    await session.execute(update(Poster).where(Poster.id.in_(list(ids)))
                          .values(print_count=Poster.print_count + 1))
    await session.execute(update(Poster).where(Poster.id.in_(list(ids)), Poster.printed_at.is_(None))
                          .values(printed_at=now))


async def set_wechat_qr(session: AsyncSession, poster_id: int, url: str) -> None:
    await session.execute(update(Poster).where(Poster.id == poster_id).values(wechat_qr_url=url[:300]))


async def insert_once(session: AsyncSession, row: PosterScan | PosterCredit) -> bool:
    """Insert `row` unless its unique key is taken (a repeat scan, a second credit): True if new.

    A savepoint keeps the caller's transaction usable when the insert loses a race."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class PosterCounts:
    scans: int = 0
    scans_in_wechat: int = 0
    subscriptions: int = 0
    questions: int = 0


async def counts(session: AsyncSession, poster_ids: Sequence[int]) -> dict[int, PosterCounts]:
    ids = list(poster_ids)
    if not ids:
        return {}
    scans: dict[int, int] = dict((await session.execute(
        select(PosterScan.poster_id, func.count()).where(PosterScan.poster_id.in_(ids))
        .group_by(PosterScan.poster_id))).all())
    wechat: dict[int, int] = dict((await session.execute(
        select(PosterScan.poster_id, func.count()).where(PosterScan.poster_id.in_(ids), PosterScan.in_wechat)
        .group_by(PosterScan.poster_id))).all())
    credits: dict[tuple[int, str], int] = {
        (poster_id, kind): n for poster_id, kind, n in (await session.execute(
            select(PosterCredit.poster_id, PosterCredit.kind, func.count())
            .where(PosterCredit.poster_id.in_(ids)).group_by(PosterCredit.poster_id, PosterCredit.kind)
        )).all()
    }
    return {
        i: PosterCounts(
            scans=int(scans.get(i, 0)),
            scans_in_wechat=int(wechat.get(i, 0)),
            subscriptions=credits.get((i, CreditKind.SUBSCRIPTION), 0),
            questions=credits.get((i, CreditKind.QUESTION), 0),
        )
        for i in ids
    }


async def scans_on(session: AsyncSession, poster_id: int, day: date) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(PosterScan).where(PosterScan.poster_id == poster_id,
                                                           PosterScan.day == day)) or 0)
