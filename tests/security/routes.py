"""Every HTTP route of the app, flattened: FastAPI (0.16x) keeps included routers as lazy
`_IncludedRouter` entries in `app.routes`; this walks into them so a test sees each route
with its full path, however it was mounted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route


@dataclass(frozen=True)
class HttpRoute:
    path: str
    methods: frozenset[str]
    route: BaseRoute

    @property
    def query_params(self) -> list[str]:
        return [p.alias for p in self.route.dependant.query_params] if isinstance(self.route, APIRoute) else []

    @property
    def in_schema(self) -> bool:
        return isinstance(self.route, APIRoute) and self.route.include_in_schema


def _walk(routes: Iterable[Any], prefix: str) -> Iterator[HttpRoute]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, Route) and not isinstance(route, Mount):
            yield HttpRoute(prefix + route.path, frozenset(route.methods or ()) - {"HEAD"}, route)


def http_routes(app: FastAPI) -> list[HttpRoute]:
    return list(_walk(app.routes, ""))
