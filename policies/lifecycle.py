"""The life of a policy: draft → submitted → approved (at each review level) → published
→ amended (new revision) → expired | repealed. Each step records who and when; publishing,
amending, repealing and expiring write an outbox event in the same transaction, so the push
pipeline can never miss or double-handle a release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now, today_in_china
from core.errors import Conflict, Forbidden, ValidationFailed
from core.workdays import add_working_days
from policies import store
from policies.models import (
    EventKind,
    Interpretation,
    Policy,
    PolicyEvent,
    PolicyHistory,
    PolicyKind,
    PolicyRevision,
    PolicyStatus,
    ReviewAction,
)
from policies.publishable import interpretation_texts, personal_data_problems, refuse_personal_data, release_texts
from policies.text.tokenizer import get_tokenizer
from policies.validation import (
    AUDIENCES,
    KINDS,
    Problems,
    check_choice,
    check_dates,
    check_doc_no,
    check_interpretation_complete,
    check_text,
    clean_title,
    normalise_codes,
)

INTERPRETATION_DUE_WORKING_DAYS = 3


@dataclass
class InterpretationInput:
    elements: dict[str, str] = field(default_factory=dict)
    unit: str = ""
    phone: str = ""


@dataclass
class DraftInput:
    title: str
    body: str
    agency: str
    doc_no: str | None = None
    kind: str = PolicyKind.OTHER
    audience: str = "both"
    topics: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    eligibility: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    summary: str = ""
    benefits: str = ""
    who_qualifies: str = ""
    application_opens: date | None = None
    application_closes: date | None = None
    effective_date: date | None = None
    expiry_date: date | None = None
    issued_on: date | None = None
    source_url: str = ""
    urgent: bool = False
    interpretation: InterpretationInput | None = None


@dataclass
class AmendmentInput:
    body: str
    change_summary: str
    title: str | None = None
    expiry_date: date | None = None
    application_closes: date | None = None
    benefits: str | None = None
    who_qualifies: str | None = None
    summary: str | None = None


def _tokens(*parts: str) -> str:
    return " ".join(get_tokenizer().index_tokens("\n".join(p for p in parts if p)))


def _record(session: AsyncSession, policy: Policy, action: str, actor: str, detail: str = "") -> None:
    session.add(PolicyHistory(policy_id=policy.id, action=action, actor=actor, at=now(), detail=detail))


def _emit(session: AsyncSession, policy: Policy, kind: str) -> None:
    session.add(
        PolicyEvent(
            policy_id=policy.id, revision=policy.current_revision, kind=kind, urgent=policy.urgent, created_at=now()
        )
    )


def _validated_fields(data: DraftInput, problems: Problems) -> dict[str, object]:
    check_text(clean_title(data.title), data.body, data.agency, problems)
    check_choice(data.kind, KINDS, "kind", "文件类型", problems)
    check_choice(data.audience, AUDIENCES, "audience", "面向对象", problems)
    check_dates(
        effective=data.effective_date,
        expiry=data.expiry_date,
        opens=data.application_opens,
        closes=data.application_closes,
        problems=problems,
    )
    doc_no = check_doc_no(data.doc_no, problems)
    return {
        "title": clean_title(data.title),
        "agency": data.agency.strip(),
        "doc_no": doc_no.normalized if doc_no else None,
        "doc_issuer": doc_no.issuer if doc_no else None,
        "doc_year": doc_no.year if doc_no else (data.issued_on.year if data.issued_on else None),
        "doc_serial": doc_no.serial if doc_no else None,
        "kind": data.kind,
        "audience": data.audience,
        "topics": normalise_codes(data.topics, "topics", problems),
        "regions": normalise_codes(data.regions, "regions", problems),
        "industries": normalise_codes(data.industries, "industries", problems),
        "eligibility": normalise_codes(data.eligibility, "eligibility", problems),
        "keywords": [k.strip() for k in data.keywords if k.strip()],
        "summary": data.summary,
        "benefits": data.benefits,
        "who_qualifies": data.who_qualifies,
        "application_opens": data.application_opens,
        "application_closes": data.application_closes,
        "effective_date": data.effective_date,
        "expiry_date": data.expiry_date,
        "issued_on": data.issued_on,
        "source_url": data.source_url,
        "urgent": data.urgent,
    }


async def _ensure_doc_no_free(session: AsyncSession, doc_no: str | None, policy_id: int | None) -> None:
    if not doc_no:
        return
    existing = await store.policy_by_doc_no(session, doc_no)
    if existing is not None and existing.id != policy_id:
        raise Conflict(f"文号 {doc_no} 已被政策 {existing.id}《{existing.title}》使用", field="doc_no")


def _set_interpretation(
    session: AsyncSession, policy: Policy, current: Interpretation | None, data: InterpretationInput
) -> Interpretation:
    elements = {k: v for k, v in data.elements.items() if isinstance(v, str)}
    tokens = _tokens(*elements.values())
    if current is None:
        current = Interpretation(
            policy_id=policy.id, elements=elements, unit=data.unit, phone=data.phone, tokens=tokens, updated_at=now()
        )
        session.add(current)
    else:
        current.elements = elements
        current.unit = data.unit
        current.phone = data.phone
        current.tokens = tokens
        current.updated_at = now()
    return current


async def create_draft(session: AsyncSession, data: DraftInput, actor: str) -> Policy:
    problems = Problems()
    values = _validated_fields(data, problems)
    problems.raise_if_any()
    await _ensure_doc_no_free(session, values["doc_no"], None)  # type: ignore[arg-type]
    at = now()
    policy = Policy(
        **values,
        status=PolicyStatus.DRAFT,
        created_by=actor,
        created_at=at,
        updated_at=at,
        current_revision=1,
        approvals=0,
    )
    session.add(policy)
    await session.flush()
    session.add(
        PolicyRevision(
            policy_id=policy.id,
            number=1,
            title=policy.title,
            body=data.body,
            change_summary="首次起草",
            tokens=_tokens(policy.title, data.body),
            created_by=actor,
            created_at=at,
        )
    )
    if data.interpretation is not None:
        _set_interpretation(session, policy, None, data.interpretation)
    _record(session, policy, "create", actor)
    await session.flush()
    return policy


async def update_draft(session: AsyncSession, policy_id: int, data: DraftInput, actor: str) -> Policy:
    policy = await store.policy_for_update(session, policy_id)
    if policy.status != PolicyStatus.DRAFT:
        raise Conflict("只有草稿可以修改；已提交的请先退回，已发布的请使用“修订”", field="status")
    problems = Problems()
    values = _validated_fields(data, problems)
    problems.raise_if_any()
    await _ensure_doc_no_free(session, values["doc_no"], policy.id)  # type: ignore[arg-type]
    for name, value in values.items():
        setattr(policy, name, value)
    policy.updated_at = now()
    draft = await store.revision(session, policy.id, policy.current_revision)
    draft.title = policy.title
    draft.body = data.body
    draft.tokens = _tokens(policy.title, data.body)
    if data.interpretation is not None:
        _set_interpretation(session, policy, await store.interpretation(session, policy.id), data.interpretation)
    _record(session, policy, "update", actor)
    return policy


async def set_interpretation(
    session: AsyncSession, policy_id: int, data: InterpretationInput, actor: str
) -> Interpretation:
    """Adds or replaces the interpretation; once the policy is published it counts as published."""
    policy = await store.policy_for_update(session, policy_id)
    if policy.status in PolicyStatus.RELEASED:  # published the moment it is saved
        refuse_personal_data(interpretation_texts(data.elements, data.unit))
    current = await store.interpretation(session, policy.id)
    interpretation = _set_interpretation(session, policy, current, data)
    if policy.status in PolicyStatus.RELEASED and interpretation.published_at is None:
        interpretation.published_at = now()
    _record(session, policy, "interpret", actor)
    return interpretation


async def submit(session: AsyncSession, policy_id: int, actor: str) -> Policy:
    """Refuses a draft that could not be published once approved (missing interpretation
    elements, personal data), so no policy can be approved into a dead end."""
    policy = await store.policy_for_update(session, policy_id)
    if policy.status != PolicyStatus.DRAFT:
        raise Conflict("只有草稿可以提交审核", field="status")
    await check_publishable(session, policy)
    policy.status = PolicyStatus.SUBMITTED
    policy.approvals = 0
    policy.submitted_at = policy.updated_at = now()
    _record(session, policy, "submit", actor)
    return policy


async def approve(
    session: AsyncSession, policy_id: int, reviewer: str, comment: str = "", *, review_levels: int
) -> Policy:
    """One review level passed; the draft is approved once `review_levels` (REVIEW_LEVELS) have passed."""
    policy = await store.policy_for_update(session, policy_id)
    if policy.status != PolicyStatus.SUBMITTED:
        raise Conflict("只有待审核的政策可以审核通过", field="status")
    if reviewer == policy.created_by:
        raise Forbidden("起草人不能审核自己起草的政策", field="reviewer")
    earlier = {
        r.reviewer
        for r in await store.reviews(session, policy.id)
        if r.action == "approve" and policy.submitted_at and r.at >= policy.submitted_at
    }
    if reviewer in earlier:
        raise Forbidden("同一审核人不能重复审核同一稿件的不同级别", field="reviewer")
    policy.approvals += 1
    session.add(
        ReviewAction(
            policy_id=policy.id, level=policy.approvals, reviewer=reviewer, action="approve", comment=comment, at=now()
        )
    )
    if policy.approvals >= review_levels:
        policy.status = PolicyStatus.APPROVED
    policy.updated_at = now()
    _record(session, policy, "approve", reviewer, f"第{policy.approvals}级审核通过")
    return policy


async def return_draft(session: AsyncSession, policy_id: int, reviewer: str, comment: str) -> Policy:
    policy = await store.policy_for_update(session, policy_id)
    if policy.status not in (PolicyStatus.SUBMITTED, PolicyStatus.APPROVED):
        raise Conflict("只有待审核或已审核的政策可以退回", field="status")
    if not comment.strip():
        raise ValidationFailed("退回时请填写退回意见", field="comment")
    session.add(
        ReviewAction(
            policy_id=policy.id,
            level=policy.approvals + 1,
            reviewer=reviewer,
            action="return",
            comment=comment,
            at=now(),
        )
    )
    policy.status = PolicyStatus.DRAFT
    policy.approvals = 0
    policy.updated_at = now()
    _record(session, policy, "return", reviewer, comment)
    return policy


async def withdraw(session: AsyncSession, policy_id: int, actor: str, reason: str) -> Policy:
    """The author's way back: a submitted or approved (not yet published) policy returns to
    draft, with the reason kept in its history."""
    policy = await store.policy_for_update(session, policy_id)
    if policy.status not in (PolicyStatus.SUBMITTED, PolicyStatus.APPROVED):
        raise Conflict("只有待审核或已审核待发布的政策可以撤回", field="status")
    if not reason.strip():
        raise ValidationFailed("撤回时请填写撤回原因", field="reason")
    policy.status = PolicyStatus.DRAFT
    policy.approvals = 0
    policy.updated_at = now()
    _record(session, policy, "withdraw", actor, reason.strip())
    return policy


async def check_publishable(session: AsyncSession, policy: Policy) -> None:
    """Everything publishing requires of the content, all problems at once, each naming its field."""
    draft = await store.revision(session, policy.id, policy.current_revision)
    problems = Problems()
    await _collect_personal_data(session, policy, draft.body, problems)
    await _collect_interpretation_gaps(session, policy, problems)
    problems.raise_if_any()


async def _refuse_personal_data(session: AsyncSession, policy: Policy, body: str) -> None:
    problems = Problems()
    await _collect_personal_data(session, policy, body, problems)
    problems.raise_if_any()


async def _collect_personal_data(session: AsyncSession, policy: Policy, body: str, problems: Problems) -> None:
    interpretation = await store.interpretation(session, policy.id)
    personal_data_problems(release_texts(policy, body, interpretation), problems)


async def _collect_interpretation_gaps(session: AsyncSession, policy: Policy, problems: Problems) -> None:
    if policy.kind != PolicyKind.NORMATIVE:
        return
    interpretation = await store.interpretation(session, policy.id)
    if interpretation is None:
        problems.add("interpretation", "规范性文件必须附政策解读后才能发布")
    else:
        check_interpretation_complete(interpretation.elements, interpretation.unit, interpretation.phone, problems)


async def _require_interpretation(session: AsyncSession, policy: Policy) -> Interpretation | None:
    problems = Problems()
    await _collect_interpretation_gaps(session, policy, problems)
    problems.raise_if_any()
    return await store.interpretation(session, policy.id)


async def publish(session: AsyncSession, policy_id: int, actor: str) -> Policy:
    policy = await store.policy_for_update(session, policy_id)
    if policy.status != PolicyStatus.APPROVED:
        raise Conflict("政策须经审核通过后才能发布", field="status")
    draft = await store.revision(session, policy.id, policy.current_revision)
    await _refuse_personal_data(session, policy, draft.body)
    interpretation = await _require_interpretation(session, policy)
    at = now()
    policy.status = PolicyStatus.PUBLISHED
    policy.published_at = policy.updated_at = at
    draft.published_at = at
    if interpretation is None:
        interpretation = Interpretation(policy_id=policy.id, elements={}, updated_at=at)
        session.add(interpretation)
    else:
        interpretation.published_at = at
    interpretation.due_on = add_working_days(today_in_china(at), INTERPRETATION_DUE_WORKING_DAYS)
    _emit(session, policy, EventKind.PUBLISHED)
    _record(session, policy, "publish", actor)
    return policy


async def amend(session: AsyncSession, policy_id: int, data: AmendmentInput, actor: str) -> Policy:
    policy = await store.policy_for_update(session, policy_id)
    if policy.status != PolicyStatus.PUBLISHED:
        raise Conflict("只有有效（已发布）的政策可以修订", field="status")
    problems = Problems()
    if not data.change_summary.strip():
        problems.add("change_summary", "请说明本次修订改了什么")
    title = clean_title(data.title or policy.title)
    check_text(title, data.body, policy.agency, problems)
    check_dates(
        effective=policy.effective_date,
        expiry=data.expiry_date or policy.expiry_date,
        opens=policy.application_opens,
        closes=data.application_closes or policy.application_closes,
        problems=problems,
    )
    problems.raise_if_any()
    # An amendment is published and pushed at once: every text it changes or shows is checked.
    personal_data_problems(
        {
            "title": title,
            "body": data.body,
            "change_summary": data.change_summary,
            "summary": data.summary if data.summary is not None else policy.summary,
            "benefits": data.benefits if data.benefits is not None else policy.benefits,
            "who_qualifies": data.who_qualifies if data.who_qualifies is not None else policy.who_qualifies,
        },
        problems,
    )
    problems.raise_if_any()
    at = now()
    policy.current_revision += 1
    policy.title = title
    for name in ("expiry_date", "application_closes", "benefits", "who_qualifies", "summary"):
        value = getattr(data, name)
        if value is not None:
            setattr(policy, name, value)
    policy.updated_at = at
    session.add(
        PolicyRevision(
            policy_id=policy.id,
            number=policy.current_revision,
            title=title,
            body=data.body,
            change_summary=data.change_summary.strip(),
            tokens=_tokens(title, data.body),
            created_by=actor,
            created_at=at,
            published_at=at,
        )
    )
    _emit(session, policy, EventKind.AMENDED)
    _record(session, policy, "amend", actor, data.change_summary)
    return policy


async def repeal(session: AsyncSession, policy_id: int, reason: str, actor: str) -> Policy:
    policy = await store.policy_for_update(session, policy_id)
    if policy.status not in (PolicyStatus.PUBLISHED, PolicyStatus.EXPIRED):
        raise Conflict("只有已发布或已失效的政策可以废止", field="status")
    if not reason.strip():
        raise ValidationFailed("废止时请填写废止理由", field="reason")
    refuse_personal_data({"reason": reason})  # shown on the public page and pushed
    policy.status = PolicyStatus.REPEALED
    policy.repealed_at = policy.updated_at = now()
    policy.repeal_reason = reason.strip()
    _emit(session, policy, EventKind.REPEALED)
    _record(session, policy, "repeal", actor, reason)
    return policy


async def expire_due(session: AsyncSession, today: date | None = None) -> list[int]:
    """Marks every published policy whose expiry date has passed as expired. Idempotent."""
    day = today or today_in_china()
    stmt = select(Policy).where(Policy.status == PolicyStatus.PUBLISHED, Policy.expiry_date < day)
    expired: list[int] = []
    for policy in (await session.execute(stmt)).scalars().all():
        policy.status = PolicyStatus.EXPIRED
        policy.expired_at = policy.updated_at = now()
        _emit(session, policy, EventKind.EXPIRED)
        _record(session, policy, "expire", "system", f"失效日期 {policy.expiry_date}")
        expired.append(policy.id)
    return expired
