"""What Q&A hands to the web and bot layers: plain frozen data, never ORM rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from policies.read_models import VALIDITY_LABELS


def _same(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """A policy as an answer cites it."""

    policy_id: int
    title: str
    doc_no: str | None
    agency: str
    status: str

    @property
    def validity_label(self) -> str:
        return VALIDITY_LABELS.get(self.status, self.status)

    @property
    def is_valid(self) -> bool:
        return self.status == "published"

    @property
    def page_path(self) -> str:
        return f"/p/{self.policy_id}"


@dataclass(frozen=True, slots=True)
class Passage:
    """One or two sentences of the policy, with the spans that matched the question."""

    text: str
    marks: tuple[tuple[int, int], ...] = ()
    source: str = ""  # "body" or the interpretation element's Chinese label

    def segments(self) -> list[tuple[str, bool]]:
        """(piece, matched) in order, for channels that build their own markup."""
        pieces: list[tuple[str, bool]] = []
        at = 0
        for start, end in self.marks:
            if start > at:
                pieces.append((self.text[at:start], False))
            pieces.append((self.text[start:end], True))
            at = end
        if at < len(self.text):
            pieces.append((self.text[at:], False))
        return pieces

    def marked(self, before: str = "【", after: str = "】", escape: Callable[[str], str] = _same) -> str:
        """E.g. `marked("<b>", "</b>", html.escape)` for Telegram HTML."""
        return "".join(f"{before}{escape(p)}{after}" if hit else escape(p) for p, hit in self.segments())


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to one question. `text` is ready to send as plain text; the other fields let a
    channel render buttons, bold terms and links its own way."""

    kind: str  # policies.qa.models.AnswerKind
    question: str
    text: str
    policy: PolicyRef | None = None
    passage: Passage | None = None
    alternatives: tuple[PolicyRef, ...] = ()
    faq_id: int | None = None
    faq_answer: str | None = None
    confidence: float = 0.0
    phone: str | None = None  # the consultation line, given when we have no good answer
    answer_id: int | None = None  # id of the logged question; feedback refers to it

    @property
    def answered(self) -> bool:
        return self.kind in ("faq", "policy", "choices")

    def with_id(self, answer_id: int) -> Answer:
        return Answer(kind=self.kind, question=self.question, text=self.text, policy=self.policy,
                      passage=self.passage, alternatives=self.alternatives, faq_id=self.faq_id,
                      faq_answer=self.faq_answer, confidence=self.confidence, phone=self.phone,
                      answer_id=answer_id)


@dataclass(frozen=True, slots=True)
class FaqView:
    id: int
    question: str
    variants: tuple[str, ...]
    answer: str
    policy_ids: tuple[int, ...]
    department: str
    updated_at: datetime | None = None
    # Search tokens per phrasing (question first); what the matcher indexes.
    phrasing_tokens: tuple[tuple[str, ...], ...] = field(default=(), repr=False)

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.variants)


@dataclass(frozen=True, slots=True)
class UnansweredQuestion:
    text: str
    count: int
    last_asked_at: datetime
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    useful: int
    not_useful: int

    @property
    def total(self) -> int:
        return self.useful + self.not_useful


@dataclass(frozen=True, slots=True)
class FaqImportReport:
    created: int
    updated: int
    errors: tuple[str, ...]  # "第 N 行：…", Chinese, for the department that uploaded the file
