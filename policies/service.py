"""The only door into the policy library for other packages (and for web/bot handlers).

Functions take an `AsyncSession` (the caller's unit of work) and return read models from
`policies.views`, never ORM rows. Besides the lifecycle below, the door re-exports what the
upper layers call of the library's parts (items, Q&A, search, text, PII guard, importer);
those load on first use (see `core.lazy_exports`): importing the door must not start the
Q&A engine or the calculator's numpy for a caller that only reads a policy.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from core.lazy_exports import lazy_attributes
from policies import lifecycle, store
from policies.lifecycle import AmendmentInput, DraftInput, InterpretationInput
from policies.models import Interpretation, Policy, PolicyRevision
from policies.read_models import HistoryEntry, InterpretationView, PolicyEventView, PolicyView, RevisionView

if TYPE_CHECKING:
    from policies.importer import draft_from_mapping
    from policies.items import service as items
    from policies.items.cards import as_json, cards, how_to_get
    from policies.items.catalogue_cache import CatalogueCache
    from policies.items.conditions import allowed_codes
    from policies.items.evaluate import check_conditions, item_outcome
    from policies.items.extract import suggest_items
    from policies.items.views import item_payload, yuan_text
    from policies.items.vocabulary import (
        allowed_options,
        name_of,
        person_group_codes,
        qualification_codes,
        section_codes,
        township_codes,
    )
    from policies.pii import find_pii, mask_pii
    from policies.publishable import release_texts
    from policies.qa import faq
    from policies.qa import service as qa
    from policies.qa.engine import QaEngine
    from policies.qa.follower import IndexFollower, current_cursor
    from policies.search import word_lists
    from policies.search.normalize import normalize_query
    from policies.text.docno import find_doc_nos
    from policies.text.suggest import suggest_tags
    from policies.text.tokenizer import get_tokenizer
    from policies.validation import normalise_codes

__all__ = [
    "AmendmentInput",
    "CatalogueCache",
    "DraftInput",
    "IndexFollower",
    "InterpretationInput",
    "QaEngine",
    "allowed_codes",
    "allowed_options",
    "amend",
    "approve",
    "as_json",
    "cards",
    "check_conditions",
    "create_draft",
    "current_cursor",
    "draft_from_mapping",
    "events_after",
    "expire_due",
    "faq",
    "find_doc_nos",
    "find_pii",
    "get_interpretation",
    "get_policy",
    "get_revision",
    "get_tokenizer",
    "history",
    "how_to_get",
    "item_outcome",
    "item_payload",
    "items",
    "list_policies",
    "list_revisions",
    "mask_pii",
    "name_of",
    "normalise_codes",
    "normalize_query",
    "person_group_codes",
    "publish",
    "qa",
    "qualification_codes",
    "release_texts",
    "repeal",
    "return_draft",
    "section_codes",
    "set_interpretation",
    "submit",
    "suggest_items",
    "suggest_tags",
    "township_codes",
    "update_draft",
    "withdraw",
    "word_lists",
    "yuan_text",
]

_LAZY: dict[str, tuple[str, str | None]] = {
    "draft_from_mapping": ("policies.importer", "draft_from_mapping"),
    "as_json": ("policies.items.cards", "as_json"),
    "cards": ("policies.items.cards", "cards"),
    "how_to_get": ("policies.items.cards", "how_to_get"),
    "CatalogueCache": ("policies.items.catalogue_cache", "CatalogueCache"),
    "allowed_codes": ("policies.items.conditions", "allowed_codes"),
    "check_conditions": ("policies.items.evaluate", "check_conditions"),
    "item_outcome": ("policies.items.evaluate", "item_outcome"),
    "suggest_items": ("policies.items.extract", "suggest_items"),
    "item_payload": ("policies.items.views", "item_payload"),
    "yuan_text": ("policies.items.views", "yuan_text"),
    "allowed_options": ("policies.items.vocabulary", "allowed_options"),
    "name_of": ("policies.items.vocabulary", "name_of"),
    "person_group_codes": ("policies.items.vocabulary", "person_group_codes"),
    "qualification_codes": ("policies.items.vocabulary", "qualification_codes"),
    "section_codes": ("policies.items.vocabulary", "section_codes"),
    "township_codes": ("policies.items.vocabulary", "township_codes"),
    "find_pii": ("policies.pii", "find_pii"),
    "mask_pii": ("policies.pii", "mask_pii"),
    "release_texts": ("policies.publishable", "release_texts"),
    "QaEngine": ("policies.qa.engine", "QaEngine"),
    "IndexFollower": ("policies.qa.follower", "IndexFollower"),
    "current_cursor": ("policies.qa.follower", "current_cursor"),
    "normalize_query": ("policies.search.normalize", "normalize_query"),
    "find_doc_nos": ("policies.text.docno", "find_doc_nos"),
    "suggest_tags": ("policies.text.suggest", "suggest_tags"),
    "get_tokenizer": ("policies.text.tokenizer", "get_tokenizer"),
    "normalise_codes": ("policies.validation", "normalise_codes"),
    "faq": ("policies.qa.faq", None),
    "items": ("policies.items.service", None),
    "qa": ("policies.qa.service", None),
    "word_lists": ("policies.search.word_lists", None),
}

__getattr__ = lazy_attributes(__name__, _LAZY)


def policy_view(policy: Policy, tokens: str = "") -> PolicyView:
    return PolicyView(
        id=policy.id,
        title=policy.title,
        doc_no=policy.doc_no,
        agency=policy.agency,
        kind=policy.kind,
        audience=policy.audience,
        topics=tuple(policy.topics or ()),
        regions=tuple(policy.regions or ()),
        industries=tuple(policy.industries or ()),
        eligibility=tuple(policy.eligibility or ()),
        keywords=tuple(policy.keywords or ()),
        summary=policy.summary,
        benefits=policy.benefits,
        who_qualifies=policy.who_qualifies,
        application_opens=policy.application_opens,
        application_closes=policy.application_closes,
        effective_date=policy.effective_date,
        expiry_date=policy.expiry_date,
        issued_on=policy.issued_on,
        status=policy.status,
        urgent=policy.urgent,
        revision=policy.current_revision,
        published_at=policy.published_at,
        created_by=policy.created_by,
        source_url=policy.source_url,
        approvals=policy.approvals,
        tokens=frozenset(tokens.split()),
    )


def revision_view(revision: PolicyRevision) -> RevisionView:
    return RevisionView(
        policy_id=revision.policy_id,
        number=revision.number,
        title=revision.title,
        body=revision.body,
        change_summary=revision.change_summary,
        created_at=revision.created_at,
        published_at=revision.published_at,
    )


def interpretation_view(item: Interpretation) -> InterpretationView:
    return InterpretationView(
        policy_id=item.policy_id,
        elements=dict(item.elements or {}),
        unit=item.unit,
        phone=item.phone,
        due_on=item.due_on,
        published_at=item.published_at,
    )


async def _view_with_tokens(session: AsyncSession, policy: Policy) -> PolicyView:
    revision = await store.revision(session, policy.id, policy.current_revision)
    interpretation = await store.interpretation(session, policy.id)
    keyword_tokens = " ".join(policy.keywords or ())
    tokens = " ".join(filter(None, [revision.tokens, interpretation.tokens if interpretation else "", keyword_tokens]))
    return policy_view(policy, tokens)


async def get_policy(session: AsyncSession, policy_id: int) -> PolicyView:
    """The policy's current state with the search tokens of its current revision.

    Raises core.errors.NotFound."""
    return await _view_with_tokens(session, await store.policy_by_id(session, policy_id))


async def get_revision(session: AsyncSession, policy_id: int, number: int | None = None) -> RevisionView:
    if number is None:
        number = (await store.policy_by_id(session, policy_id)).current_revision
    return revision_view(await store.revision(session, policy_id, number))


async def list_revisions(session: AsyncSession, policy_id: int) -> list[RevisionView]:
    return [revision_view(r) for r in await store.revisions(session, policy_id)]


async def get_interpretation(session: AsyncSession, policy_id: int) -> InterpretationView | None:
    found = await store.interpretation(session, policy_id)
    return interpretation_view(found) if found else None


async def events_after(session: AsyncSession, after_id: int, limit: int = 100) -> list[PolicyEventView]:
    """Outbox events with id > after_id, oldest first. Consumers keep their own cursor."""
    return [
        PolicyEventView(
            id=e.id, policy_id=e.policy_id, revision=e.revision, kind=e.kind, urgent=e.urgent, created_at=e.created_at
        )
        for e in await store.events_after(session, after_id, limit)
    ]


async def list_policies(session: AsyncSession, **filters: object) -> tuple[list[PolicyView], int]:
    rows, total = await store.list_policies(session, **filters)  # type: ignore[arg-type]
    return [policy_view(p) for p in rows], total


async def create_draft(session: AsyncSession, data: DraftInput, actor: str) -> PolicyView:
    return await _view_with_tokens(session, await lifecycle.create_draft(session, data, actor))


async def update_draft(session: AsyncSession, policy_id: int, data: DraftInput, actor: str) -> PolicyView:
    return await _view_with_tokens(session, await lifecycle.update_draft(session, policy_id, data, actor))


async def set_interpretation(
    session: AsyncSession, policy_id: int, data: InterpretationInput, actor: str
) -> InterpretationView:
    return interpretation_view(await lifecycle.set_interpretation(session, policy_id, data, actor))


async def submit(session: AsyncSession, policy_id: int, actor: str) -> PolicyView:
    return policy_view(await lifecycle.submit(session, policy_id, actor))


async def approve(
    session: AsyncSession, policy_id: int, reviewer: str, comment: str = "", *, review_levels: int = 1
) -> PolicyView:
    """`review_levels` is the caller's `Settings.review_levels` (REVIEW_LEVELS); 1, its default,
    approves at the first review."""
    return policy_view(await lifecycle.approve(session, policy_id, reviewer, comment, review_levels=review_levels))


async def return_draft(session: AsyncSession, policy_id: int, reviewer: str, comment: str) -> PolicyView:
    return policy_view(await lifecycle.return_draft(session, policy_id, reviewer, comment))


async def withdraw(session: AsyncSession, policy_id: int, actor: str, reason: str) -> PolicyView:
    return policy_view(await lifecycle.withdraw(session, policy_id, actor, reason))


async def publish(session: AsyncSession, policy_id: int, actor: str) -> PolicyView:
    return await _view_with_tokens(session, await lifecycle.publish(session, policy_id, actor))


async def amend(session: AsyncSession, policy_id: int, data: AmendmentInput, actor: str) -> PolicyView:
    return await _view_with_tokens(session, await lifecycle.amend(session, policy_id, data, actor))


async def repeal(session: AsyncSession, policy_id: int, reason: str, actor: str) -> PolicyView:
    return await _view_with_tokens(session, await lifecycle.repeal(session, policy_id, reason, actor))


async def expire_due(session: AsyncSession, today: date | None = None) -> list[int]:
    return await lifecycle.expire_due(session, today)


async def history(session: AsyncSession, policy_id: int) -> list[HistoryEntry]:
    """Who did what to the policy and when, oldest first (the policy's audit trail)."""
    return [
        HistoryEntry(action=h.action, actor=h.actor, at=h.at, detail=h.detail)
        for h in await store.history(session, policy_id)
    ]
