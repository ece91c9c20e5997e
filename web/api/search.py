"""Searching the released library: `GET /api/search`, ranked by the Q&A index, with filters
(topic, agency, year, status, audience) and the facets the public library page is classified
by (year, agency, topic, status). Public, like the library page it serves."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator, BaseModel, Field

from policies.service import QaEngine, normalize_query
from policies.views import Facets, PolicyRef, SearchFilters
from vocabulary import taxonomy
from vocabulary.codes import PolicyStatus
from web.api.common import ERROR_RESPONSES
from web.api.engine import engine_of
from web.api.fields import NO_NUL, _storable
from web.api.questions import TOO_MANY, PolicyRefOut
from web.api.rate_limit import limit_public_asks

router = APIRouter(prefix="/api", tags=["政策检索"], responses=ERROR_RESPONSES)

# Ranking deeper than this is not browsing any more; narrow the filters instead.
MAX_DEPTH = 1000

Text = Annotated[str, Query(max_length=200, pattern=NO_NUL), AfterValidator(_storable)]


class SearchHitOut(PolicyRefOut):
    score: float | None = Field(None, description="相关度（无检索词时为空）")
    matched_terms: list[str] = Field(default_factory=list, description="命中的检索词")
    exact: bool = Field(False, description="按文号或标题直接命中")


class FacetOut(BaseModel):
    value: str = Field(examples=["2024"])
    label: str = Field(examples=["2024 年"])
    count: int = Field(examples=[12])


class FacetsOut(BaseModel):
    year: list[FacetOut]
    agency: list[FacetOut]
    topic: list[FacetOut]
    status: list[FacetOut]

    @classmethod
    def of(cls, facets: Facets) -> FacetsOut:
        names = {t.code: t.name for t in taxonomy.topics()}
        labels = {"published": "有效", "expired": "已失效", "repealed": "已废止"}

        def listed(counts: dict, label=lambda v: str(v)) -> list[FacetOut]:  # type: ignore[no-untyped-def,type-arg]
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            return [FacetOut(value=str(v), label=label(v), count=n) for v, n in ordered]

        return cls(year=[FacetOut(value=str(y), label=f"{y} 年", count=n)
                         for y, n in sorted(facets.years.items(), reverse=True)],
                   agency=listed(facets.agencies), topic=listed(facets.topics, lambda c: names.get(c, c)),
                   status=listed(facets.statuses, lambda s: labels.get(s, s)))


class SearchOut(BaseModel):
    query: str = Field(description="规范化后的检索词")
    items: list[SearchHitOut]
    total: int = Field(description="符合条件的政策总数")
    offset: int
    limit: int
    facets: FacetsOut


def _hit(ref: PolicyRef, base: str, **extra: object) -> SearchHitOut:
    return SearchHitOut(**PolicyRefOut.of(ref, base).model_dump(), **extra)  # type: ignore[arg-type]


def run_search(engine: QaEngine, q: str, filters: SearchFilters, offset: int, limit: int,
               base: str) -> SearchOut:
    """The search both the API and the public library page use."""
    query = normalize_query(q)
    facets = engine.facets(query.text, filters)
    if not query.text:
        refs, total = engine.browse(filters, offset=offset, limit=limit)
        return SearchOut(query="", items=[_hit(r, base) for r in refs], total=total, offset=offset, limit=limit,
                         facets=FacetsOut.of(facets))
    # Ranked to the full depth, so that `total` is exactly what paging through can return
    # (counting the facets instead promised policies the ranking leaves out).
    ranked = engine.search(q, limit=MAX_DEPTH, filters=filters)
    items = [_hit(r.policy, base, score=round(r.hit.score, 4), matched_terms=list(r.hit.matched_terms),
                  exact=r.hit.exact) for r in ranked[offset : offset + limit]]
    total = len(ranked)
    return SearchOut(query=query.text, items=items, total=total, offset=offset, limit=limit,
                     facets=FacetsOut.of(facets))


def filters_of(topic: str = "", agency: str = "", year: int | None = None, status: str = "",
               audience: str = "") -> SearchFilters:
    return SearchFilters(topics=(topic,) if topic else (), agency=agency or None, year=year,
                         statuses=(status,) if status in PolicyStatus.RELEASED else (), audience=audience or None)


@router.get("/search", summary="检索政策文件库（公开，含分类统计）", dependencies=[Depends(limit_public_asks)],
            responses=TOO_MANY)
async def search(
    request: Request,
    q: Text = "",
    topic: Annotated[str, Query(max_length=60, description="主题代码，如 employment")] = "",
    agency: Annotated[str, Query(max_length=120, description="发文机关")] = "",
    year: Annotated[int | None, Query(ge=1900, le=2100, description="年份")] = None,
    status: Annotated[Literal["", "published", "expired", "repealed"], Query(description="效力状态")] = "",
    audience: Annotated[Literal["", "enterprise", "resident"], Query(description="面向对象")] = "",
    offset: Annotated[int, Query(ge=0, le=MAX_DEPTH)] = 0,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchOut:
    engine = await engine_of(request)
    filters = filters_of(topic, agency, year, status, audience)
    return run_search(engine, q, filters, offset, limit, request.app.state.settings.effective_public_base_url)
