"""The Q&A engine: one per process, built at start-up from stored tokens, kept up to date
one policy or FAQ at a time, answering questions in memory.

    engine = await QaEngine.load(session)              # start-up, no re-tokenising
    await engine.refresh_policy(session, policy_id)    # after publish / amend / repeal / expire commits
    engine.ask("公租房谁能申请")                         # -> Answer (not logged; see service.answer)
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from policies.qa import store, texts
from policies.qa.aspects import asked_aspect
from policies.qa.cards import PolicyCard
from policies.qa.faq_match import FaqMatch, FaqMatcher
from policies.qa.models import AnswerKind
from policies.qa.passage import best_passage
from policies.qa.scope import ScopeGuard, about_text
from policies.qa.small_talk import small_talk_kind, small_talk_reply
from policies.qa.steering import Gazetteer, QuestionFacts, Steering, question_facts
from policies.qa.views import Answer, FaqView, PolicyRef
from policies.read_models import PolicyView
from policies.search.bm25 import BM25Index
from policies.search.document import NO_FILTERS, Facets, Hit, SearchFilters
from policies.search.lookup import ExactLookup
from policies.search.normalize import MAX_QUERY_CHARS, normalize_query
from policies.search.policy_search import (
    ASPECT_WORDS,
    PolicyEntry,
    PolicySearch,
    SearchResult,
    load_question_words,
)
from policies.search.synonyms import SynonymTable
from policies.text.tokenizer import get_tokenizer

# Calibrated on the tuning part of bench/data/qa/real_questions.jsonl and on bench/data/qa
# (see bench/qa_real.py for the trade-off table): confidence is the share of the question's
# weight the best policy covers, lowered when the question names a place or a year that
# policy is not about. At or above CONFIDENT the best policy answers; between PLAUSIBLE and
# CONFIDENT the resident is offered "您可能想问" with up to three choices; below, 没有找到.
CONFIDENT = 0.7
PLAUSIBLE = 0.5
# Between OFFER and PLAUSIBLE nothing is plausible enough to answer, but something is close:
# "您可能想问" with the closest one to three policies instead of 没有找到 (bench/qa_real.py
# prints the trade-off by this boundary on the tuning part). The lowest boundary at which the
# tuning part (both question files) still declines at least 0.85 of its no-answer questions.
OFFER = 0.30
# The question is about a service the library does not provide (policies/qa/scope.py): even a
# policy covering every word (a body asking for 身份证) then falls below OFFER.
OUT_OF_SCOPE_FACTOR = 0.25
FAQ_CONFIDENT = 0.75
# The best policy is about another place or year than the question names.
PLACE_MISMATCH_FACTOR = 0.5
YEAR_MISMATCH_FACTOR = 0.5
# ... and lowered further when no candidate is about that place or year.
UNCOVERED_FACTOR = 0.7
# Other hits scoring at least this share of the best are shown as alternatives / choices:
# a resident who was told the wrong policy finds the right one a click away.
AMBIGUOUS_RATIO = 0.35
CHOICE_RATIO = 0.35
TIE_RATIO = 0.9
MAX_ALTERNATIVES = 3


@dataclass(frozen=True, slots=True)
class RankedPolicy:
    policy: PolicyRef
    hit: Hit


def default_tokenize() -> Callable[[str], list[str]]:
    return get_tokenizer().query_tokens


class QaEngine:
    def __init__(self, search: PolicySearch, faqs: FaqMatcher, *, phone: str | None = None) -> None:
        self.search_engine = search
        self.faqs = faqs
        # The consultation phone comes from the caller's settings (settings.consultation_phone).
        self.phone = phone or ""
        self._cards: dict[int, PolicyCard] = {}
        self._faqs_of_policy: dict[int, set[int]] = {}
        self.steering = Steering(Gazetteer.load(), self._cards.get)
        self.scope = ScopeGuard(self._cards.values)
        # The offer/decline boundary; an attribute so the bench can trace the whole curve.
        self.offer = OFFER

    # ----- building ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        cards: Iterable[PolicyCard],
        faqs: Iterable[FaqView] = (),
        *,
        tokenize: Callable[[str], list[str]] | None = None,
        phone: str | None = None,
        synonyms: SynonymTable | None = None,
    ) -> QaEngine:
        """A fresh index from stored tokens (the slow path: every token string is hashed)."""
        faq_list = list(faqs)
        faq_tokens: dict[int, list[str]] = {}
        for faq in faq_list:
            for policy_id in faq.policy_ids:
                faq_tokens.setdefault(policy_id, []).extend(t for ts in faq.phrasing_tokens for t in ts)
        released = [c for c in cards if c.is_released]
        index = BM25Index.build(c.document(faq_tokens.get(c.policy_id, ())) for c in released)
        return cls.restore(index, released, faq_list, tokenize=tokenize, phone=phone, synonyms=synonyms)

    @classmethod
    def restore(
        cls,
        index: BM25Index,
        cards: Iterable[PolicyCard],
        faqs: Iterable[FaqView],
        *,
        tokenize: Callable[[str], list[str]] | None = None,
        phone: str | None = None,
        synonyms: SynonymTable | None = None,
        lookup: ExactLookup | None = None,
    ) -> QaEngine:
        """An engine around an index that already holds these cards and FAQ tokens: the
        snapshot path (policies/qa/snapshot.py, which also brings the 文号/title lookup), and
        the last step of `build`."""
        question_words = load_question_words()
        matcher = FaqMatcher(question_words)
        faqs_of_policy: dict[int, set[int]] = {}
        for faq in faqs:
            matcher.put(faq)
            for policy_id in faq.policy_ids:
                faqs_of_policy.setdefault(policy_id, set()).add(faq.id)
        search = PolicySearch(tokenize or default_tokenize(), index=index, synonyms=synonyms,
                              question_words=question_words)
        engine = cls(search, matcher, phone=phone)
        engine._cards.update((card.policy_id, card) for card in cards)
        if lookup is not None:
            search.lookup = lookup
        else:
            for card in engine._cards.values():
                search.lookup.add_or_replace(card.policy_id, card.title, card.doc_no)
        engine._faqs_of_policy = faqs_of_policy
        return engine

    @classmethod
    async def load(cls, session: AsyncSession, **kwargs: object) -> QaEngine:
        """Start-up path: every released policy and FAQ from their stored tokens."""
        cards = await store.load_policy_cards(session)
        faqs = await store.load_faqs(session)
        engine = cls.build(cards, faqs, **kwargs)  # type: ignore[arg-type]
        # The index lives as long as the process: keep the cyclic garbage collector from
        # walking its hundreds of thousands of objects on every full collection (which
        # otherwise shows up as 10-20 ms pauses in answer latency).
        gc.collect()
        gc.freeze()
        return engine

    # ----- keeping up to date -----------------------------------------------------------------

    def put_policy(self, card: PolicyCard) -> None:
        """Index a released policy (or replace it); a card that is not released is removed."""
        if not card.is_released:
            self.remove_policy(card.policy_id)
            return
        replaced = self._cards.get(card.policy_id)
        self._cards[card.policy_id] = card
        self.steering.forget(card.policy_id)
        # An amended title or keywords may no longer name what the old ones did: then recompute.
        self.scope.forget(card if replaced is None or about_text(replaced) == about_text(card) else None)
        self.search_engine.add_or_replace(card.document(self._faq_tokens(card.policy_id)),
                                          PolicyEntry(card.title, card.doc_no))

    def remove_policy(self, policy_id: int) -> bool:
        self._cards.pop(policy_id, None)
        self.steering.forget(policy_id)
        self.scope.forget()
        return self.search_engine.remove(policy_id)

    async def refresh_policy(self, session: AsyncSession, policy_id: int) -> None:
        """Re-read one policy from its stored tokens: the call after publish, amend, repeal,
        expiry or deletion commits. Costs about a millisecond; no other policy is touched."""
        cards = await store.load_policy_cards(session, [policy_id])
        if cards:
            self.put_policy(cards[0])
        else:
            self.remove_policy(policy_id)

    async def refresh_policies(self, session: AsyncSession, policy_ids: Iterable[int]) -> int:
        """`refresh_policy` for many policies with one query; returns how many were refreshed."""
        wanted = list(dict.fromkeys(policy_ids))
        if not wanted:
            return 0
        found = {c.policy_id: c for c in await store.load_policy_cards(session, wanted)}
        for policy_id in wanted:
            card = found.get(policy_id)
            if card is None:
                self.remove_policy(policy_id)
            else:
                self.put_policy(card)
        return len(wanted)

    def on_policy_changed(self, view: PolicyView) -> bool:
        """Status-only changes (repeal, expiry) from a PolicyView, without a database read.
        Returns False when the text may have changed or the policy is not indexed: then call
        `refresh_policy`."""
        card = self._cards.get(view.id)
        if card is None or card.title != view.title:
            return False
        if view.status not in ("published", "expired", "repealed"):
            self.remove_policy(view.id)
            return True
        self._cards[view.id] = card.with_status(view.status)
        return self.search_engine.set_status(view.id, view.status)

    def use_word_lists(self, table: SynonymTable) -> None:
        """Answer with edited synonyms and concept map from the next question on."""
        self.search_engine.use_word_lists(table)

    def put_faq(self, faq: FaqView) -> None:
        old = self.faqs.get(faq.id)
        self.faqs.put(faq)
        self._relink_faq(faq.id, old.policy_ids if old else (), faq.policy_ids)

    def remove_faq(self, faq_id: int) -> bool:
        old = self.faqs.get(faq_id)
        if old is None:
            return False
        self.faqs.remove(faq_id)
        self._relink_faq(faq_id, old.policy_ids, ())
        return True

    def sync_faqs(self, faqs: Iterable[FaqView]) -> int:
        """Make the engine's FAQ entries equal to `faqs` (all rows of the table, e.g. after an
        .xlsx import); returns how many entries changed."""
        wanted = {f.id: f for f in faqs}
        gone = [f.id for f in self.faqs.all() if f.id not in wanted]
        for faq_id in gone:
            self.remove_faq(faq_id)
        changed = [f for f in wanted.values() if self.faqs.get(f.id) != f]
        for faq in changed:
            self.put_faq(faq)
        return len(gone) + len(changed)

    async def refresh_faq(self, session: AsyncSession, faq_id: int) -> None:
        entry = await store.faq_by_id(session, faq_id)
        if entry is None:
            self.remove_faq(faq_id)
        else:
            self.put_faq(store.faq_view(entry))

    def _relink_faq(self, faq_id: int, old: Iterable[int], new: Iterable[int]) -> None:
        new_set = set(new)
        for policy_id in set(old) - new_set:
            self._faqs_of_policy.get(policy_id, set()).discard(faq_id)
        for policy_id in new_set:
            self._faqs_of_policy.setdefault(policy_id, set()).add(faq_id)
        for policy_id in set(old) | new_set:
            card = self._cards.get(policy_id)
            if card is not None:
                self.search_engine.index.add_or_replace(card.document(self._faq_tokens(policy_id)))

    def _faq_tokens(self, policy_id: int) -> list[str]:
        tokens: list[str] = []
        for faq_id in sorted(self._faqs_of_policy.get(policy_id, ())):
            faq = self.faqs.get(faq_id)
            if faq is not None:
                tokens.extend(t for phrasing in faq.phrasing_tokens for t in phrasing)
        return tokens

    # ----- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.search_engine)

    def card(self, policy_id: int) -> PolicyCard | None:
        return self._cards.get(policy_id)

    def cards(self) -> list[PolicyCard]:
        """Every indexed policy's card (a copy of the list; the cards are immutable)."""
        return list(self._cards.values())

    def rank(self, question: object, *, limit: int = 10, filters: SearchFilters = NO_FILTERS) -> SearchResult:
        return self.search_engine.search(question, limit=limit, filters=filters)

    def search(self, query: object, *, limit: int = 20, filters: SearchFilters = NO_FILTERS) -> list[RankedPolicy]:
        """For the public search API: ranked policies with the filters of the library page."""
        result = self.rank(query, limit=limit, filters=filters)
        return [RankedPolicy(self._cards[h.policy_id].ref, h) for h in result.hits if h.policy_id in self._cards]

    def browse(self, filters: SearchFilters = NO_FILTERS, *, offset: int = 0,
               limit: int = 20) -> tuple[list[PolicyRef], int]:
        """Released policies without a query (the library's listing): valid ones first, then
        the newest by year and id; with the total that pass the filters."""
        docs = [d for d in self.search_engine.index.documents() if filters.accepts(d)]
        docs.sort(key=lambda d: (not d.is_valid, -(d.year or 0), -d.policy_id))
        page = [self._cards[d.policy_id].ref for d in docs[offset : offset + limit] if d.policy_id in self._cards]
        return page, len(docs)

    def facets(self, query: object = "", filters: SearchFilters = NO_FILTERS) -> Facets:
        return self.search_engine.facets(query, filters)

    def ask(self, question: object) -> Answer:
        """Answer in memory; never raises. `policies.qa.service.answer` also logs it."""
        said = normalize_query(question).text
        talk = small_talk_kind(said)
        if talk is not None:
            return Answer(kind=AnswerKind.SMALL_TALK, question=said, text=small_talk_reply(talk, self.phone),
                          phone=self.phone)
        result = self.rank(question)
        query = result.query
        if not query.text or not (query.has_han or result.hits):
            return Answer(kind=AnswerKind.INVALID, question=query.text, text=texts.ASK_IN_CHINESE)
        top = result.top
        faq = None if (top is not None and top.exact) else self.faqs.match(
            result.typed_tokens, result.terms, self.search_engine.index.idf)
        if faq is not None and faq.score >= FAQ_CONFIDENT:
            answer = self._faq_answer(query.text, faq)
        else:
            answer = self._library_answer(query.text, result, faq.score if faq else 0.0)
        if query.truncated:
            answer = _with_note(answer, texts.TRUNCATED.format(limit=MAX_QUERY_CHARS))
        return answer

    def _library_answer(self, question: str, result: SearchResult, faq_score: float) -> Answer:
        facts = question_facts(result.understood, self.steering.gazetteer)
        searched_top = result.top.policy_id if result.top is not None else None
        result.hits = self.steering.steer(result.hits, facts)
        confidence = self._confidence(result, facts, searched_top)
        if result.top is not None and confidence >= CONFIDENT and not self._tied(result):
            return self._policy_answer(question, result, confidence)
        if result.top is not None and confidence >= PLAUSIBLE:
            if self._choices(result)[1:]:
                return self._choices_answer(question, result, confidence)
            # One plausible policy and nothing near it: that is the answer, said with less confidence.
            return self._policy_answer(question, result, confidence)
        if result.top is not None and confidence >= self.offer:
            return self._choices_answer(question, result, confidence)
        return Answer(kind=AnswerKind.NOT_FOUND, question=question, phone=self.phone,
                      text=texts.not_found(question, self.phone), confidence=max(confidence, faq_score))

    def _confidence(self, result: SearchResult, facts: QuestionFacts, searched_top: int | None) -> float:
        top = result.top
        if top is None:
            return 0.0
        if top.exact:
            return 1.0
        card = self._cards.get(top.policy_id)
        fits_place = card is None or self.steering.fits_place(card, facts)
        # The search already measured the coverage of its own first hit. A place the policy
        # is about (named in its agency, say, not its text) is not a word it lacks.
        place_words = frozenset(w for w in result.typed_tokens if any(w in name for name in facts.place_names)
                                ) if fits_place else frozenset()
        confidence = (result.coverage if top.policy_id == searched_top and not place_words
                      else self.search_engine.coverage(top.policy_id, result, place_words))
        fits_year = card is None or self.steering.fits_year(card, facts)
        if not fits_place:
            confidence *= PLACE_MISMATCH_FACTOR
        if not fits_year:
            confidence *= YEAR_MISMATCH_FACTOR
        if not (fits_place and fits_year):
            confidence *= self._uncovered(
                result, lambda c: self.steering.fits_place(c, facts) and self.steering.fits_year(c, facts))
        outside = self.scope.outside_word(result.understood, self.search_engine.outside_words)
        if outside is not None and card is not None and not self.scope.about_other(
                card, outside, (w for w in result.typed_tokens if w not in ASPECT_WORDS)):
            confidence *= OUT_OF_SCOPE_FACTOR
        result.coverage = confidence
        return confidence

    def _uncovered(self, result: SearchResult, fits: Callable[[PolicyCard], bool]) -> float:
        """UNCOVERED_FACTOR when no candidate at all is about the place and year the question
        names (深圳, 2018年的大足区): the library does not cover it, whatever the words share."""
        cards = (self._cards.get(h.policy_id) for h in result.hits)
        return 1.0 if any(c is not None and fits(c) for c in cards) else UNCOVERED_FACTOR

    def _faq_answer(self, question: str, match: FaqMatch) -> Answer:
        policies = tuple(self._cards[p].ref for p in match.faq.policy_ids if p in self._cards)
        return Answer(kind=AnswerKind.FAQ, question=question, text=texts.faq_answer(match.faq.answer, policies),
                      policy=policies[0] if policies else None, alternatives=policies[1:],
                      faq_id=match.faq.id, faq_answer=match.faq.answer, confidence=match.score)

    @staticmethod
    def _tied(result: SearchResult) -> bool:
        """Another policy answers about as well (the same subsidy in another town): the
        resident should choose rather than be told one of them."""
        hits = result.hits
        return len(hits) > 1 and not hits[0].exact and hits[1].score >= TIE_RATIO * hits[0].score

    def _choices(self, result: SearchResult) -> list[PolicyRef]:
        top = result.hits[0]
        return [self._cards[h.policy_id].ref for h in result.hits
                if h.policy_id in self._cards and h.score >= CHOICE_RATIO * top.score][:MAX_ALTERNATIVES]

    def _choices_answer(self, question: str, result: SearchResult, confidence: float) -> Answer:
        """"您可能想问": the plausible policies in order, the first one quoted."""
        top = result.hits[0]
        choices = self._choices(result)
        card = self._cards[top.policy_id]
        passage = best_passage(card, result.terms, self.search_engine.index.idf, asked_aspect(question))
        return Answer(kind=AnswerKind.CHOICES, question=question, policy=choices[0], passage=passage,
                      alternatives=tuple(choices[1:]), confidence=confidence, phone=self.phone,
                      text=texts.choices_answer(tuple(choices), self.phone))

    def _policy_answer(self, question: str, result: SearchResult, confidence: float) -> Answer:
        top = result.hits[0]
        card = self._cards[top.policy_id]
        passage = best_passage(card, result.terms, self.search_engine.index.idf, asked_aspect(question))
        alternatives = tuple(
            self._cards[h.policy_id].ref
            for h in result.hits[1:]
            if h.policy_id in self._cards and (h.exact if top.exact else h.score >= AMBIGUOUS_RATIO * top.score)
        )[:MAX_ALTERNATIVES]
        return Answer(kind=AnswerKind.POLICY, question=question, policy=card.ref, passage=passage,
                      alternatives=alternatives, confidence=confidence,
                      text=texts.policy_answer(card.ref, passage, alternatives))


def _with_note(answer: Answer, note: str) -> Answer:
    return Answer(kind=answer.kind, question=answer.question, text=f"{answer.text}\n{note}", policy=answer.policy,
                  passage=answer.passage, alternatives=answer.alternatives, faq_id=answer.faq_id,
                  faq_answer=answer.faq_answer, confidence=answer.confidence, phone=answer.phone)
