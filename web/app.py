"""The FastAPI application. Built by `create_app` from what run.py assembled."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core.db import Database
from core.errors import DomainError
from core.settings import Settings


def create_app(db: Database, settings: Settings) -> FastAPI:
    app = FastAPI(title="政策直达 Policy Direct", version="0.1.0", docs_url="/api/docs", redoc_url=None)
    app.state.db = db
    app.state.settings = settings

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.status_code)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        if await db.ping():
            return JSONResponse({"status": "ok", "database": db.dialect})
        return JSONResponse({"status": "unavailable", "database": db.dialect}, status_code=503)

    return app
