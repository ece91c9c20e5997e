"""Routes that sit on services other engineers are still building (subscriptions, push).
Each is included only once its service module exists, so the API never offers a route that
can only fail. Q&A (ask, search, FAQ) is always there."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from fastapi import APIRouter


def service(name: str) -> ModuleType | None:
    """The module when it is importable, else None."""
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:
        return None
    return importlib.import_module(name)


def provides(name: str, *functions: str) -> ModuleType | None:
    """The module when it exists and has every one of `functions`, else None."""
    module = service(name)
    if module is None or not all(callable(getattr(module, f, None)) for f in functions):
        return None
    return module


def api_routers() -> list[APIRouter]:
    routers: list[APIRouter] = []
    if provides("push.service", "reach"):
        from web.api import reach

        routers.append(reach.router)
    if provides("subscriptions.service", "create_resident", "create_hub", "import_subscribers"):
        from web.api import subscribers

        routers.append(subscribers.router)
    from web.api import faqs, questions, search

    routers += [questions.router, search.router, faqs.router]
    return routers
