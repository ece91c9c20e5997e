"""Pieces every API module uses: pagination, the error body, and storable query text."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query, Request
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, Field

from web.api.fields import MAX_ID, NO_NUL, _storable

T = TypeVar("T")

PolicyId = Annotated[int, Path(ge=1, le=MAX_ID, description="政策编号")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="跳过的条数")]
Limit = Annotated[int, Query(ge=1, le=200, description="每页条数（最多 200）")]
QueryText = Annotated[str | None, Query(max_length=200, pattern=NO_NUL),
                     AfterValidator(lambda v: v if v is None else _storable(v))]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="符合条件的总条数")
    offset: int
    limit: int


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    error: str = Field(description="可直接展示给用户的中文说明", examples=["标题不能为空"])
    field: str | None = Field(None, description="出错的字段", examples=["title"])
    details: list[ErrorDetail] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "请求无法解析（如不是有效的 JSON 或表单）"},
    401: {"model": ErrorBody, "description": "缺少或无效的 API 令牌"},
    403: {"model": ErrorBody, "description": "无权进行此操作（未做任何修改）"},
    404: {"model": ErrorBody, "description": "不存在"},
    409: {"model": ErrorBody, "description": "与当前状态冲突"},
    413: {"model": ErrorBody, "description": "请求体过大"},
    422: {"model": ErrorBody, "description": "输入有误，field 指明字段（含格式之外的业务规则，如日期先后）"},
    429: {"model": ErrorBody, "description": "请求过于频繁，请稍后再试"},
}


_DECLARED: dict[int, frozenset[str]] = {}


def _declared_params(route: object) -> frozenset[str]:
    """Names of the parameters an operation declares (path, query, header, cookie; a route never changes)."""
    key = id(route)
    if key not in _DECLARED:
        dependant = getattr(route, "dependant", None)
        _DECLARED[key] = frozenset(p.alias for p in get_flat_params(dependant)) if dependant else frozenset()
    return _DECLARED[key]


async def known_query_only(request: Request) -> None:
    """Refuse query parameters the operation does not declare (422): a misspelt filter such as
    `?agnecy=` would otherwise be ignored silently and answer with everything."""
    route = request.scope.get("route")
    if route is None or not request.query_params or not request.url.path.startswith("/api/"):
        return
    unknown = sorted(set(request.query_params.keys()) - _declared_params(route))
    if unknown:
        raise RequestValidationError([{"type": "extra_forbidden", "loc": ("query", name or "(空)"),
                                       "msg": "不认识的查询参数", "input": request.query_params.get(name)}
                                      for name in unknown])
