"""Public pages, no login: the policy page `/p/{id}` (and its old revisions), the library
`/library` classified by year, agency and topic and searchable (work-plan items 13-14),
and the tracked-link redirect `/r/{token}` used in pushes."""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from core.errors import NotFound
from policies import service as policies
from policies.service import QaEngine
from policies.service import faq as faqs
from policies.views import INTERPRETATION_ELEMENTS, FaqView, PolicyView
from push import service as push
from vocabulary import taxonomy
from vocabulary.codes import PolicyStatus
from web.api.engine import engine_if_loaded
from web.api.fields import MAX_ID
from web.api.search import filters_of, run_search
from web.public_items import items_of_revision
from web.templating import templates

router = APIRouter(include_in_schema=False)

PublicId = Annotated[int, Path(ge=1, le=MAX_ID)]
LIBRARY_PAGE = 30
RELATED_FAQS = 20


def _topic_names() -> dict[str, str]:
    return {t.code: t.name for t in taxonomy.topics()}


async def _released(request: Request, policy_id: int) -> PolicyView:
    """A released policy, or 404: drafts are not public, and saying they exist would leak."""
    async with request.app.state.db.reader() as session:
        try:
            policy = await policies.get_policy(session, policy_id)
        except NotFound:
            policy = None
    if policy is None or policy.status not in PolicyStatus.RELEASED:
        raise HTTPException(404, "没有找到这份政策文件，可能尚未发布")
    return policy


async def _related_faq(request: Request, policy_id: int) -> list[FaqView]:
    async with request.app.state.db.reader() as session:
        return await faqs.list_faqs(session, policy_id=policy_id, limit=RELATED_FAQS)


@router.get("/p/{policy_id}")
async def policy_page(request: Request, policy_id: PublicId) -> Response:
    policy = await _released(request, policy_id)
    async with request.app.state.db.reader() as session:
        revisions = [r for r in await policies.list_revisions(session, policy_id) if r.published_at]
        interpretation = await policies.get_interpretation(session, policy_id)
    current = next((r for r in revisions if r.number == policy.revision), revisions[-1] if revisions else None)
    return templates.TemplateResponse(request, "public/policy.html", {
        "policy": policy, "revision": current, "revisions": revisions, "interpretation": interpretation,
        "elements": INTERPRETATION_ELEMENTS, "topic_names": _topic_names(),
        "faqs": await _related_faq(request, policy_id), "is_current": True,
        "phone": request.app.state.settings.consultation_phone,
        "items": await items_of_revision(request, policy_id, current.number if current else policy.revision),
    })


@router.get("/p/{policy_id}/r/{number}")
async def revision_page(request: Request, policy_id: PublicId,
                        number: Annotated[int, Path(ge=1, le=10_000)]) -> Response:
    policy = await _released(request, policy_id)
    async with request.app.state.db.reader() as session:
        revisions = [r for r in await policies.list_revisions(session, policy_id) if r.published_at]
    revision = next((r for r in revisions if r.number == number), None)
    if revision is None:
        raise HTTPException(404, f"这份政策没有已发布的第 {number} 版")
    return templates.TemplateResponse(request, "public/policy.html", {
        "policy": policy, "revision": revision, "revisions": revisions, "interpretation": None,
        "elements": INTERPRETATION_ELEMENTS, "topic_names": _topic_names(), "faqs": [],
        "is_current": number == policy.revision, "phone": request.app.state.settings.consultation_phone,
        "items": await items_of_revision(request, policy_id, number),
    })


@router.get("/policies/{policy_id}")
async def policy_page_alias(policy_id: PublicId) -> RedirectResponse:
    # push.links.policy_page_url builds /policies/{id}; the documented page is /p/{id}.
    return RedirectResponse(f"/p/{policy_id}", status_code=301)


def _matches(policy: PolicyView, words: list[str], topic_names: dict[str, str]) -> bool:
    haystack = " ".join([policy.title, policy.doc_no or "", policy.agency, policy.summary, " ".join(policy.keywords),
                         " ".join(topic_names.get(t, t) for t in policy.topics)])
    return all(w in haystack for w in words)


@router.get("/library")
async def library(
    request: Request,
    q: Annotated[str, Query(max_length=100)] = "",
    year: Annotated[str, Query(max_length=4)] = "",
    agency: Annotated[str, Query(max_length=120)] = "",
    topic: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    statuses = [status] if status in PolicyStatus.RELEASED else list(PolicyStatus.RELEASED)
    async with request.app.state.db.reader() as session:
        everything, _ = await policies.list_policies(session, statuses=list(PolicyStatus.RELEASED), limit=100_000)
    topic_names = _topic_names()
    engine = engine_if_loaded(request)
    if q.strip() and engine is not None:
        return _ranked_library(request, engine, everything, q, year, agency, topic, status, offset)
    words = [w for w in q.replace("，", " ").split() if w]
    chosen = [p for p in everything
              if p.status in statuses
              and (not year or str(_year(p)) == year)
              and (not agency or p.agency == agency)
              and (not topic or topic in p.topics)
              and (not words or _matches(p, words, topic_names))]
    facets = {
        "year": sorted(Counter(str(_year(p)) for p in everything if _year(p)).items(), reverse=True),
        "agency": sorted(Counter(p.agency for p in everything).items(), key=lambda kv: (-kv[1], kv[0])),
        "topic": sorted(((topic_names.get(c, c), c, n) for c, n in
                         Counter(t for p in everything for t in p.topics).items()), key=lambda t: -t[2]),
    }
    return templates.TemplateResponse(request, "public/library.html", {
        "policies": chosen[offset:offset + LIBRARY_PAGE], "total": len(chosen), "offset": offset,
        "page": LIBRARY_PAGE, "facets": facets, "topic_names": topic_names,
        "filters": {"q": q, "year": year, "agency": agency, "topic": topic, "status": status},
    })


def _ranked_library(request: Request, engine: QaEngine, everything: list[PolicyView], q: str, year: str,
                    agency: str, topic: str, status: str, offset: int) -> Response:
    """`/library?q=`: ranked by the Q&A index (synonyms, 文号, valid before repealed), with the
    facets counted over what the query matches."""
    filters = filters_of(topic, agency, int(year) if year.isdigit() else None, status)
    found = run_search(engine, q, filters, offset, LIBRARY_PAGE, "")
    by_id = {p.id: p for p in everything}
    topic_names = _topic_names()
    facets = {
        "year": [(f.value, f.count) for f in found.facets.year],
        "agency": [(f.value, f.count) for f in found.facets.agency],
        "topic": [(topic_names.get(f.value, f.value), f.value, f.count) for f in found.facets.topic],
    }
    return templates.TemplateResponse(request, "public/library.html", {
        "policies": [by_id[h.id] for h in found.items if h.id in by_id], "total": found.total, "offset": offset,
        "page": LIBRARY_PAGE, "facets": facets, "topic_names": topic_names,
        "filters": {"q": q, "year": year, "agency": agency, "topic": topic, "status": status},
    })


def _year(policy: PolicyView) -> int | None:
    for day in (policy.issued_on, policy.effective_date):
        if day:
            return day.year
    return policy.published_at.year if policy.published_at else None


@router.get("/r/{token}")
async def tracked_link(request: Request, token: Annotated[str, Path(max_length=500)],
                       to: Annotated[str, Query(max_length=10)] = "") -> Response:
    async with request.app.state.db.session() as session:
        target = await push.record_read(session, token, secret=request.app.state.settings.secret_key or None)
    if to == "listen" and re.fullmatch(r"/p/\d+", target):  # a listener's push: straight to the audio
        target += "/listen"
    return RedirectResponse(target, status_code=303)
