"""Routers of the REST API that sit on the domain services (subscriptions, push, Q&A)."""

from __future__ import annotations

from fastapi import APIRouter


def api_routers() -> list[APIRouter]:
    from web.api import faqs, questions, reach, search, subscribers

    return [reach.router, subscribers.router, questions.router, search.router, faqs.router]
