"""The audience dry run shown before publishing (`subscriptions.service.dry_run`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.db import Database
from policies.service import get_tokenizer, normalise_codes
from policies.views import PolicyView, Problems
from subscriptions import service as subscriptions
from vocabulary import taxonomy
from vocabulary.labels import label
from web.console.forms import DraftForm


@dataclass(frozen=True)
class AudiencePreview:
    available: bool
    total: int = 0  # distinct contacts
    recipients: int = 0  # (contact, address) pairs: messages that would be sent
    relayers: int = 0  # hub contacts asked to relay to their members
    by_channel: dict[str, int] = field(default_factory=dict)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    townships: list[tuple[str, int]] = field(default_factory=list)
    excluded_because: str = ""
    raw: Any = None
    why_empty: str = ""  # when nobody would receive it: which choices leave nobody, in words


async def preview(db: Database, policy: PolicyView) -> AudiencePreview:
    async with db.reader() as session:
        result = await subscriptions.dry_run(session, policy)
    return AudiencePreview(
        available=True,
        total=result.subscribers,
        recipients=result.recipients,
        relayers=result.relayers,
        by_channel=dict(result.by_channel),
        reasons=sorted(result.by_reason.items(), key=lambda kv: -kv[1]),
        townships=sorted(result.by_township.items(), key=lambda kv: -kv[1]),
        excluded_because=result.excluded_because,
        raw=result,
        why_empty="" if result.subscribers else _why_empty(policy, result.excluded_because),
    )


def _why_empty(policy: PolicyView, excluded: str) -> str:
    if excluded:
        return excluded
    chosen = [
        (label_of, [n for code in codes if (n := name(code))])
        for label_of, codes, name in (
            ("行业", policy.industries, lambda c: getattr(taxonomy.industry_by_code(c), "name", "")),
            ("乡镇", policy.regions, lambda c: getattr(taxonomy.region_by_code(c), "name", "")),
            ("享受条件", policy.eligibility, lambda c: getattr(taxonomy.eligibility_by_code(c), "name", "")),
            ("主题", policy.topics, lambda c: getattr(taxonomy.topic_by_code(c), "name", "")),
        )
    ]
    named = "；".join(f"{kind}：{'、'.join(names)}" for kind, names in chosen if names)
    audience = label("audience", policy.audience)
    if named:
        return f"目前还没有面向{audience}、符合所选条件（{named}）的订阅者或园区/协会会员"
    return f"目前还没有订阅这些主题的{audience}，也没有画像相符的企业或居民"


async def draft_preview(db: Database, form: DraftForm, agency: str) -> AudiencePreview:
    """The dry run for a draft as it stands on the form, saved or not."""
    return await preview(db, _policy_of_form(form, agency))


def _policy_of_form(form: DraftForm, agency: str) -> PolicyView:
    values, lists = form.values, form.lists
    problems = Problems()
    closes = _date_or_none(values.get("application_closes", ""))
    text = "\n".join(values.get(name, "") for name in ("title", "body", "summary", "benefits", "who_qualifies"))
    return PolicyView(
        id=0, title=values.get("title", ""), doc_no=None, agency=agency, kind=values.get("kind") or "other",
        audience=values.get("audience") or "both",
        topics=tuple(normalise_codes(lists.get("topics", []), "topics", problems)),
        regions=tuple(normalise_codes(lists.get("regions", []), "regions", problems)),
        industries=tuple(normalise_codes(lists.get("industries", []), "industries", problems)),
        eligibility=tuple(normalise_codes(lists.get("eligibility", []), "eligibility", problems)),
        keywords=tuple(k for k in re.split(r"[，,、；;\s]+", values.get("keywords", "")) if k),
        summary="", benefits="", who_qualifies="", application_opens=None, application_closes=closes,
        effective_date=None, expiry_date=None, issued_on=None, status="draft", urgent=form.urgent, revision=1,
        published_at=None, created_by="", tokens=frozenset(get_tokenizer().index_tokens(text)),
    )


def _date_or_none(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None
