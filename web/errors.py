"""How errors leave the application: JSON naming the field under /api/, a Chinese page
elsewhere, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError
from web.api.fields import NO_NUL
from web.auth import LoginRequired
from web.console.common import FLASH_KEY
from web.templating import templates

log = logging.getLogger(__name__)

_LOCATIONS = ("body", "query", "path", "header", "cookie")
_PYDANTIC_MESSAGES = {
    "missing": "必填",
    "string_too_long": "过长",
    "string_too_short": "过短",
    "int_parsing": "须为整数",
    "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）",
    "date_parsing": "须为日期（YYYY-MM-DD）",
    "date_type": "须为日期（YYYY-MM-DD）",
    "literal_error": "取值无效",
    "enum": "取值无效",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "须为 JSON 对象",
    "dict_type": "须为 JSON 对象",
    "list_type": "须为列表",
    "string_type": "须为文本",
    "bool_parsing": "须为 true 或 false",
    "greater_than_equal": "过小",
    "less_than_equal": "过大",
    "too_long": "条目过多",
    "extra_forbidden": "不认识的字段或参数",
    "string_pattern_mismatch": "格式不正确",
}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in _LOCATIONS]
    return ".".join(parts) or "body"


def validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    details = []
    for error in exc.errors():
        name = _field_name(tuple(error.get("loc", ())))
        reason = _PYDANTIC_MESSAGES.get(error.get("type", ""))
        if error.get("type") == "string_pattern_mismatch" and (error.get("ctx") or {}).get("pattern") == NO_NUL:
            reason = "文本中不能包含空字符（\\x00）"
        message = str(error.get("msg", "输入无效")).removeprefix("Value error, ") if reason is None else reason
        details.append({"field": name, "message": f"{name}：{message}"})
    return details


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return templates.TemplateResponse(request, "error.html", {"status": status, "message": message},
                                      status_code=status, headers=headers)


def _routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(prefix, route) of every route, into included routers (kept lazily by FastAPI)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        else:
            yield prefix, route


def _allowed_methods(app: Any, path: str) -> str:
    methods: set[str] = set()
    for prefix, route in _routes(app.router.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and path.startswith(prefix) and regex.match(path[len(prefix):]):
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def _back_to_console_page(request: Request, message: str) -> Response | None:
    """A console form error goes back to the page the clerk posted from, with the message on
    it, instead of a bare status page. None when there is no such page to go back to."""
    if request.method == "GET" or not request.url.path.startswith("/console/") or "session" not in request.scope:
        return None
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/console"):
        return None
    request.session[FLASH_KEY] = message[:500]
    target = referer.path + (f"?{referer.query}" if referer.query else "")
    return RedirectResponse(target, status_code=303)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if _wants_json(request):
            return JSONResponse(exc.as_dict(), status_code=exc.status_code)
        return _back_to_console_page(request, exc.message) or _page(request, exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = validation_details(exc)
        summary = "；".join(d["message"] for d in details)
        if _wants_json(request):
            body = {"error": f"输入有误：{summary}", "field": details[0]["field"] if details else "body",
                    "details": details}
            return JSONResponse(body, status_code=422)
        return _back_to_console_page(request, f"输入有误：{summary}") or _page(request, 422, f"输入有误：{summary}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "请求无法处理"
        if exc.status_code == 404 and message == "Not Found":
            message = "页面或资源不存在"
        elif exc.status_code == 405:
            message = "不支持此请求方法"
            # Starlette names only the first matching route's methods; name every route's.
            headers = {**(exc.headers or {}), "Allow": _allowed_methods(request.app, request.url.path)}
            exc = StarletteHTTPException(405, message, headers=headers)
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)
        return _page(request, exc.status_code, message, exc.headers)  # e.g. Allow on a 405

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/console/login?next={quote(exc.next_path, safe='')}", status_code=303)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        if _wants_json(request):
            return JSONResponse({"error": "服务器内部错误，已记录，请稍后重试"}, status_code=500)
        return _page(request, 500, "服务器内部错误，已记录，请稍后重试")
