"""Routes are registered one way: each area's module has an APIRouter named `router`, and the
app factory (`web.app`) includes every one of them, in one place."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

from fastapi import APIRouter

import web
from web.app import ROUTERS

WEB_DIR = Path(web.__file__).resolve().parent


def _web_modules() -> list[str]:
    return [info.name for info in pkgutil.walk_packages([str(WEB_DIR)], prefix="web.")
            if ".migrations" not in info.name]


def test_every_router_in_web_is_mounted_by_the_app_factory() -> None:
    routers = {name: vars(importlib.import_module(name)).get("router") for name in _web_modules()}
    found = {name: router for name, router in routers.items() if isinstance(router, APIRouter)}
    assert found, "no router found: the walk is broken"
    assert [name for name, router in found.items() if router not in ROUTERS] == []
    assert len(set(map(id, ROUTERS))) == len(ROUTERS) == len(found)


def test_only_the_app_factory_includes_routers() -> None:
    offenders = []
    for path in WEB_DIR.rglob("*.py"):
        if path.name == "app.py" and path.parent == WEB_DIR:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("include_router", "add_api_route", "mount"):
                offenders.append(f"{path.relative_to(WEB_DIR)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "app" \
                    and node.attr in ("get", "post", "put", "delete", "patch", "api_route"):
                offenders.append(f"{path.relative_to(WEB_DIR)}:{node.lineno}")
    assert offenders == []
