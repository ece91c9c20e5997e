"""The types other packages receive from the policy library: read models, inputs' problems,
Q&A answers, policy items and the calculator's results, and the code tables that go with them.

The policy read models load with the door; every other name loads on first use (see
`core.lazy_exports`), so importing this door costs what it cost before it grew.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy_exports import lazy_attributes
from policies.read_models import (
    VALIDITY_LABELS,
    HistoryEntry,
    InterpretationView,
    PolicyEventView,
    PolicyView,
    RevisionView,
)

if TYPE_CHECKING:
    from policies.items.calculator import STANDING_LABELS, CalculatorResult, Standing
    from policies.items.cards import AnswerCard
    from policies.items.conditions import CODE_KINDS
    from policies.items.evaluate import Outcome
    from policies.items.profile import Profile
    from policies.items.views import ItemView
    from policies.items.vocabulary import CONDITION_LABELS, SIZE_LABELS, TRACK_LABELS, ConditionKind, Track
    from policies.models import INTERPRETATION_ELEMENTS
    from policies.qa.views import (
        Answer,
        FaqImportReport,
        FaqView,
        FeedbackSummary,
        Passage,
        PolicyRef,
        UnansweredQuestion,
    )
    from policies.search.document import Facets, SearchFilters
    from policies.validation import Problems

__all__ = [
    "CODE_KINDS",
    "CONDITION_LABELS",
    "INTERPRETATION_ELEMENTS",
    "SIZE_LABELS",
    "STANDING_LABELS",
    "TRACK_LABELS",
    "VALIDITY_LABELS",
    "Answer",
    "AnswerCard",
    "CalculatorResult",
    "ConditionKind",
    "Facets",
    "FaqImportReport",
    "FaqView",
    "FeedbackSummary",
    "HistoryEntry",
    "InterpretationView",
    "ItemView",
    "Outcome",
    "Passage",
    "PolicyEventView",
    "PolicyRef",
    "PolicyView",
    "Problems",
    "Profile",
    "RevisionView",
    "SearchFilters",
    "Standing",
    "Track",
    "UnansweredQuestion",
]

_LAZY: dict[str, tuple[str, str | None]] = {
    "CalculatorResult": ("policies.items.calculator", "CalculatorResult"),
    "STANDING_LABELS": ("policies.items.calculator", "STANDING_LABELS"),
    "Standing": ("policies.items.calculator", "Standing"),
    "AnswerCard": ("policies.items.cards", "AnswerCard"),
    "CODE_KINDS": ("policies.items.conditions", "CODE_KINDS"),
    "Outcome": ("policies.items.evaluate", "Outcome"),
    "Profile": ("policies.items.profile", "Profile"),
    "ItemView": ("policies.items.views", "ItemView"),
    "CONDITION_LABELS": ("policies.items.vocabulary", "CONDITION_LABELS"),
    "ConditionKind": ("policies.items.vocabulary", "ConditionKind"),
    "SIZE_LABELS": ("policies.items.vocabulary", "SIZE_LABELS"),
    "TRACK_LABELS": ("policies.items.vocabulary", "TRACK_LABELS"),
    "Track": ("policies.items.vocabulary", "Track"),
    "INTERPRETATION_ELEMENTS": ("policies.models", "INTERPRETATION_ELEMENTS"),
    "Answer": ("policies.qa.views", "Answer"),
    "FaqImportReport": ("policies.qa.views", "FaqImportReport"),
    "FaqView": ("policies.qa.views", "FaqView"),
    "FeedbackSummary": ("policies.qa.views", "FeedbackSummary"),
    "Passage": ("policies.qa.views", "Passage"),
    "PolicyRef": ("policies.qa.views", "PolicyRef"),
    "UnansweredQuestion": ("policies.qa.views", "UnansweredQuestion"),
    "Facets": ("policies.search.document", "Facets"),
    "SearchFilters": ("policies.search.document", "SearchFilters"),
    "Problems": ("policies.validation", "Problems"),
}

__getattr__ = lazy_attributes(__name__, _LAZY)
