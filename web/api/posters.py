"""QR posters over REST (work-plan item 49): make posters for a policy and a list of places,
download them as PDF (one page per place) or a PNG preview, and read their scan figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.errors import NotFound
from core.secret_key import secret_key
from policies import service as policies
from push.service import posters
from push.views import PlaceKind
from web.api.common import ERROR_RESPONSES, PolicyId
from web.api.fields import MAX_ID, _storable
from web.auth import ApiPrincipal, require_visible
from web.poster_actions import (
    make_posters,
    pdf_disposition,
    poster_png,
    posters_pdf,
    require_poster_maker,
    require_poster_table,
)

router = APIRouter(prefix="/api", tags=["二维码海报"], responses=ERROR_RESPONSES)

PosterIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="海报编号")]
PlaceText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_storable)]
ShortText = Annotated[str, Field(max_length=100), AfterValidator(_storable)]
MAX_PLACES = posters.MAX_PLACES_PER_BATCH


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: PlaceText = Field(description="张贴地点，如 泾河源镇东山坡村村委会")
    kind: Literal["village", "community", "service_hall", "notice_board", "other"] = Field(
        "other", description="village 村委会 / community 社区 / service_hall 便民服务大厅 / "
                             "notice_board 园区或公共公告栏 / other 其他")
    township: ShortText = Field("", description="所属乡镇")


class PostersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    places: list[PlaceIn] = Field(min_length=1, max_length=MAX_PLACES)
    batch: Annotated[str, Field(max_length=40), AfterValidator(_storable)] = Field(
        "", description="批次名称（例如一个乡镇的张贴清单），批量下载时用")


class PosterOut(BaseModel):
    id: int
    policy_id: int
    place_name: str
    place_kind: str
    place_label: str
    township: str
    batch: str
    link: str = Field(description="二维码中的签名短链接")
    pdf: str
    png: str
    has_wechat_code: bool
    created_at: datetime
    printed_at: datetime | None
    scans: int = 0
    subscriptions: int = 0
    questions: int = 0


def _out(request: Request, poster: posters.PosterView, counts: posters.PosterCounts | None = None) -> PosterOut:
    settings = request.app.state.settings
    counts = counts or posters.PosterCounts()
    return PosterOut(
        id=poster.id, policy_id=poster.policy_id, place_name=poster.place_name, place_kind=poster.place_kind,
        place_label=poster.place_label, township=poster.township, batch=poster.batch,
        link=posters.poster_link(settings.effective_public_base_url, poster.id, secret_key(settings)),
        pdf=f"/api/posters/{poster.id}.pdf", png=f"/api/posters/{poster.id}.png",
        has_wechat_code=bool(poster.wechat_qr_url), created_at=poster.created_at, printed_at=poster.printed_at,
        scans=counts.scans, subscriptions=counts.subscriptions, questions=counts.questions,
    )


@router.post("/policies/{policy_id}/posters", status_code=201, response_model=list[PosterOut],
             summary="为政策制作张贴海报（每个地点一张）")
async def create(request: Request, principal: ApiPrincipal, policy_id: PolicyId, body: PostersIn) -> list[PosterOut]:
    places = [posters.PlaceInput(p.name, p.kind if p.kind in PlaceKind.ALL else PlaceKind.OTHER, p.township)
              for p in body.places]
    made = await make_posters(request, principal, policy_id, places, body.batch)
    return [_out(request, p) for p in made]


@router.get("/policies/{policy_id}/posters", response_model=list[PosterOut],
            summary="政策的海报及扫码、订阅、咨询数")
async def list_for_policy(request: Request, principal: ApiPrincipal, policy_id: PolicyId) -> list[PosterOut]:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
        require_visible(principal, policy)
        require_poster_table(principal, policy.agency)
        rows = await posters.posters_with_counts(session, policy_id)
    return [_out(request, r.poster, r.counts) for r in rows]


@router.get("/policies/{policy_id}/posters.pdf", summary="批量下载：一个 PDF，每个地点一页",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def batch_pdf(request: Request, principal: ApiPrincipal, policy_id: PolicyId,
                    batch: Annotated[str | None, Query(max_length=40, description="只含此批次")] = None) -> Response:
    async with request.app.state.db.reader() as session:
        require_poster_maker(principal, (await policies.get_policy(session, policy_id)).agency)
        rows = await posters.posters_with_counts(session, policy_id)
    ids = [r.poster.id for r in rows if batch is None or r.poster.batch == batch]
    if not ids:
        raise NotFound("这份政策还没有（此批次的）海报", field="batch")
    pdf = await posters_pdf(request, principal, ids)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": pdf_disposition(f"政策海报-{policy_id}-{batch or '全部'}.pdf")})


@router.get("/posters/{poster_id}.pdf", summary="下载一张海报（A4 PDF，用于打印）",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def one_pdf(request: Request, principal: ApiPrincipal, poster_id: PosterIdPath) -> Response:
    pdf = await posters_pdf(request, principal, [poster_id])
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": pdf_disposition(f"政策海报-{poster_id}.pdf")})


@router.get("/posters/{poster_id}.png", summary="海报预览图（PNG）",
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def one_png(request: Request, principal: ApiPrincipal, poster_id: PosterIdPath) -> Response:
    return Response(await poster_png(request, principal, poster_id), media_type="image/png")
