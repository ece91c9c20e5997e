"""The FastAPI application. Built by `create_app` from what run.py assembled."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from bot.views import WECHAT_MAX_BODY_BYTES
from core.db import Database
from core.secret_key import secret_key
from core.settings import Settings
from policies.service import QaEngine
from web import (
    errors,
    metrics,
    openapi_links,
    public,
    public_calculator,
    public_posters,
    public_voice,
    site,
)
from web.api import claims as claims_api
from web.api import faqs as faq_api
from web.api import items as item_api
from web.api import policies as policy_api
from web.api import posters as poster_api
from web.api import questions as question_api
from web.api import reach as reach_api
from web.api import relay as relay_api
from web.api import search as search_api
from web.api import subscribers as subscriber_api
from web.api import suggest as suggest_api
from web.api import tokens as token_api
from web.api.common import known_query_only
from web.body_limit import BodyLimitMiddleware, BodyLimits
from web.console import admin as admin_console
from web.console import boards as board_console
from web.console import claims as claims_console
from web.console import faq as faq_console
from web.console import item_roster as item_roster_console
from web.console import items as item_console
from web.console import login as login_console
from web.console import policy_pages as policy_console
from web.console import posters as poster_console
from web.console import qa_words as qa_words_console
from web.console import reach as reach_console
from web.console import relay as relay_console
from web.console import review as review_console
from web.request_id import RequestIdMiddleware
from web.security_headers import SecurityHeaders
from web.site import STATIC_DIR

SESSION_COOKIE = "pd_session"
SESSION_MAX_AGE = 12 * 3600  # one working day; the console asks for the password again after

# Every route of the app, one APIRouter per area, mounted here and nowhere else. The REST
# API's order is the order of the OpenAPI document's sections.
API_ROUTERS: tuple[APIRouter, ...] = (
    policy_api.router, suggest_api.router, token_api.router, reach_api.router, subscriber_api.router,
    question_api.router, search_api.router, faq_api.router, relay_api.router, poster_api.router,
    claims_api.router, item_api.router,
)
CONSOLE_ROUTERS: tuple[APIRouter, ...] = (
    login_console.router, policy_console.router, review_console.router, reach_console.router,
    board_console.router, admin_console.router, relay_console.router, faq_console.router,
    qa_words_console.router, poster_console.router, claims_console.router, item_console.router,
    item_roster_console.router,
)
PUBLIC_ROUTERS: tuple[APIRouter, ...] = (
    site.router, public.router, public_posters.router, public_voice.router, public_calculator.router,
    metrics.router,
)
ROUTERS = (*PUBLIC_ROUTERS, *API_ROUTERS, *CONSOLE_ROUTERS)


def create_app(
    db: Database, settings: Settings, *, qa_engine: QaEngine | None = None, extra_routers: Sequence[APIRouter] = ()
) -> FastAPI:
    """The whole HTTP face. `qa_engine` is the process's shared Q&A index (routes that answer or
    search use it); `extra_routers` are mounted as given (the bots' webhooks and web chat)."""
    app = FastAPI(
        title="政策直达 Policy Direct",
        version="0.1.0",
        description="政策发布、推送与接力转达的 REST API。认证：`Authorization: Bearer <令牌>`，"
        "令牌由 `python run.py token create --agency 单位 --role editor` 生成。"
        "错误以 JSON 返回：`{\"error\": 中文说明, \"field\": 出错字段, \"details\": [...]}`。",
        docs_url="/api/docs",
        redoc_url=None,
        dependencies=[Depends(known_query_only)],  # the REST API refuses undeclared query parameters
    )
    app.state.db = db
    app.state.settings = settings
    app.state.qa_engine = qa_engine
    app.add_middleware(SessionMiddleware, secret_key=secret_key(settings), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE, same_site="lax",
                       https_only=settings.effective_public_base_url.startswith("https://"))
    errors.install(app)
    openapi_links.install(app)  # links between operations, added to the generated schema
    app.add_middleware(SecurityHeaders)
    # Outside sessions and routes: sizes are checked before either reads the body.
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits(
        body_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes,
        by_path={"/wechat": WECHAT_MAX_BODY_BYTES}))
    app.add_middleware(RequestIdMiddleware)  # outermost: every log line of a request carries its id

    for router in (*ROUTERS, *extra_routers):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app
