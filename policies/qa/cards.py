"""A released policy as Q&A keeps it in memory: what an answer cites and quotes, and the
stored tokens its index document is made from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from policies.models import INTERPRETATION_ELEMENTS, PolicyStatus
from policies.qa.views import PolicyRef
from policies.search.document import IndexedDocument
from policies.search.stored_tokens import indexed_document


@dataclass(frozen=True, slots=True)
class PolicyCard:
    policy_id: int
    title: str
    doc_no: str | None
    agency: str
    status: str
    body: str
    revision_tokens: str  # PolicyRevision.tokens: search tokens of "title\nbody"
    elements: Mapping[str, str] = field(default_factory=dict)  # interpretation elements
    interpretation_tokens: str = ""
    keywords: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    audience: str = ""
    year: int | None = None

    @property
    def is_released(self) -> bool:
        return self.status in PolicyStatus.RELEASED

    @property
    def ref(self) -> PolicyRef:
        return PolicyRef(policy_id=self.policy_id, title=self.title, doc_no=self.doc_no,
                         agency=self.agency, status=self.status)

    def with_status(self, status: str) -> PolicyCard:
        return PolicyCard(policy_id=self.policy_id, title=self.title, doc_no=self.doc_no, agency=self.agency,
                          status=status, body=self.body, revision_tokens=self.revision_tokens,
                          elements=self.elements, interpretation_tokens=self.interpretation_tokens,
                          keywords=self.keywords, topics=self.topics, audience=self.audience, year=self.year)

    def document(self, faq_tokens: Sequence[str] = ()) -> IndexedDocument:
        return indexed_document(
            policy_id=self.policy_id, title=self.title, doc_no=self.doc_no,
            revision_tokens=self.revision_tokens, interpretation_tokens=self.interpretation_tokens,
            keywords=self.keywords, faq_tokens=faq_tokens, status=self.status, agency=self.agency,
            topics=self.topics, audience=self.audience, year=self.year,
        )

    def texts(self) -> list[tuple[str, str]]:
        """(source label, text) to quote from: interpretation elements that answer questions
        first, in the order a reader of item 18 sees them, then the body."""
        texts = [
            (INTERPRETATION_ELEMENTS.get(key, key), value)
            for key, value in ((k, self.elements.get(k, "")) for k in QUOTABLE_ELEMENTS)
            if isinstance(value, str) and value.strip()
        ]
        texts.append(("正文", self.body))
        return texts


# The keywords element is a word list, not something to quote.
QUOTABLE_ELEMENTS = ("eligibility", "benefits", "standards", "key_points", "scope", "notes", "differences",
                     "goals", "background")
