"""Read models of the policy library itself (policies, revisions, interpretations, history, outbox
events); other packages receive them through `policies.views`, never from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from policies.models import PolicyStatus
from vocabulary.labels import labels

VALIDITY_LABELS = labels("status")


@dataclass(frozen=True)
class PolicyView:
    id: int
    title: str
    doc_no: str | None
    agency: str
    kind: str
    audience: str
    topics: tuple[str, ...]
    regions: tuple[str, ...]
    industries: tuple[str, ...]
    eligibility: tuple[str, ...]
    keywords: tuple[str, ...]
    summary: str
    benefits: str
    who_qualifies: str
    application_opens: date | None
    application_closes: date | None
    effective_date: date | None
    expiry_date: date | None
    issued_on: date | None
    status: str
    urgent: bool
    revision: int
    published_at: datetime | None
    created_by: str
    source_url: str = ""
    approvals: int = 0  # review levels passed since the last submission
    # Search-mode tokens of the current revision (title + body + interpretation);
    # subscription keywords are matched against these, not raw substrings.
    tokens: frozenset[str] = field(default_factory=frozenset)

    @property
    def validity_label(self) -> str:
        return VALIDITY_LABELS.get(self.status, self.status)

    @property
    def is_valid(self) -> bool:
        return self.status == PolicyStatus.PUBLISHED

    @property
    def page_path(self) -> str:
        return f"/p/{self.id}"


@dataclass(frozen=True)
class RevisionView:
    policy_id: int
    number: int
    title: str
    body: str
    change_summary: str
    created_at: datetime
    published_at: datetime | None


@dataclass(frozen=True)
class InterpretationView:
    policy_id: int
    elements: dict[str, str]
    unit: str
    phone: str
    due_on: date | None
    published_at: datetime | None


@dataclass(frozen=True)
class HistoryEntry:
    action: str  # create | update | interpret | submit | approve | return | publish | amend | repeal | expire
    actor: str
    at: datetime
    detail: str


@dataclass(frozen=True)
class PolicyEventView:
    id: int
    policy_id: int
    revision: int
    kind: str  # policies.models.EventKind
    urgent: bool
    created_at: datetime
