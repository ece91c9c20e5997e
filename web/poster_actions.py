"""Poster actions shared by the REST API and the console, so a rule holds the same on both.

Who may make and print posters: admins, the policy's own department (editor), and hub
operators (a park or association prints posters for its own notice boards). Readers of a
policy's figures (viewer, reviewer) see the poster table.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from urllib.parse import quote

from fastapi import Request

from core.errors import Forbidden
from core.secret_key import secret_key
from policies import service as policies
from push.service import create_wechat_code, posters, shared_layout
from web.accounts import Principal
from web.auth import may_see_figures
from web.models import Role

log = logging.getLogger(__name__)


def may_make_posters(principal: Principal, agency: str) -> bool:
    if principal.role in (Role.ADMIN, Role.HUB_OPERATOR):
        return True
    return principal.role == Role.EDITOR and principal.agency == agency


def require_poster_maker(principal: Principal, agency: str) -> None:
    if not may_make_posters(principal, agency):
        raise Forbidden(f"只有“{agency}”的编辑、园区/协会联络员或管理员可以制作这份政策的海报", field="role")


def require_poster_table(principal: Principal, agency: str) -> None:
    """The poster table (places, links, scan figures): those who make posters, and the
    readers of the policy's figures."""
    if not (may_make_posters(principal, agency) or may_see_figures(principal, agency)):
        raise Forbidden(f"您无权查看“{agency}”政策的海报", field="agency")


async def make_posters(request: Request, principal: Principal, policy_id: int,
                       places: Sequence[posters.PlaceInput], batch: str = "") -> list[posters.PosterView]:
    """Create the posters, then (where a WeChat service account is configured) their
    parametric codes; a WeChat failure leaves the poster with its own QR code only."""
    db = request.app.state.db
    settings = request.app.state.settings
    async with db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
    require_poster_maker(principal, policy.agency)
    async with db.session() as session:
        made = await posters.create_posters(session, policy_id, places, principal.actor, batch=batch)
    if settings.wechat_app_id and settings.wechat_app_secret:
        for poster in made:
            try:
                url = await create_wechat_code(settings.wechat_app_id, settings.wechat_app_secret,
                                               settings.wechat_api_base, poster.id)
            except Exception as exc:  # noqa: BLE001 - the poster still works through its own link
                log.warning("poster %s: no WeChat parametric code: %s", poster.id, exc)
                continue
            async with db.session() as session:
                await posters.set_wechat_qr(session, poster.id, url)
        async with db.reader() as session:
            made = [await posters.get_poster(session, p.id) for p in made]
    return made


async def _pages(request: Request, poster_ids: Sequence[int]) -> list[posters.PosterPage]:
    settings = request.app.state.settings
    async with request.app.state.db.reader() as session:
        return await posters.poster_pages(session, poster_ids, settings.effective_public_base_url,
                                          secret_key(settings), settings.consultation_phone)


async def readable_posters(request: Request, principal: Principal, poster_ids: Sequence[int]) -> None:
    """Raise unless `principal` may print every one of `poster_ids`."""
    async with request.app.state.db.reader() as session:
        for poster_id in dict.fromkeys(poster_ids):
            poster = await posters.get_poster(session, poster_id)
            policy = await policies.get_policy(session, poster.policy_id)
            require_poster_maker(principal, policy.agency)


async def posters_pdf(request: Request, principal: Principal, poster_ids: Sequence[int]) -> bytes:
    """One PDF, a page per poster; counts as printed."""
    await readable_posters(request, principal, poster_ids)
    pages = await _pages(request, poster_ids)
    pdf = await asyncio.to_thread(shared_layout().pdf, pages)
    async with request.app.state.db.session() as session:
        await posters.mark_printed(session, poster_ids)
    return pdf


async def poster_png(request: Request, principal: Principal, poster_id: int) -> bytes:
    await readable_posters(request, principal, [poster_id])
    pages = await _pages(request, [poster_id])
    return await asyncio.to_thread(shared_layout().png, pages[0])


def pdf_disposition(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"
