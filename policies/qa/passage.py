"""Pick the sentence or two of a policy that best answers the question, and mark the words
that matched. Matching is by substring on the stored text, not by segmenting it again: the
answer path must stay within a few milliseconds."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from policies.models import INTERPRETATION_ELEMENTS
from policies.qa.aspects import says
from policies.qa.cards import PolicyCard
from policies.qa.views import Passage
from policies.search.document import QueryTerm

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")
MIN_SENTENCE = 6
SHORT_SENTENCE = 40  # a sentence this short gets the next one too
MAX_PASSAGE = 160
ASPECT_FACTOR = 2.0


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) >= MIN_SENTENCE]


def best_passage(card: PolicyCard, terms: Sequence[QueryTerm], idf: Callable[[str], float],
                 aspect: str | None = None) -> Passage:
    """The sentence that best answers: the most question words, counted double where the
    sentence says what was asked (an amount for 多少钱, materials for 带什么). With no word
    in common, the first sentence saying what was asked, else the interpretation's key
    points, else the opening of the text."""
    # Single characters (年, 号) match everywhere and would pick sentences at random.
    useful = [t for t in terms if len(t.token) >= 2]
    best: tuple[float, str, list[str], int] | None = None
    for source, text in card.texts():
        parts = sentences(text)
        for i, sentence in enumerate(parts):
            score = sum(t.weight * idf(t.token) for t in useful if t.token in sentence)
            if says(aspect, sentence):
                score *= ASPECT_FACTOR
            if best is None or score > best[0]:
                best = (score, source, parts, i)
    if best is None or best[0] <= 0:
        return _fallback(card, aspect)
    _, source, parts, i = best
    text = parts[i]
    if len(text) < SHORT_SENTENCE and i + 1 < len(parts):
        text = text + parts[i + 1]
    text = _clip(text)
    return Passage(text=text, marks=mark_spans(text, [t.token for t in useful]), source=source)


def _fallback(card: PolicyCard, aspect: str | None) -> Passage:
    for source, text in card.texts():
        for sentence in sentences(text):
            if says(aspect, sentence):
                return Passage(text=_clip(sentence), source=source)
    key_points = card.elements.get("key_points", "")
    if isinstance(key_points, str) and key_points.strip():
        return Passage(text=_clip(key_points.strip()), source=INTERPRETATION_ELEMENTS.get("key_points", "要点"))
    first = sentences(card.body)[:1] or [card.title]
    return Passage(text=_clip(first[0]), source="正文")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_PASSAGE else text[: MAX_PASSAGE - 1] + "…"


def mark_spans(text: str, words: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Non-overlapping spans of the words in the text, longest words first, merged when adjacent."""
    taken = [False] * len(text)
    spans: list[tuple[int, int]] = []
    for word in sorted(set(words), key=len, reverse=True):
        start = text.find(word)
        while start >= 0:
            end = start + len(word)
            if not any(taken[start:end]):
                spans.append((start, end))
                for k in range(start, end):
                    taken[k] = True
            start = text.find(word, end)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)
