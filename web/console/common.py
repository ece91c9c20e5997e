"""Helpers every console page uses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import RedirectResponse, Response

from web.accounts import Principal
from web.api.fields import MAX_ID
from web.templating import templates

# An id in a console path: out of range is a 422, never a database overflow (500).
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]

FLASH_KEY = "console_error"


def render(request: Request, name: str, principal: Principal | None, status_code: int = 200,
           **context: Any) -> Response:
    # An error raised by a form posted from another console page is shown once, on that page.
    flash = request.session.pop(FLASH_KEY, "") if "session" in request.scope else ""
    return templates.TemplateResponse(request, name, {"principal": principal, "flash_error": flash, **context},
                                      status_code=status_code)


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def client_ip(request: Request) -> str:
    # Behind a reverse proxy this is the proxy; run uvicorn with --proxy-headers there.
    return request.client.host if request.client else "unknown"


def field_errors(details: object, fallback_field: str | None, message: str) -> dict[str, str]:
    """{field: message} from a DomainError's details, for showing next to each input."""
    errors: dict[str, str] = {}
    if isinstance(details, list):
        for item in details:
            if isinstance(item, dict) and "field" in item:
                errors.setdefault(str(item["field"]), str(item.get("message", "")))
    if not errors:
        errors[fallback_field or "_"] = message
    return errors
