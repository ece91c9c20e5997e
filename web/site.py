"""The site's own routes, outside every area: the home redirect, the favicon and the health
check the deployment polls."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from push.service import can_record

STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    db = request.app.state.db
    # A write, not only a read: a database that answers but takes no writes cannot record
    # what was sent, and the workers stop sending until it can.
    writable = await db.ping() and await can_record(db)
    if writable:
        return JSONResponse({"status": "ok", "database": db.dialect, "writable": True})
    return JSONResponse({"status": "unavailable", "database": db.dialect, "writable": False}, status_code=503)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/library", status_code=303)
