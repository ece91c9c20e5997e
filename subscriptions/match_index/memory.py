"""The match index in memory: posting arrays per (criterion, township), plus an overlay.

Layout (about 5 bytes per index row at 1M contacts, see docs/adr/0011):

* a *term* is one (key, detail, rest) of `matching.IndexRow`: "t:employment", or a keyword
  anchor with the keyword as typed and its other tokens; townships are numbered too;
* `base[(term, township)]` is a sorted int32 array of contact ids, built in bulk;
* `attr[contact]` numbers the contact's (kind, audience, industry), the columns the hard
  conditions need, so postings carry ids only;
* contacts changed since the base was built are `dead` in the base and live in a small
  dict-of-sets `overlay` instead; past `COMPACT_AFTER` contacts the overlay is folded
  into new base arrays (no database work).

`match` looks up every (term, township) the policy names, concatenates the postings, drops
dead and excluded contacts with vectorised look-ups, and groups contacts by *which* hits
they have (a bitmask over the policy's possible hits), so `Hits` objects are made once per
distinct combination, not once per contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from subscriptions import matching
from subscriptions.matching import Hits, IndexRow, PolicyQuery

COMPACT_AFTER = 20_000  # contacts in the overlay before it is folded into the base

Term = tuple[str, str, str]  # (key, detail, rest)
Attr = tuple[str, str, str]  # (kind code, audience code, industry)
Hit = tuple[str, str]  # ("all", "") | ("topic", code) | ("keyword", as typed) | ("profile", "")
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class Matched:
    """Contacts a policy matches (before pause and address checks), grouped by their hits.

    `ids` is sorted and unique; `group[i]` indexes `hits` for `ids[i]`. The `Hits` objects
    are shared by every contact of a group: read them, do not change them."""

    ids: np.ndarray = field(default_factory=lambda: _EMPTY)
    group: np.ndarray = field(default_factory=lambda: _EMPTY)
    hits: Sequence[Hits] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def as_dict(self) -> dict[int, Hits]:
        return dict(zip(self.ids.tolist(), [self.hits[g] for g in self.group.tolist()], strict=True))

    @classmethod
    def from_dict(cls, by_contact: dict[int, Hits]) -> Matched:
        groups: dict[tuple[bool, frozenset[str], frozenset[str], bool], int] = {}
        hits: list[Hits] = []
        ids = sorted(by_contact)
        group = []
        for sid in ids:
            h = by_contact[sid]
            key = (h.all_topics, frozenset(h.topics), frozenset(h.keywords), h.profile)
            if key not in groups:
                groups[key] = len(hits)
                hits.append(h)
            group.append(groups[key])
        return cls(np.array(ids, dtype=np.int64), np.array(group, dtype=np.int64), hits)


class _Numbering:
    """Dense numbers for hashable values, in first-seen order."""

    def __init__(self) -> None:
        self.values: list = []  # type: ignore[type-arg]
        self.numbers: dict = {}  # type: ignore[type-arg]

    def __call__(self, value) -> int:  # type: ignore[no-untyped-def]
        number = self.numbers.get(value)
        if number is None:
            number = self.numbers[value] = len(self.values)
            self.values.append(value)
        return number


def hit_of(term: Term) -> Hit:
    key, detail, _rest = term
    prefix, value = key[:1], key[2:]
    if prefix == "t":
        return ("all", "") if value == matching.ALL_TOPICS else ("topic", value)
    if prefix == "k":
        return ("keyword", detail)
    return ("profile", "")


def hits_of(found: Iterable[Hit]) -> Hits:
    hits = Hits()
    for kind, value in found:
        if kind == "all":
            hits.all_topics = True
        elif kind == "topic":
            hits.topics.add(value)
        elif kind == "keyword":
            hits.keywords.add(value)
        else:
            hits.profile = True
    return hits


class MemoryIndex:
    def __init__(self) -> None:
        self.terms = _Numbering()
        self.towns = _Numbering()
        self.attrs = _Numbering()
        self.terms_by_key: dict[str, list[int]] = {}
        self.base: dict[tuple[int, int], np.ndarray] = {}
        self.attr = np.zeros(0, dtype=np.uint16)
        self.dead = np.zeros(0, dtype=bool)
        self.overlay: dict[tuple[int, int], set[int]] = {}
        self.overlay_rows: dict[int, list[tuple[int, int]]] = {}

    # --- building -------------------------------------------------------------------

    def term(self, key: str, detail: str, rest: str) -> int:
        before = len(self.terms.values)
        number = self.terms((key, detail, rest))
        if number == before:
            self.terms_by_key.setdefault(key, []).append(number)
        return number

    def _grow(self, size: int) -> None:
        if size > len(self.attr):
            size = max(size, len(self.attr) * 5 // 4 + 1024)
            self.attr = np.concatenate([self.attr, np.zeros(size - len(self.attr), dtype=np.uint16)])
            self.dead = np.concatenate([self.dead, np.zeros(size - len(self.dead), dtype=bool)])

    def add_postings(self, term: Term, township: str, ids: np.ndarray) -> None:
        """Bulk load: contacts holding this (term, township) row (any order, no duplicates)."""
        pk = (self.term(*term), self.towns(township))
        fresh = np.sort(ids.astype(np.int32))
        old = self.base.get(pk)
        self.base[pk] = fresh if old is None else np.union1d(old, fresh).astype(np.int32)
        if len(fresh):
            self._grow(int(fresh[-1]) + 1)

    def set_attrs(self, attr: Attr, ids: np.ndarray) -> None:
        """Bulk load: these contacts' (kind code, audience code, industry)."""
        if len(ids):
            self._grow(int(ids.max()) + 1)
            self.attr[ids] = self.attrs(attr)

    # --- incremental upkeep ---------------------------------------------------------

    def apply(self, subscriber_id: int, rows: Iterable[IndexRow]) -> None:
        """Replace everything the index holds for one contact by `rows` (its current rows)."""
        self._grow(subscriber_id + 1)
        for pk in self.overlay_rows.pop(subscriber_id, ()):
            self.overlay[pk].discard(subscriber_id)
        self.dead[subscriber_id] = True
        pks = []
        for r in rows:
            pk = (self.term(r.key, r.detail, r.rest), self.towns(r.township))
            self.overlay.setdefault(pk, set()).add(subscriber_id)
            pks.append(pk)
            self.attr[subscriber_id] = self.attrs((r.kind, r.audience, r.industry))
        self.overlay_rows[subscriber_id] = pks
        if len(self.overlay_rows) > COMPACT_AFTER:
            self.compact()

    def compact(self) -> None:
        """Fold the overlay into the base arrays."""
        alive = ~self.dead
        keys = set(self.base) | {pk for pk, ids in self.overlay.items() if ids}
        base: dict[tuple[int, int], np.ndarray] = {}
        for pk in keys:
            old = self.base.get(pk)
            parts = [old[alive[old]]] if old is not None else []
            extra = self.overlay.get(pk)
            if extra:
                parts.append(np.fromiter(extra, dtype=np.int32, count=len(extra)))
            merged = np.sort(np.concatenate(parts)) if len(parts) > 1 else parts[0]
            if len(merged):
                base[pk] = merged.astype(np.int32, copy=False)
        self.base = base
        self.overlay, self.overlay_rows = {}, {}
        self.dead[:] = False

    # --- reading --------------------------------------------------------------------

    def rows(self) -> set[IndexRow]:
        """Everything the index holds, as index rows (for tests: it must equal a fresh build)."""
        out: set[IndexRow] = set()
        alive = ~self.dead
        for (t, w), ids in self.base.items():
            for sid in ids[alive[ids]].tolist():
                out.add(self._row(t, w, sid))
        for (t, w), sids in self.overlay.items():
            for sid in sids:
                out.add(self._row(t, w, sid))
        return out

    def _row(self, term: int, town: int, sid: int) -> IndexRow:
        key, detail, rest = self.terms.values[term]
        kind, audience, industry = self.attrs.values[int(self.attr[sid])]
        return IndexRow(key, self.towns.values[town], sid, detail, kind, audience, industry, rest)

    def nbytes(self) -> int:
        """Bytes held in arrays (the bulk of the index; dict and overlay overhead excluded)."""
        return sum(a.nbytes for a in self.base.values()) + self.attr.nbytes + self.dead.nbytes

    def _townships(self, q: PolicyQuery) -> list[int]:
        if q.townships is None:
            return list(range(len(self.towns.values)))
        return [self.towns.numbers[t] for t in q.townships if t in self.towns.numbers]

    def _attr_filters(self, q: PolicyQuery) -> tuple[np.ndarray, np.ndarray]:
        """Per attr number: passes the hard conditions; and may count as a profile hit."""
        allowed = np.zeros(max(1, len(self.attrs.values)), dtype=bool)
        profile = np.zeros_like(allowed)
        for number, (kind, audience, industry) in enumerate(self.attrs.values):
            allowed[number] = (q.audiences is None or audience in q.audiences) and not matching.industry_excluded(
                kind, industry, q
            )
            profile[number] = kind == "r" or not q.industries or industry in q.industries
        return allowed, profile

    def _candidates(self, q: PolicyQuery) -> Iterator[tuple[int, Hit]]:
        for key in q.keys:
            for number in self.terms_by_key.get(key, ()):
                term = self.terms.values[number]
                if term[2] and not all(t in q.tokens for t in term[2].split(" ")):
                    continue  # a multi-token keyword whose other tokens P lacks
                yield number, hit_of(term)

    def match(self, q: PolicyQuery) -> Matched:
        towns = self._townships(q)
        hit_numbers: dict[Hit, int] = {}
        base_ids: list[np.ndarray] = []
        base_hits: list[np.ndarray] = []
        extra_ids: list[int] = []
        extra_hits: list[int] = []
        for term, hit in self._candidates(q):
            h = hit_numbers.setdefault(hit, len(hit_numbers))
            for town in towns:
                ids = self.base.get((term, town))
                if ids is not None and len(ids):
                    base_ids.append(ids)
                    base_hits.append(np.full(len(ids), h, dtype=np.int64))
                more = self.overlay.get((term, town))
                if more:
                    extra_ids.extend(more)
                    extra_hits.extend([h] * len(more))
        if not base_ids and not extra_ids:
            return Matched()
        ids = np.concatenate(base_ids).astype(np.int64) if base_ids else _EMPTY
        hits = np.concatenate(base_hits) if base_hits else _EMPTY
        if self.overlay_rows:
            keep = ~self.dead[ids]
            ids, hits = ids[keep], hits[keep]
        if extra_ids:
            ids = np.concatenate([ids, np.array(extra_ids, dtype=np.int64)])
            hits = np.concatenate([hits, np.array(extra_hits, dtype=np.int64)])
        allowed, profile_counts = self._attr_filters(q)
        attrs = self.attr[ids]
        keep = allowed[attrs]
        profile_hits = [n for hit, n in hit_numbers.items() if hit[0] == "profile"]
        if profile_hits:
            keep &= ~np.isin(hits, profile_hits) | profile_counts[attrs]
        return _grouped(ids[keep], hits[keep], list(hit_numbers))


def _grouped(ids: np.ndarray, hits: np.ndarray, hit_list: list[Hit]) -> Matched:
    """Group (contact, hit) pairs by contact, then contacts by their set of hits."""
    if not len(ids):
        return Matched()
    order = np.lexsort((hits, ids))
    ids, hits = ids[order], hits[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    words = (len(hit_list) + 63) // 64
    masks = np.empty((len(starts), words), dtype=np.uint64)
    for w in range(words):
        in_word = (hits >> 6) == w
        bits = np.where(in_word, np.left_shift(np.uint64(1), (hits & 63).astype(np.uint64)), np.uint64(0))
        masks[:, w] = np.bitwise_or.reduceat(bits, starts)
    if words == 1:
        signatures, group = np.unique(masks[:, 0], return_inverse=True)
        signatures = signatures.reshape(-1, 1)
    else:
        signatures, group = np.unique(masks, axis=0, return_inverse=True)
    return Matched(ids[starts], group.reshape(-1).astype(np.int64), _HitsOfSignatures(signatures, hit_list))


class _HitsOfSignatures(Sequence[Hits]):
    """The `Hits` of each distinct signature, made when first asked for and then shared. A
    county-wide policy can have tens of thousands of signatures (every combination of topics
    and keywords its contacts chose): making them all up front cost ~0.45 s at 75,000
    contacts, before a fan-out could write its first 200 rows, which need only their own."""

    def __init__(self, signatures: np.ndarray, hit_list: list[Hit]) -> None:
        self.signatures = signatures
        self.hit_list = hit_list
        self.made: dict[int, Hits] = {}

    def __len__(self) -> int:
        return len(self.signatures)

    def __getitem__(self, n):  # type: ignore[no-untyped-def,override]
        if isinstance(n, slice):
            return [self[i] for i in range(*n.indices(len(self)))]
        n = int(n)
        if n < 0:
            n += len(self)
        found = self.made.get(n)
        if found is None:
            row = self.signatures[n].tolist()  # an IndexError past the end, as a list would
            bits = []
            for w, word in enumerate(row):
                while word:
                    low = word & -word
                    bits.append(self.hit_list[w * 64 + low.bit_length() - 1])
                    word ^= low
            found = self.made[n] = hits_of(bits)
        return found
