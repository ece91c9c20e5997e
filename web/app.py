"""The FastAPI application. Built by `create_app` from what run.py assembled."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from bot.wechat.endpoint import MAX_BODY_BYTES as WECHAT_MAX_BODY_BYTES
from core.db import Database
from core.secret_key import secret_key
from core.settings import Settings
from policies.service import QaEngine
from web import errors, integrations
from web.api.common import known_query_only
from web.body_limit import BodyLimitMiddleware, BodyLimits
from web.security_headers import SecurityHeaders

STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "pd_session"
SESSION_MAX_AGE = 12 * 3600  # one working day; the console asks for the password again after


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
    app.add_middleware(SecurityHeaders)
    # Added last, so it is the outermost layer: sizes are checked before sessions and routes.
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits(
        body_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes,
        by_path={"/wechat": WECHAT_MAX_BODY_BYTES}))
    from web.request_id import RequestIdMiddleware

    app.add_middleware(RequestIdMiddleware)  # outermost: every log line of a request carries its id

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        from push.service import can_record

        # A write, not only a read: a database that answers but takes no writes cannot record
        # what was sent, and the workers stop sending until it can.
        writable = await db.ping() and await can_record(db)
        if writable:
            return JSONResponse({"status": "ok", "database": db.dialect, "writable": True})
        return JSONResponse({"status": "unavailable", "database": db.dialect, "writable": False}, status_code=503)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/library", status_code=303)

    from web.api import policies as policy_api
    from web.api import relay as relay_api
    from web.api import suggest, tokens
    from web.console import faq as faq_console
    from web.console import qa_words as qa_words_console
    from web.console import relay as relay_console
    from web.console import routers as console_routers
    from web.public import router as public_router

    app.include_router(policy_api.router)
    app.include_router(suggest.router)
    app.include_router(tokens.router)
    for router in integrations.api_routers():
        app.include_router(router)
    for router in console_routers():
        app.include_router(router)
    app.include_router(relay_api.router)
    app.include_router(relay_console.router)
    app.include_router(faq_console.router)
    app.include_router(qa_words_console.router)
    app.include_router(public_router)
    from web import public_posters, public_voice
    from web.api import posters as poster_api
    from web.console import posters as poster_console

    app.include_router(poster_api.router)
    app.include_router(poster_console.router)
    app.include_router(public_posters.router)
    app.include_router(public_voice.router)
    from web.api import claims as claims_api
    app.include_router(claims_api.router)
    from web.console import claims as claims_console
    app.include_router(claims_console.router)
    from web import items_routes  # policy items (事项) and the policy calculator
    for router in items_routes.routers():
        app.include_router(router)
    from web import metrics as metrics_route

    app.include_router(metrics_route.router)
    for router in extra_routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app
