"""An in-process BM25 index over field-weighted tokens that changes one policy at a time.

Why our own and not bm25s: bm25s precomputes every score at build time, so one publish
would mean a full rebuild (6.6 s at 10k policies); here IDF and length normalisation are
computed at query time from counts kept up to date, so add, replace and remove are cheap
and the ranking after any sequence of changes equals the ranking of a fresh build.
See ADR-search-index.md for the figures behind the choice.

Layout: each term has a postings pair (slots, weighted term frequencies) in numpy arrays.
A slot is a document's position in the per-document arrays. Replacing a policy gives it a
new slot; the old slot is marked dead and its postings are dropped at the next compaction.
Field weights follow the "weighted pseudo-document" form of BM25F: an occurrence in the
title counts FIELD_WEIGHTS["title"] times, and the document length is weighted the same way.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from policies.search.document import (
    FIELD_WEIGHTS,
    INVALID_POLICY_FACTOR,
    NO_FILTERS,
    Facets,
    Hit,
    IndexedDocument,
    QueryTerm,
    SearchFilters,
)

K1 = 1.2
B = 0.75
# Compact when this share of slots is dead, so memory and scan cost stay bounded.
COMPACT_DEAD_SHARE = 0.25
COMPACT_MIN_DEAD = 256


@dataclass(slots=True)
class _Postings:
    slots: np.ndarray  # int32
    tfs: np.ndarray  # float32, field-weighted term frequency


class _Vocabulary(dict[str, int]):
    def __missing__(self, term: str) -> int:
        value = self[term] = len(self)
        return value


def weighted_counts(doc: IndexedDocument, weights: dict[str, float]) -> tuple[dict[str, float], float]:
    """Field-weighted term frequencies and the weighted document length."""
    counts: dict[str, float] = {}
    length = 0.0
    for name, tokens in doc.fields.items():
        weight = weights.get(name, 1.0)
        if not tokens or weight <= 0:
            continue
        length += weight * len(tokens)
        for term, n in Counter(tokens).items():
            counts[term] = counts.get(term, 0.0) + weight * n
    return counts, length


class BM25Index:
    """Implements `policies.search.document.SearchIndex`."""

    def __init__(self, weights: dict[str, float] | None = None, *, k1: float = K1, b: float = B) -> None:
        self.weights = dict(FIELD_WEIGHTS if weights is None else weights)
        self.k1 = k1
        self.b = b
        self._postings: dict[str, _Postings] = {}
        self._df: Counter[str] = Counter()
        self._slot_of: dict[int, int] = {}
        self._docs: list[IndexedDocument | None] = []
        self._terms: list[frozenset[str]] = []
        self._lengths = np.zeros(0, dtype=np.float64)
        self._factor = np.zeros(0, dtype=np.float64)  # 0 for dead slots
        self._total_length = 0.0

    # ----- building -------------------------------------------------------------------------

    @classmethod
    def build(cls, docs: Iterable[IndexedDocument], weights: dict[str, float] | None = None) -> BM25Index:
        """A fresh index; faster than adding one by one (one sort instead of many appends)."""
        index = cls(weights)
        vocab = _Vocabulary()
        term_ids: list[int] = []
        slots: list[int] = []
        tfs: list[float] = []
        lengths: list[float] = []
        # The last document given for a policy wins, as with add_or_replace.
        for doc in {d.policy_id: d for d in docs}.values():
            counts, length = weighted_counts(doc, index.weights)
            slot = len(index._docs)
            index._slot_of[doc.policy_id] = slot
            index._docs.append(doc)
            index._terms.append(frozenset(counts))
            lengths.append(length)
            term_ids.extend(map(vocab.__getitem__, counts))
            slots.extend([slot] * len(counts))
            tfs.extend(counts.values())
        index._lengths = np.asarray(lengths, dtype=np.float64)
        index._factor = np.array([_factor(d) for d in index._docs if d is not None], dtype=np.float64)
        index._install_postings(list(vocab), np.asarray(term_ids, np.int64), np.asarray(slots, np.int32),
                                np.asarray(tfs, np.float32))
        index._recount()
        return index

    def _install_postings(self, terms: list[str], term_ids: np.ndarray, slots: np.ndarray,
                          tfs: np.ndarray) -> None:
        order = np.argsort(term_ids, kind="stable")
        term_ids, slots, tfs = term_ids[order], slots[order], tfs[order]
        bounds = np.searchsorted(term_ids, np.arange(len(terms) + 1))
        self._postings = {}
        for term_id, term in enumerate(terms):
            start, end = bounds[term_id], bounds[term_id + 1]
            if end > start:
                self._postings[term] = _Postings(slots[start:end], tfs[start:end])

    def _recount(self) -> None:
        self._df = Counter()
        for slot, terms in enumerate(self._terms):
            if self._docs[slot] is not None:
                self._df.update(terms)
        alive = self._factor > 0
        self._total_length = float(self._lengths[alive].sum())

    # ----- incremental changes ----------------------------------------------------------------

    def add_or_replace(self, doc: IndexedDocument) -> None:
        old = self._slot_of.get(doc.policy_id)
        if old is not None:
            self._kill(old)
        counts, length = weighted_counts(doc, self.weights)
        slot = len(self._docs)
        self._slot_of[doc.policy_id] = slot
        self._docs.append(doc)
        self._terms.append(frozenset(counts))
        self._lengths = np.append(self._lengths, length)
        self._factor = np.append(self._factor, _factor(doc))
        self._total_length += length
        self._df.update(counts.keys())
        for term, tf in counts.items():
            postings = self._postings.get(term)
            if postings is None:
                self._postings[term] = _Postings(np.array([slot], np.int32), np.array([tf], np.float32))
            else:
                postings.slots = np.append(postings.slots, np.int32(slot))
                postings.tfs = np.append(postings.tfs, np.float32(tf))
        self._maybe_compact()

    def remove(self, policy_id: int) -> bool:
        """Drop a policy (deleted, or back to draft); False when it was not indexed."""
        slot = self._slot_of.pop(policy_id, None)
        if slot is None:
            return False
        self._kill(slot)
        self._maybe_compact()
        return True

    def set_status(self, policy_id: int, status: str) -> bool:
        """Repeal or expiry change no tokens: update the status in place, no re-indexing."""
        slot = self._slot_of.get(policy_id)
        doc = self._docs[slot] if slot is not None else None
        if slot is None or doc is None:
            return False
        updated = IndexedDocument(policy_id=doc.policy_id, fields=doc.fields, status=status,
                                  agency=doc.agency, topics=doc.topics, audience=doc.audience, year=doc.year)
        self._docs[slot] = updated
        self._factor[slot] = _factor(updated)
        return True

    def _kill(self, slot: int) -> None:
        doc = self._docs[slot]
        if doc is None:
            return
        if self._slot_of.get(doc.policy_id) == slot:
            del self._slot_of[doc.policy_id]
        self._docs[slot] = None
        self._factor[slot] = 0.0
        self._total_length -= float(self._lengths[slot])
        self._df.subtract(self._terms[slot])
        for term in self._terms[slot]:
            if self._df[term] <= 0:
                del self._df[term]

    def _maybe_compact(self) -> None:
        dead = len(self._docs) - len(self._slot_of)
        if dead >= COMPACT_MIN_DEAD and dead >= COMPACT_DEAD_SHARE * len(self._docs):
            self.compact()

    def compact(self) -> None:
        """Renumber live slots and drop dead postings; rankings do not change."""
        live = [slot for slot, doc in enumerate(self._docs) if doc is not None]
        new_slot = np.full(len(self._docs), -1, dtype=np.int32)
        new_slot[live] = np.arange(len(live), dtype=np.int32)
        for term in list(self._postings):
            postings = self._postings[term]
            mapped = new_slot[postings.slots]
            keep = mapped >= 0
            if not keep.any():
                del self._postings[term]
                continue
            postings.slots = mapped[keep]
            postings.tfs = postings.tfs[keep]
        docs = [self._docs[slot] for slot in live]
        self._docs = docs
        self._terms = [self._terms[slot] for slot in live]
        self._lengths = self._lengths[live]
        self._factor = self._factor[live]
        self._slot_of = {doc.policy_id: slot for slot, doc in enumerate(docs) if doc is not None}

    # ----- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, policy_id: object) -> bool:
        return policy_id in self._slot_of

    def document(self, policy_id: int) -> IndexedDocument | None:
        slot = self._slot_of.get(policy_id)
        return None if slot is None else self._docs[slot]

    def documents(self) -> list[IndexedDocument]:
        return [doc for doc in self._docs if doc is not None]

    def document_frequency(self, term: str) -> int:
        return self._df.get(term, 0)

    def idf(self, term: str) -> float:
        """Lucene's BM25 IDF; a term no policy contains gets the highest value."""
        n = len(self._slot_of)
        df = self._df.get(term, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def contains_term(self, policy_id: int, term: str) -> bool:
        slot = self._slot_of.get(policy_id)
        return slot is not None and term in self._terms[slot]

    def scores(self, query: Sequence[QueryTerm | str]) -> np.ndarray:
        """Raw BM25 per slot (status factor not applied); dead slots may hold junk."""
        scores = np.zeros(len(self._docs), dtype=np.float64)
        alive_docs = len(self._slot_of)
        if not alive_docs:
            return scores
        avgdl = self._total_length / alive_docs or 1.0
        norm = self.k1 * (1.0 - self.b + self.b * self._lengths / avgdl)
        for item in query:
            term = item if isinstance(item, str) else item.token
            weight = 1.0 if isinstance(item, str) else item.weight
            postings = self._postings.get(term)
            if postings is None or weight <= 0:
                continue
            tf = postings.tfs
            contribution = (weight * self.idf(term) * (self.k1 + 1.0)) * tf / (tf + norm[postings.slots])
            scores[postings.slots] += contribution
        return scores

    def search(
        self,
        query: Sequence[QueryTerm | str],
        *,
        limit: int = 10,
        filters: SearchFilters = NO_FILTERS,
    ) -> list[Hit]:
        """Best hits first; expired and repealed policies are scored down, never dropped."""
        if limit <= 0 or not self._slot_of:
            return []
        ranked = self.scores(query) * self._factor
        candidates = np.flatnonzero(ranked > 0)
        if not filters.is_empty:
            candidates = np.array([s for s in candidates if filters.accepts(self._docs[s])], dtype=np.int64)
        if candidates.size == 0:
            return []
        if candidates.size > limit:
            # Keep every candidate tied with the last place, so the cut does not depend on slots.
            kth = np.partition(ranked[candidates], candidates.size - limit)[candidates.size - limit]
            candidates = candidates[ranked[candidates] >= kth - 1e-9]
        # Ties broken by policy id so the order is deterministic and rebuild-independent.
        order = sorted(candidates.tolist(), key=lambda s: (-round(float(ranked[s]), 9), self._docs[s].policy_id))
        order = order[:limit]
        terms = [item if isinstance(item, str) else item.token for item in query]
        hits = []
        for slot in order:
            doc = self._docs[slot]
            assert doc is not None
            matched = tuple(dict.fromkeys(t for t in terms if t in self._terms[slot]))
            hits.append(Hit(policy_id=doc.policy_id, score=float(ranked[slot]), status=doc.status,
                            matched_terms=matched))
        return hits

    def facets(self, query: Sequence[QueryTerm | str] | None = None,
               filters: SearchFilters = NO_FILTERS) -> Facets:
        """Counts by year, agency, topic and status over the matching policies (all when no query)."""
        if query:
            slots = np.flatnonzero(self.scores(query) * self._factor > 0).tolist()
        else:
            slots = list(self._slot_of.values())
        facets = Facets()
        for slot in slots:
            doc = self._docs[slot]
            if doc is None or not filters.accepts(doc):
                continue
            if doc.year is not None:
                facets.years[doc.year] = facets.years.get(doc.year, 0) + 1
            if doc.agency:
                facets.agencies[doc.agency] = facets.agencies.get(doc.agency, 0) + 1
            for topic in doc.topics:
                facets.topics[topic] = facets.topics.get(topic, 0) + 1
            facets.statuses[doc.status] = facets.statuses.get(doc.status, 0) + 1
        return facets


def _factor(doc: IndexedDocument) -> float:
    return 1.0 if doc.is_valid else INVALID_POLICY_FACTOR
