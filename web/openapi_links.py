"""OpenAPI links between the REST API's operations: which response names the resource that later
operations act on (a created policy → reading, editing, submitting it; a created FAQ → reading,
changing, deleting it; …).

Clients read them to follow the API, and schemathesis' stateful phase uses them to chain calls
(create → use → delete → use again), which is what its `use_after_free`,
`ensure_resource_availability` and `object_level_authorization` checks need. They are added to
the schema FastAPI generates, by method and path, so route modules stay as they are; an entry
whose operation is missing from the schema fails at start-up instead of vanishing silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

_POLICY = "/api/policies/{policy_id}"


@dataclass(frozen=True)
class Link:
    """From a response of `source` to `target`: `parameters` maps each path parameter of the target
    to a runtime expression (`$response.body#/id`, `$request.path.hub_id`)."""

    source: tuple[str, str, str]  # method, path, status code
    name: str
    target: tuple[str, str]  # method, path
    parameters: tuple[tuple[str, str], ...]
    description: str


def _from(source: tuple[str, str, str], expression: str, parameter: str,
          targets: dict[str, tuple[str, str]], what: str) -> list[Link]:
    return [Link(source, name, target, ((parameter, expression),), f"{what}：{name}")
            for name, target in targets.items()]


_CREATED_POLICY = ("POST", "/api/policies", "201")
_CREATED_FAQ = ("POST", "/api/faqs", "201")
_CREATED_HUB = ("POST", "/api/hubs", "201")
_CREATED_ENTERPRISE = ("POST", "/api/enterprises", "201")

LINKS: tuple[Link, ...] = (
    *_from(_CREATED_POLICY, "$response.body#/id", "policy_id", {
        "GetPolicy": ("GET", _POLICY),
        "UpdateDraft": ("PUT", _POLICY),
        "SetInterpretation": ("PUT", f"{_POLICY}/interpretation"),
        "Submit": ("POST", f"{_POLICY}/submit"),
        "ListItems": ("GET", f"{_POLICY}/items"),
        "SetItems": ("PUT", f"{_POLICY}/items"),
        "Reach": ("GET", f"{_POLICY}/reach"),
    }, "新建的政策草稿"),
    Link(_CREATED_POLICY, "GetRevision", ("GET", f"{_POLICY}/revisions/{{number}}"),
         (("policy_id", "$response.body#/id"), ("number", "$response.body#/revision")), "新建草稿的当前修订"),
    *_from(("POST", f"{_POLICY}/submit", "200"), "$response.body#/id", "policy_id", {
        "Approve": ("POST", f"{_POLICY}/approve"),
        "Return": ("POST", f"{_POLICY}/return"),
    }, "提交审核的政策"),
    *_from(("POST", f"{_POLICY}/approve", "200"), "$response.body#/id", "policy_id", {
        "Publish": ("POST", f"{_POLICY}/publish"),
    }, "审核通过的政策"),
    *_from(("POST", f"{_POLICY}/publish", "200"), "$response.body#/id", "policy_id", {
        "GetPublished": ("GET", _POLICY),
        "Amend": ("POST", f"{_POLICY}/amend"),
        "Repeal": ("POST", f"{_POLICY}/repeal"),
        "CreatePosters": ("POST", f"{_POLICY}/posters"),
        "ListPosters": ("GET", f"{_POLICY}/posters"),
        "RelayFunnel": ("GET", f"{_POLICY}/relay"),
    }, "已发布的政策"),
    *_from(("POST", f"{_POLICY}/posters", "201"), "$response.body#/0/id", "poster_id", {
        "PosterPdf": ("GET", "/api/posters/{poster_id}.pdf"),
        "PosterPng": ("GET", "/api/posters/{poster_id}.png"),
    }, "新生成的第一张海报"),
    *_from(_CREATED_FAQ, "$response.body#/id", "faq_id", {
        "GetFaq": ("GET", "/api/faqs/{faq_id}"),
        "UpdateFaq": ("PUT", "/api/faqs/{faq_id}"),
        "DeleteFaq": ("DELETE", "/api/faqs/{faq_id}"),
    }, "新建的常见问题"),
    *_from(("DELETE", "/api/faqs/{faq_id}", "204"), "$request.path.faq_id", "faq_id", {
        "GetDeletedFaq": ("GET", "/api/faqs/{faq_id}"),
    }, "已删除的常见问题（应为 404）"),
    *_from(("POST", "/api/tokens", "201"), "$response.body#/details/id", "token_id", {
        "RevokeToken": ("DELETE", "/api/tokens/{token_id}"),
    }, "新建的令牌"),
    *_from(("POST", "/api/subscribers", "201"), "$response.body#/id", "subscriber_id", {
        "GetSubscriber": ("GET", "/api/subscribers/{subscriber_id}"),
    }, "新登记的居民"),
    *_from(_CREATED_HUB, "$response.body#/id", "hub_id", {
        "GetHub": ("GET", "/api/hubs/{hub_id}"),
        "AddHubContact": ("POST", "/api/hubs/{hub_id}/contacts"),
        "HubMembers": ("GET", "/api/hubs/{hub_id}/members"),
        "HubRelayTasks": ("GET", "/api/hubs/{hub_id}/relay-tasks"),
        "HubRelay": ("GET", "/api/hubs/{hub_id}/relay"),
    }, "新建的枢纽"),
    *_from(_CREATED_ENTERPRISE, "$response.body#/id", "enterprise_id", {
        "AddEnterpriseContact": ("POST", "/api/enterprises/{enterprise_id}/contacts"),
        "IssueInvite": ("POST", "/api/enterprises/{enterprise_id}/invites"),
    }, "新登记的企业"),
    *_from(("POST", "/api/hubs/{hub_id}/contacts", "201"), "$response.body#/id", "subscriber_id", {
        "GetHubContact": ("GET", "/api/subscribers/{subscriber_id}"),
    }, "枢纽新增的联络人"),
    *_from(("POST", "/api/enterprises/{enterprise_id}/contacts", "201"), "$response.body#/id", "subscriber_id", {
        "GetEnterpriseContact": ("GET", "/api/subscribers/{subscriber_id}"),
    }, "企业新增的联系人"),
    *_from(("GET", "/api/ask", "200"), "$response.body#/answer_id", "answer_id", {
        "Feedback": ("POST", "/api/answers/{answer_id}/feedback"),
    }, "这次回答"),
)


def add_links(schema: dict[str, Any], links: tuple[Link, ...] = LINKS) -> dict[str, Any]:
    """`schema` with `links` on the named responses (in place, and returned)."""
    paths = schema["paths"]
    for link in links:
        method, path, status = link.source
        target_method, target_path = link.target
        target = paths.get(target_path, {}).get(target_method.lower())
        response = paths.get(path, {}).get(method.lower(), {}).get("responses", {}).get(status)
        if response is None or target is None:
            raise LookupError(f"OpenAPI link {link.name}: {method} {path} → {status} or "
                              f"{target_method} {target_path} is not in the schema")
        response.setdefault("links", {})[link.name] = {
            "operationId": target["operationId"],
            "parameters": dict(link.parameters),
            "description": link.description,
        }
    return schema


def install(app: FastAPI) -> None:
    """Build the schema the way FastAPI does, then add the links; cached like FastAPI's own."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_links(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
