"""The exact path: a 文号 or a piece of a title in the question finds its policy first.

BM25 spreads a 文号 over tokens such as 2023 and 12 that hundreds of policies share, and a
resident who pastes 《泾源县公共租赁住房管理办法》 expects that document, not the one that
mentions 公共租赁住房 most often. Both lookups are dictionary work, cheap at 10k policies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policies.search.normalize import normalize_text
from policies.text.docno import DocNo, DocNoError, find_doc_nos, parse_doc_no

# 泾政发2023年12号, 泾政发 2023-12号, 泾政发(2023)第12号: forms the strict parser rejects.
_LOOSE_DOC_NO = re.compile(
    r"(?P<issuer>[\u4e00-\u9fff]{0,10})\s*[〔\[【(［〖]?\s*(?P<year>(?:19|20)\d{2})\s*[〕\]】)］〗年\-]?\s*"
    r"第?\s*(?P<serial>\d{1,5})\s*号"
)
_BOOK_TITLE = re.compile(r"《([^《》]{2,120})》")
_NOT_TITLE_CHARS = re.compile(r"[\s\"'“”‘’《》「」『』?？!！。,，、;；:：~～…]+")
MIN_TITLE_FRAGMENT = 4
# A fragment found in more titles than this (实施办法, 通知) is not a lookup.
MAX_TITLE_MATCHES = 5


@dataclass(frozen=True, slots=True)
class ExactMatch:
    policy_id: int
    by: str  # "doc_no" | "title"


class ExactLookup:
    def __init__(self) -> None:
        self._doc_nos: dict[tuple[int, int], dict[int, str]] = {}  # (year, serial) → {id: issuer}
        self._doc_no_of: dict[int, tuple[int, int]] = {}
        self._titles: dict[int, str] = {}
        self._bigrams: dict[str, set[int]] = {}

    def add_or_replace(self, policy_id: int, title: str, doc_no: str | None) -> None:
        self.remove(policy_id)
        if doc_no:
            try:
                parsed = parse_doc_no(doc_no, max_year=9999)
            except DocNoError:
                parsed = None
            if parsed is not None:
                key = (parsed.year, parsed.serial)
                self._doc_nos.setdefault(key, {})[policy_id] = parsed.issuer
                self._doc_no_of[policy_id] = key
        text = _clean(normalize_text(title))
        self._titles[policy_id] = text
        for gram in _bigrams(text):
            self._bigrams.setdefault(gram, set()).add(policy_id)

    def export_state(self) -> tuple[object, ...]:
        """Plain containers (marshal-able) for a snapshot; parsing 10,000 文号 again costs a second."""
        return ([(key, owners) for key, owners in self._doc_nos.items()], self._doc_no_of, self._titles,
                self._bigrams)

    @classmethod
    def from_state(cls, state: tuple[object, ...]) -> ExactLookup:
        doc_nos, doc_no_of, titles, bigrams = state
        lookup = cls()
        lookup._doc_nos = {tuple(key): dict(owners) for key, owners in doc_nos}  # type: ignore[attr-defined,misc]
        lookup._doc_no_of = {int(k): tuple(v) for k, v in doc_no_of.items()}  # type: ignore[attr-defined,misc]
        lookup._titles = dict(titles)  # type: ignore[call-overload]
        lookup._bigrams = {gram: set(ids) for gram, ids in bigrams.items()}  # type: ignore[attr-defined]
        return lookup

    def remove(self, policy_id: int) -> None:
        key = self._doc_no_of.pop(policy_id, None)
        if key is not None:
            owners = self._doc_nos.get(key, {})
            owners.pop(policy_id, None)
            if not owners:
                self._doc_nos.pop(key, None)
        text = self._titles.pop(policy_id, None)
        if text is not None:
            for gram in _bigrams(text):
                ids = self._bigrams.get(gram)
                if ids is not None:
                    ids.discard(policy_id)
                    if not ids:
                        del self._bigrams[gram]

    def find(self, query: str) -> list[ExactMatch]:
        """Policies named by the (normalised) query: 文号 matches first, then titles."""
        found: dict[int, ExactMatch] = {}
        for policy_id in self._by_doc_no(query):
            found.setdefault(policy_id, ExactMatch(policy_id, "doc_no"))
        for policy_id in self._by_title(query):
            found.setdefault(policy_id, ExactMatch(policy_id, "title"))
        return list(found.values())

    def _by_doc_no(self, query: str) -> list[int]:
        ids: list[int] = []
        candidates = [(d.issuer, d.year, d.serial) for d in map(_parse, find_doc_nos(query, max_year=9999)) if d]
        candidates += [(m["issuer"], int(m["year"]), int(m["serial"])) for m in _LOOSE_DOC_NO.finditer(query)]
        for typed_issuer, year, serial in candidates:
            owners = self._doc_nos.get((year, serial), {})
            named = [pid for pid, issuer in owners.items() if typed_issuer.endswith(issuer)]
            if not named and not typed_issuer and len(owners) == 1:
                named = list(owners)
            ids.extend(pid for pid in named if pid not in ids)
        return ids

    def _by_title(self, query: str) -> list[int]:
        fragments = [_clean(m) for m in _BOOK_TITLE.findall(query)] or [_clean(query)]
        ids: list[int] = []
        for fragment in fragments:
            if len(fragment) < MIN_TITLE_FRAGMENT:
                continue
            grams = _bigrams(fragment)
            postings = sorted((self._bigrams.get(g, set()) for g in grams), key=len)
            if not postings or not postings[0]:
                continue
            candidates = set(postings[0]).intersection(*postings[1:])
            matches = sorted(pid for pid in candidates if fragment in self._titles[pid])
            if 0 < len(matches) <= MAX_TITLE_MATCHES:
                ids.extend(pid for pid in matches if pid not in ids)
        return ids


def _parse(doc_no: str) -> DocNo | None:
    try:
        return parse_doc_no(doc_no, max_year=9999)
    except DocNoError:
        return None


def _clean(text: str) -> str:
    return _NOT_TITLE_CHARS.sub("", text)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}
