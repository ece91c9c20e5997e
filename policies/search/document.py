"""What the search index holds and returns, and the interface every index implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from policies.models import PolicyStatus


class Field:
    """Fields of an indexed policy. Weights say how much one occurrence counts: a word in
    the title or among the department's keywords says more about the policy than the same
    word somewhere in a 3,000-character body."""

    TITLE = "title"
    DOC_NO = "doc_no"
    KEYWORDS = "keywords"
    BODY = "body"
    INTERPRETATION = "interpretation"
    FAQ = "faq"


FIELD_WEIGHTS: dict[str, float] = {
    Field.TITLE: 4.0,
    Field.DOC_NO: 4.0,
    Field.KEYWORDS: 3.0,
    Field.BODY: 1.0,
    Field.INTERPRETATION: 1.5,
    Field.FAQ: 3.0,
}

# Expired and repealed policies stay findable but lose to a valid policy of similar relevance.
INVALID_POLICY_FACTOR = 0.5


@dataclass(frozen=True, slots=True)
class IndexedDocument:
    """One released policy as the index sees it: tokens per field plus what filters need."""

    policy_id: int
    fields: Mapping[str, Sequence[str]]
    status: str = PolicyStatus.PUBLISHED
    agency: str = ""
    topics: tuple[str, ...] = ()
    audience: str = ""
    year: int | None = None

    @property
    def is_valid(self) -> bool:
        return self.status == PolicyStatus.PUBLISHED


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Empty values mean "any". Every given filter must hold (AND)."""

    topics: tuple[str, ...] = ()
    agency: str | None = None
    year: int | None = None
    statuses: tuple[str, ...] = ()
    audience: str | None = None

    def accepts(self, doc: IndexedDocument) -> bool:
        if self.topics and not set(self.topics) & set(doc.topics):
            return False
        if self.agency and doc.agency != self.agency:
            return False
        if self.year is not None and doc.year != self.year:
            return False
        if self.statuses and doc.status not in self.statuses:
            return False
        # A policy for both audiences concerns an enterprise and a resident alike.
        return not (self.audience and doc.audience not in (self.audience, "both"))

    @property
    def is_empty(self) -> bool:
        return not (self.topics or self.agency or self.year is not None or self.statuses or self.audience)


NO_FILTERS = SearchFilters()


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """A query token with its weight: 1.0 as typed, less for a synonym expansion."""

    token: str
    weight: float = 1.0
    origin: str = ""  # the typed token a synonym expansion came from; "" when typed


@dataclass(frozen=True, slots=True)
class Hit:
    policy_id: int
    score: float
    status: str
    matched_terms: tuple[str, ...] = ()
    exact: bool = False  # found by 文号 or title lookup, ranked before scored hits

    @property
    def is_valid(self) -> bool:
        return self.status == PolicyStatus.PUBLISHED


@dataclass(slots=True)
class Facets:
    years: dict[int, int] = field(default_factory=dict)
    agencies: dict[str, int] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)


class SearchIndex(Protocol):
    """A ranked index of released policies that can change one policy at a time."""

    def add_or_replace(self, doc: IndexedDocument) -> None: ...

    def remove(self, policy_id: int) -> bool: ...

    def search(
        self, query: Sequence[QueryTerm], *, limit: int = 10, filters: SearchFilters = NO_FILTERS
    ) -> list[Hit]: ...

    def document(self, policy_id: int) -> IndexedDocument | None: ...

    def __len__(self) -> int: ...

    def __contains__(self, policy_id: object) -> bool: ...
