"""Console pages for QR posters: make posters for a policy and a list of places (one per
line), preview and print them, one PDF for a township's whole list, and see their scans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from core.errors import DomainError, NotFound
from core.secret_key import secret_key
from policies import service as policies
from push.service import posters
from push.views import PlaceKind
from web.api.fields import MAX_ID
from web.auth import ConsolePrincipal, CsrfChecked, require_visible
from web.console.common import render, see_other
from web.poster_actions import (
    make_posters,
    may_make_posters,
    pdf_disposition,
    poster_png,
    posters_pdf,
    require_poster_maker,
    require_poster_table,
)

router = APIRouter(prefix="/console", include_in_schema=False)

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_FORM_CHARS = 20_000


def places_from_text(text: str, kind: str, township: str) -> list[posters.PlaceInput]:
    """One place per line; blank lines are skipped."""
    kind = kind if kind in PlaceKind.ALL else PlaceKind.OTHER
    return [posters.PlaceInput(line.strip(), kind, township.strip()) for line in text.splitlines() if line.strip()]


async def _page(request: Request, principal: ConsolePrincipal, policy_id: int, *, error: str = "",
                message: str = "", status_code: int = 200) -> Response:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
        require_visible(principal, policy)  # a draft's page says nothing to those who may not see it
        require_poster_table(principal, policy.agency)
        rows = await posters.posters_with_counts(session, policy_id)
    settings = request.app.state.settings
    links = {r.poster.id: posters.poster_link(settings.effective_public_base_url, r.poster.id, secret_key(settings))
             for r in rows}
    batches = sorted({r.poster.batch for r in rows if r.poster.batch})
    return render(request, "console/posters.html", principal, status_code=status_code, policy=policy,
                  rows=rows, links=links, batches=batches, kinds=PlaceKind.LABELS, error=error,
                  message=message, can_make=may_make_posters(principal, policy.agency))


@router.get("/policies/{policy_id}/posters")
async def posters_page(request: Request, principal: ConsolePrincipal, policy_id: IdPath) -> Response:
    return await _page(request, principal, policy_id)


@router.post("/policies/{policy_id}/posters", dependencies=[CsrfChecked])
async def create_posters(request: Request, principal: ConsolePrincipal, policy_id: IdPath,
                         places: Annotated[str, Form(max_length=MAX_FORM_CHARS)] = "",
                         kind: Annotated[str, Form(max_length=20)] = PlaceKind.OTHER,
                         township: Annotated[str, Form(max_length=100)] = "",
                         batch: Annotated[str, Form(max_length=40)] = "") -> Response:
    try:
        made = await make_posters(request, principal, policy_id, places_from_text(places, kind, township),
                                  batch.strip())
    except DomainError as exc:
        return await _page(request, principal, policy_id, error=exc.message, status_code=exc.status_code)
    return see_other(f"/console/policies/{policy_id}/posters?made={len(made)}")


@router.get("/posters/{poster_id}.pdf")
async def poster_pdf_download(request: Request, principal: ConsolePrincipal, poster_id: IdPath) -> Response:
    pdf = await posters_pdf(request, principal, [poster_id])
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": pdf_disposition(f"政策海报-{poster_id}.pdf")})


@router.get("/posters/{poster_id}.png")
async def poster_png_preview(request: Request, principal: ConsolePrincipal, poster_id: IdPath) -> Response:
    return Response(await poster_png(request, principal, poster_id), media_type="image/png")


@router.get("/policies/{policy_id}/posters.pdf")
async def batch_pdf_download(request: Request, principal: ConsolePrincipal, policy_id: IdPath,
                             batch: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    async with request.app.state.db.reader() as session:
        require_poster_maker(principal, (await policies.get_policy(session, policy_id)).agency)
        rows = await posters.posters_with_counts(session, policy_id)
    ids = [r.poster.id for r in rows if not batch or r.poster.batch == batch]
    if not ids:
        raise NotFound("这份政策还没有（此批次的）海报", field="batch")
    pdf = await posters_pdf(request, principal, ids)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": pdf_disposition(f"政策海报-{policy_id}-{batch or '全部'}.pdf")})
