"""Match a question against the FAQ knowledge base's phrasings.

A FAQ answer is the department's own words, so it is given only when one phrasing and the
question say nearly the same thing: the IDF-weighted overlap must be high in both directions
(F1 of the two coverages), not just a few shared common words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from policies.qa.views import FaqView
from policies.search.document import QueryTerm
from policies.search.synonyms import SYNONYM_WEIGHT


@dataclass(frozen=True, slots=True)
class FaqMatch:
    faq: FaqView
    score: float  # 0..1
    phrasing: str


class FaqMatcher:
    def __init__(self, question_words: frozenset[str] = frozenset()) -> None:
        self.question_words = question_words
        # Questions are searched with these stripped out before segmenting (see
        # PolicySearch.strip_fillers), so a phrasing token holding one (啥时候) never matches.
        self._fillers = tuple(w for w in question_words if len(w) >= 2)
        self._faqs: dict[int, FaqView] = {}
        self._phrasings: dict[int, list[frozenset[str]]] = {}
        self._postings: dict[str, set[int]] = {}

    def __len__(self) -> int:
        return len(self._faqs)

    def get(self, faq_id: int) -> FaqView | None:
        return self._faqs.get(faq_id)

    def all(self) -> Iterable[FaqView]:
        return self._faqs.values()

    def put(self, faq: FaqView) -> None:
        self.remove(faq.id)
        phrasings = [frozenset(t for t in tokens if t not in self.question_words
                               and not any(f in t for f in self._fillers))
                     for tokens in faq.phrasing_tokens]
        self._faqs[faq.id] = faq
        self._phrasings[faq.id] = phrasings
        for tokens in phrasings:
            for token in tokens:
                self._postings.setdefault(token, set()).add(faq.id)

    def remove(self, faq_id: int) -> bool:
        if self._faqs.pop(faq_id, None) is None:
            return False
        for tokens in self._phrasings.pop(faq_id, []):
            for token in tokens:
                ids = self._postings.get(token)
                if ids is not None:
                    ids.discard(faq_id)
                    if not ids:
                        del self._postings[token]
        return True

    def match(self, typed: Sequence[str], terms: Sequence[QueryTerm],
              idf: Callable[[str], float]) -> FaqMatch | None:
        if not typed or not self._faqs:
            return None
        candidates: set[int] = set()
        for term in terms:
            candidates |= self._postings.get(term.token, set())
        expansions = [t for t in terms if t.origin and t.weight >= SYNONYM_WEIGHT]
        query_side = set(typed) | {t.token for t in expansions}
        best: FaqMatch | None = None
        for faq_id in candidates:
            faq = self._faqs[faq_id]
            for phrasing, tokens in zip(faq.phrasings, self._phrasings[faq_id], strict=False):
                if not tokens:
                    continue
                asked = _share(typed, lambda tok, ts=tokens: tok in ts or any(  # type: ignore[misc]
                    tok in e.origin and e.token in ts for e in expansions), idf)
                stated = _share(list(tokens), lambda tok: tok in query_side, idf)
                score = 2 * asked * stated / (asked + stated) if asked + stated else 0.0
                if best is None or score > best.score:
                    best = FaqMatch(faq=faq, score=score, phrasing=phrasing)
        return best


def _share(tokens: Sequence[str], present: Callable[[str], bool], idf: Callable[[str], float]) -> float:
    total = found = 0.0
    for token in tokens:
        weight = idf(token)
        total += weight
        if present(token):
            found += weight
    return found / total if total else 0.0
