"""An in-process BM25 index over field-weighted tokens that changes one policy at a time.

Why our own and not bm25s: bm25s precomputes every score at build time, so one publish
would mean a full rebuild (6.6 s at 10k policies); here IDF and length normalisation are
computed at query time from counts kept up to date, so add, replace and remove are cheap
and the ranking after any sequence of changes equals the ranking of a fresh build.
See docs/adr/0010-search-index.md for the options measured behind the choice.

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

_NO_SLOTS = np.zeros(0, dtype=np.int32)
_NO_TFS = np.zeros(0, dtype=np.float32)


@dataclass(slots=True)
class _Postings:
    slots: np.ndarray  # int32, ascending
    tfs: np.ndarray  # float32, field-weighted term frequency


@dataclass(slots=True)
class IndexState:
    """A compacted BM25Index as arrays and plain lists: what a snapshot stores."""

    weights: dict[str, float]
    k1: float
    b: float
    terms: list[str]  # term id → term
    offsets: np.ndarray  # int64, CSR over term ids into base_slots / base_tfs
    base_slots: np.ndarray  # int32
    base_tfs: np.ndarray  # float32
    df: np.ndarray  # int64 per term id
    doc_term_offsets: np.ndarray  # int64, CSR over slots into doc_terms
    doc_terms: np.ndarray  # int32, unique term ids per slot, ascending
    lengths: np.ndarray  # float64 weighted length per slot
    # per slot: (policy_id, status, agency, topics, audience, year)
    documents: list[tuple[int, str, str, list[str], str, int | None]]


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


def _without_fields(doc: IndexedDocument) -> IndexedDocument:
    """What the index keeps of a document: filters and status, not millions of token strings."""
    return IndexedDocument(policy_id=doc.policy_id, fields={}, status=doc.status, agency=doc.agency,
                           topics=doc.topics, audience=doc.audience, year=doc.year)


class BM25Index:
    """Implements `policies.search.document.SearchIndex`.

    Postings built in bulk live in one CSR block (term id → a slice of slot and tf arrays);
    postings added later live in small per-term arrays beside it. `document()` returns the
    document without its token fields."""

    def __init__(self, weights: dict[str, float] | None = None, *, k1: float = K1, b: float = B) -> None:
        self.weights = dict(FIELD_WEIGHTS if weights is None else weights)
        self.k1 = k1
        self.b = b
        self._vocab: dict[str, int] = {}
        self._offsets = np.zeros(1, dtype=np.int64)  # CSR over term ids < len(offsets) - 1
        self._base_slots = _NO_SLOTS
        self._base_tfs = _NO_TFS
        self._delta: dict[int, _Postings] = {}
        self._df = np.zeros(0, dtype=np.int64)
        self._slot_of: dict[int, int] = {}
        self._docs: list[IndexedDocument | None] = []
        self._doc_terms: list[np.ndarray] = []  # unique term ids per slot, for df upkeep
        self._lengths = np.zeros(0, dtype=np.float64)
        self._factor = np.zeros(0, dtype=np.float64)  # 0 for dead slots
        self._total_length = 0.0

    # ----- building -------------------------------------------------------------------------

    @classmethod
    def build(cls, docs: Iterable[IndexedDocument], weights: dict[str, float] | None = None) -> BM25Index:
        """A fresh index in a few vectorised passes (no per-term Python objects)."""
        index = cls(weights)
        index._bulk_load(list({d.policy_id: d for d in docs}.values()))
        return index

    def _bulk_load(self, docs: list[IndexedDocument]) -> None:
        vocab = _Vocabulary(self._vocab)
        term_ids: list[int] = []
        field_weights: list[np.ndarray] = []
        lengths = np.zeros(len(docs), dtype=np.float64)
        doc_sizes = np.zeros(len(docs), dtype=np.int64)
        for slot, doc in enumerate(docs):
            for name, tokens in doc.fields.items():
                weight = self.weights.get(name, 1.0)
                if not tokens or weight <= 0:
                    continue
                term_ids.extend(map(vocab.__getitem__, tokens))
                field_weights.append(np.full(len(tokens), weight, dtype=np.float32))
                lengths[slot] += weight * len(tokens)
                doc_sizes[slot] += len(tokens)
        n_terms = len(vocab)
        ids = np.asarray(term_ids, dtype=np.int64)
        slots = np.repeat(np.arange(len(docs), dtype=np.int64), doc_sizes)
        tf_weights = np.concatenate(field_weights) if field_weights else _NO_TFS
        # Slot-major keys: unique pairs come out grouped by document, terms ascending.
        keys, inverse = np.unique(slots * max(n_terms, 1) + ids, return_inverse=True)
        tfs = np.bincount(inverse.ravel(), weights=tf_weights, minlength=len(keys)).astype(np.float32)
        pair_slots = (keys // max(n_terms, 1)).astype(np.int32)
        pair_terms = keys % max(n_terms, 1)
        bounds = np.searchsorted(pair_slots, np.arange(len(docs) + 1))
        self._doc_terms = [pair_terms[bounds[i] : bounds[i + 1]].astype(np.int32) for i in range(len(docs))]
        # Term-major copy for querying: stable, so slots stay ascending within each term.
        order = np.argsort(pair_terms, kind="stable")
        self._base_slots = pair_slots[order]
        self._base_tfs = tfs[order]
        counts = np.bincount(pair_terms, minlength=n_terms)
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._df = counts.astype(np.int64)
        self._delta = {}
        self._vocab = dict(vocab)
        self._docs = [_without_fields(d) for d in docs]
        self._slot_of = {d.policy_id: slot for slot, d in enumerate(docs)}
        self._lengths = lengths
        self._factor = np.array([_factor(d) for d in docs], dtype=np.float64)
        self._total_length = float(lengths.sum())

    # ----- incremental changes ----------------------------------------------------------------

    def add_or_replace(self, doc: IndexedDocument) -> None:
        old = self._slot_of.get(doc.policy_id)
        if old is not None:
            self._kill(old)
        counts, length = weighted_counts(doc, self.weights)
        slot = len(self._docs)
        ids = np.fromiter((self._term_id(t) for t in counts), dtype=np.int32, count=len(counts))
        if len(self._df) < len(self._vocab):
            self._df = np.concatenate([self._df, np.zeros(len(self._vocab) - len(self._df), np.int64)])
        self._df[ids] += 1
        for term_id, tf in zip(ids.tolist(), counts.values(), strict=True):
            postings = self._delta.get(term_id)
            if postings is None:
                self._delta[term_id] = _Postings(np.array([slot], np.int32), np.array([tf], np.float32))
            else:
                postings.slots = np.append(postings.slots, np.int32(slot))
                postings.tfs = np.append(postings.tfs, np.float32(tf))
        self._slot_of[doc.policy_id] = slot
        self._docs.append(_without_fields(doc))
        self._doc_terms.append(np.sort(ids))
        self._lengths = np.append(self._lengths, length)
        self._factor = np.append(self._factor, _factor(doc))
        self._total_length += length
        self._maybe_compact()

    def _term_id(self, term: str) -> int:
        term_id = self._vocab.get(term)
        if term_id is None:
            term_id = self._vocab[term] = len(self._vocab)
        return term_id

    def remove(self, policy_id: int) -> bool:
        """Drop a policy (deleted, or back to draft); False when it was not indexed."""
        slot = self._slot_of.get(policy_id)
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
        updated = IndexedDocument(policy_id=doc.policy_id, fields={}, status=status,
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
        self._df[self._doc_terms[slot]] -= 1
        self._doc_terms[slot] = _NO_SLOTS

    def _maybe_compact(self) -> None:
        dead = len(self._docs) - len(self._slot_of)
        if dead >= COMPACT_MIN_DEAD and dead >= COMPACT_DEAD_SHARE * len(self._docs):
            self.compact()

    def compact(self) -> None:
        """Renumber live slots into one CSR block and drop dead postings; rankings do not change."""
        live = [slot for slot, doc in enumerate(self._docs) if doc is not None]
        new_slot = np.full(len(self._docs), -1, dtype=np.int64)
        new_slot[live] = np.arange(len(live))
        n_terms = len(self._vocab)
        parts_terms, parts_slots, parts_tfs = [], [], []
        base_terms = np.repeat(np.arange(len(self._offsets) - 1), np.diff(self._offsets))
        parts_terms.append(base_terms)
        parts_slots.append(self._base_slots.astype(np.int64))
        parts_tfs.append(self._base_tfs)
        for term_id, postings in self._delta.items():
            parts_terms.append(np.full(len(postings.slots), term_id, dtype=np.int64))
            parts_slots.append(postings.slots.astype(np.int64))
            parts_tfs.append(postings.tfs)
        terms = np.concatenate(parts_terms)
        slots = new_slot[np.concatenate(parts_slots)]
        tfs = np.concatenate(parts_tfs)
        keep = slots >= 0
        terms, slots, tfs = terms[keep], slots[keep], tfs[keep]
        order = np.lexsort((slots, terms))
        self._base_slots = slots[order].astype(np.int32)
        self._base_tfs = tfs[order]
        counts = np.bincount(terms, minlength=n_terms)
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._df = counts.astype(np.int64)
        self._delta = {}
        self._docs = [self._docs[slot] for slot in live]
        self._doc_terms = [self._doc_terms[slot] for slot in live]
        self._lengths = self._lengths[live]
        self._factor = self._factor[live]
        self._slot_of = {doc.policy_id: slot for slot, doc in enumerate(self._docs) if doc is not None}

    # ----- snapshots ------------------------------------------------------------------------

    def export_state(self) -> IndexState:
        """Everything a restart needs, as arrays and plain lists (see policies/qa/snapshot.py).
        Compacts first, so the state has one CSR block and no dead slots; the arrays are
        copies, so later changes to this index do not reach a snapshot being written."""
        if self._delta or len(self._docs) != len(self._slot_of):
            self.compact()
        sizes = np.array([len(t) for t in self._doc_terms], dtype=np.int64)
        docs = [d for d in self._docs if d is not None]
        return IndexState(
            weights=dict(self.weights), k1=self.k1, b=self.b,
            terms=list(self._vocab),  # dicts keep insertion order = term id order
            offsets=self._offsets.copy(), base_slots=self._base_slots.copy(), base_tfs=self._base_tfs.copy(),
            df=self._df.copy(),
            doc_term_offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            doc_terms=(np.concatenate(self._doc_terms) if self._doc_terms else _NO_SLOTS).astype(np.int32),
            lengths=self._lengths.copy(),
            documents=[(d.policy_id, d.status, d.agency, list(d.topics), d.audience, d.year) for d in docs],
        )

    @classmethod
    def from_state(cls, state: IndexState) -> BM25Index:
        """The index `export_state` described, without touching a token string per posting."""
        n_docs = len(state.documents)
        n_terms = len(state.terms)
        if (len(state.offsets) != n_terms + 1 or len(state.df) != n_terms or len(state.lengths) != n_docs
                or len(state.doc_term_offsets) != n_docs + 1 or len(state.base_slots) != len(state.base_tfs)
                or int(state.offsets[-1]) != len(state.base_slots)
                or int(state.doc_term_offsets[-1]) != len(state.doc_terms)):
            raise ValueError("index state arrays do not fit together")
        index = cls(state.weights, k1=state.k1, b=state.b)
        index._vocab = dict(zip(state.terms, range(n_terms), strict=True))
        # The big arrays may be read-only views of a mapped snapshot file: they are only ever
        # replaced, never written in place; df and the lengths are (publish, remove), so copied.
        index._offsets = state.offsets.astype(np.int64, copy=False)
        index._base_slots = state.base_slots.astype(np.int32, copy=False)
        index._base_tfs = state.base_tfs.astype(np.float32, copy=False)
        index._df = state.df.astype(np.int64, copy=True)
        index._doc_terms = np.split(state.doc_terms.astype(np.int32, copy=False), state.doc_term_offsets[1:-1])
        index._docs = [
            IndexedDocument(policy_id=int(pid), fields={}, status=status, agency=agency, topics=tuple(topics),
                            audience=audience, year=year)
            for pid, status, agency, topics, audience, year in state.documents
        ]
        index._slot_of = {d.policy_id: slot for slot, d in enumerate(index._docs) if d is not None}
        index._lengths = state.lengths.astype(np.float64, copy=True)
        index._factor = np.array([_factor(d) for d in index._docs if d is not None], dtype=np.float64)
        index._total_length = float(index._lengths.sum())
        return index

    def _postings(self, term_id: int) -> list[tuple[np.ndarray, np.ndarray]]:
        parts = []
        if term_id < len(self._offsets) - 1:
            start, end = self._offsets[term_id], self._offsets[term_id + 1]
            if end > start:
                parts.append((self._base_slots[start:end], self._base_tfs[start:end]))
        delta = self._delta.get(term_id)
        if delta is not None:
            parts.append((delta.slots, delta.tfs))
        return parts

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
        term_id = self._vocab.get(term)
        return 0 if term_id is None or term_id >= len(self._df) else int(self._df[term_id])

    def idf(self, term: str) -> float:
        """Lucene's BM25 IDF; a term no policy contains gets the highest value."""
        n = len(self._slot_of)
        df = self.document_frequency(term)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def contains_term(self, policy_id: int, term: str) -> bool:
        slot = self._slot_of.get(policy_id)
        term_id = self._vocab.get(term)
        if slot is None or term_id is None:
            return False
        terms = self._doc_terms[slot]
        at = int(terms.searchsorted(term_id))
        return at < len(terms) and int(terms[at]) == term_id

    def _present(self, term_id: int, chosen: np.ndarray) -> np.ndarray:
        """Which of the chosen slots contain the term: one vectorised probe per postings part."""
        present = np.zeros(len(chosen), dtype=bool)
        for slots, _ in self._postings(term_id):
            at = slots.searchsorted(chosen).clip(max=len(slots) - 1)
            present |= slots[at] == chosen
        return present

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
            term_id = self._vocab.get(term)
            if term_id is None or weight <= 0:
                continue
            factor = weight * self.idf(term) * (self.k1 + 1.0)
            for slots, tf in self._postings(term_id):
                scores[slots] += factor * tf / (tf + norm[slots])
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
        chosen = np.asarray(order, dtype=np.int32)
        matched: list[list[str]] = [[] for _ in order]
        for term in dict.fromkeys(item if isinstance(item, str) else item.token for item in query):
            term_id = self._vocab.get(term)
            if term_id is None:
                continue
            for i in np.flatnonzero(self._present(term_id, chosen)).tolist():
                matched[i].append(term)
        hits = []
        for i, slot in enumerate(order):
            doc = self._docs[slot]
            assert doc is not None
            hits.append(Hit(policy_id=doc.policy_id, score=float(ranked[slot]), status=doc.status,
                            matched_terms=tuple(matched[i])))
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
