"""From a typed question to ranked policies: normalise, exact lookups, tokens, synonyms, BM25.

This is the one search entry point for Q&A and for the public search API. It also says how
much of the question the best policy actually covers (`SearchResult.coverage`), which the
Q&A layer uses to decline questions the library does not answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from policies.search.bm25 import BM25Index
from policies.search.document import (
    NO_FILTERS,
    Facets,
    Hit,
    IndexedDocument,
    QueryTerm,
    SearchFilters,
)
from policies.search.lookup import ExactLookup
from policies.search.normalize import NormalizedQuery, normalize_query
from policies.search.synonyms import SYNONYM_WEIGHT, SynonymExpander, SynonymTable
from policies.search.typos import HomophoneCorrector
from policies.text.tokenizer import get_tokenizer

QUESTION_WORDS_FILE = Path(__file__).resolve().parent / "question_words.txt"
USER_DICT_FILE = Path(__file__).resolve().parents[1] / "data" / "userdict.txt"
# Enough tokens for any real question; a pasted article is cut here, not scored in full.
MAX_QUERY_TOKENS = 32
SUBWORD_WEIGHT = 0.35
# Sentence-final particles: only at the end of a clause, so that 吗啡 or 吧台 stay whole.
_PARTICLES = re.compile(r"[吗呢吧啊呀么嘛哦啦]+(?=[\s，。,.!?！？]|$)")
# A single character (钱, 交, 领) says little about which policy is meant.
SINGLE_CHAR_FACTOR = 0.5
PIECE_CREDIT = 0.5
# Words that say which aspect of a policy is asked about (材料, 条件, 电话), not which policy:
# they help pick the passage and rank, but a policy that does not use the word may still
# answer, so they weigh less in coverage.
ASPECT_WORDS = frozenset((
    "材料", "条件", "标准", "电话", "流程", "手续", "时间", "地点", "地址", "金额", "资格", "对象", "申请", "办理",
    "申领", "领取", "提交", "准备", "证件", "资料", "咨询", "期限", "截止", "步骤", "方式", "渠道", "政策",
    "报名", "申报", "补办", "审批", "到账",
))
ASPECT_WORD_FACTOR = 0.3
# Figures (5000, 80, 2023) say which amount, age or year, not which policy; the Q&A layer
# steers by them (policies/qa/steering.py).
_FIGURE = re.compile(r"^(?:\d+(?:\.\d+)?|万|千|元|块|块钱|万元|岁|周岁)$")
# More words than this and the message describes a situation, not just asks.
LONG_MESSAGE_WORDS = 8
# Understood questions kept (typo correction, filler stripping, jieba, expansion: about a
# third of an answer's CPU): residents ask the same few hundred questions again and again.
UNDERSTOOD_CACHE_SIZE = 4096
_CLAUSE = re.compile(r"[，,。.！!？?；;、\s]+")


def load_question_words(path: Path = QUESTION_WORDS_FILE) -> frozenset[str]:
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return frozenset(words)


def default_corrector(table: SynonymTable) -> HomophoneCorrector:
    """Typo tolerance for every policy word of the editable lists, judged against jieba's
    word frequencies (a typed real word more common than the term is left alone)."""
    words = table.words()
    if USER_DICT_FILE.exists():
        words |= {line.split()[0] for line in USER_DICT_FILE.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.startswith("#")}
    frequencies = get_tokenizer().jieba.FREQ
    return HomophoneCorrector(words, lambda word: frequencies.get(word, 0))


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """What the exact path needs besides the index document."""

    title: str
    doc_no: str | None


@dataclass(slots=True)
class SearchResult:
    query: NormalizedQuery
    typed_tokens: list[str] = field(default_factory=list)
    terms: list[QueryTerm] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    coverage: float = 0.0  # share (IDF-weighted) of the typed words the first hit contains
    understood: str = ""  # the question with homophone typos corrected: what was searched

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class PolicySearch:
    def __init__(
        self,
        tokenize: Callable[[str], list[str]],
        *,
        index: BM25Index | None = None,
        synonyms: SynonymTable | None = None,
        question_words: frozenset[str] | None = None,
        corrector: HomophoneCorrector | None = None,
    ) -> None:
        self.tokenize = tokenize
        self.index = index if index is not None else BM25Index()
        self.lookup = ExactLookup()
        self.use_word_lists(synonyms if synonyms is not None else SynonymTable.load_all(), corrector)
        self.question_words = question_words if question_words is not None else load_question_words()
        self._fillers = sorted((w for w in self.question_words if len(w) >= 2), key=lambda w: (-len(w), w))

    def use_word_lists(self, table: SynonymTable, corrector: HomophoneCorrector | None = None) -> None:
        """Expand queries with this table (synonyms and concepts) from now on, and tolerate
        typos of its words: the call after a department edits a list."""
        self.expander = SynonymExpander(table, self.tokenize)
        self._known_words = frozenset(ASPECT_WORDS | table.words())
        self.outside_words = table.outside
        # What a question is understood as depends on the lists: forget it with them.
        self._understood: dict[str, tuple[str, tuple[str, ...], tuple[QueryTerm, ...]]] = {}
        self.corrector = corrector if corrector is not None else default_corrector(table)

    @classmethod
    def build(cls, tokenize: Callable[[str], list[str]],
              entries: Iterable[tuple[IndexedDocument, PolicyEntry]], **kwargs: object) -> PolicySearch:
        pairs = list(entries)
        search = cls(tokenize, index=BM25Index.build(doc for doc, _ in pairs), **kwargs)  # type: ignore[arg-type]
        for doc, entry in pairs:
            search.lookup.add_or_replace(doc.policy_id, entry.title, entry.doc_no)
        return search

    # ----- changes ------------------------------------------------------------------------

    def add_or_replace(self, doc: IndexedDocument, entry: PolicyEntry) -> None:
        self.index.add_or_replace(doc)
        self.lookup.add_or_replace(doc.policy_id, entry.title, entry.doc_no)

    def remove(self, policy_id: int) -> bool:
        self.lookup.remove(policy_id)
        return self.index.remove(policy_id)

    def set_status(self, policy_id: int, status: str) -> bool:
        return self.index.set_status(policy_id, status)

    def __len__(self) -> int:
        return len(self.index)

    # ----- queries ------------------------------------------------------------------------

    def strip_fillers(self, text: str) -> str:
        """The question without its question words and fillers (怎么, 有没有, 能领, 吗), each
        replaced by a space so that jieba does not glue what is left across them (失业金能领
        多久 would otherwise give 金能领)."""
        for word in self._fillers:
            if word in text:
                text = re.sub(re.escape(word), self._filler_gap, text)
        return _PARTICLES.sub(" ", text)

    def _filler_gap(self, match: re.Match[str]) -> str:
        """A filler whose last character starts a known word (怎么办|理 in 怎么办理) keeps that
        character: the word it begins is what was asked about."""
        after = match.string[match.end() : match.end() + 3]
        last = match.group(0)[-1]
        if any((last + after[:n]) in self._known_words for n in (1, 2, 3) if len(after) >= n):
            return " " + last
        return " "

    def query_terms(self, text: str, phrase_text: str | None = None) -> tuple[list[str], list[QueryTerm]]:
        """Typed tokens and weighted terms; synonyms and concepts are looked up in
        `phrase_text` (the question before fillers were stripped) when given."""
        typed = [t for t in self.tokenize(text) if t not in self.question_words and t.strip()]
        typed = list(dict.fromkeys(typed))[:MAX_QUERY_TOKENS]
        terms = self.expander.expand(phrase_text if phrase_text is not None else text, typed)
        # Search mode also emits the pieces of a word (租房 inside 公租房); they help recall
        # but must not outweigh the word the resident typed.
        pieces = {t for t in typed if any(t != longer and t in longer for longer in typed)}
        return typed, [QueryTerm(t.token, SUBWORD_WEIGHT) if t.token in pieces and not t.origin else t
                       for t in terms]

    def search(self, raw: object, *, limit: int = 10, filters: SearchFilters = NO_FILTERS) -> SearchResult:
        """Never raises on any input; an empty result has no hits and coverage 0."""
        query = normalize_query(raw)
        result = SearchResult(query=query)
        if not query.text:
            return result
        result.understood, typed, terms = self.understand(query.text)
        result.typed_tokens, result.terms = list(typed), list(terms)
        scored = self.index.search(result.terms, limit=limit, filters=filters)
        exact = [m for m in self.lookup.find(query.text) if m.policy_id in self.index]
        result.hits = self._merge(exact, scored, result, filters, limit)
        if result.hits:
            top = result.hits[0]
            result.coverage = 1.0 if top.exact else self.coverage(top.policy_id, result)
        return result

    def understand(self, text: str) -> tuple[str, tuple[str, ...], tuple[QueryTerm, ...]]:
        """The question with typos corrected, its typed tokens and its weighted terms; the
        last few thousand are remembered (the word lists decide them, and the tokenizer)."""
        known = self._understood.get(text)
        if known is not None:
            return known
        understood = self.corrector.correct(text)
        typed, terms = self.query_terms(self.strip_fillers(understood), understood)
        known = (understood, tuple(typed), tuple(terms))
        if len(self._understood) >= UNDERSTOOD_CACHE_SIZE:
            # Oldest first (dicts keep insertion order): drop a batch, not one per question.
            for stale in list(self._understood)[: UNDERSTOOD_CACHE_SIZE // 8]:
                del self._understood[stale]
        self._understood[text] = known
        return known

    def _merge(self, exact: list, scored: list[Hit], result: SearchResult,  # type: ignore[type-arg]
               filters: SearchFilters, limit: int) -> list[Hit]:
        if not exact:
            return scored
        best = scored[0].score if scored else 1.0
        by_id = {h.policy_id: h for h in scored}
        named: list[Hit] = []
        for match in exact:
            doc = self.index.document(match.policy_id)
            if doc is None or not filters.accepts(doc):
                continue
            hit = by_id.get(match.policy_id)
            named.append(Hit(policy_id=match.policy_id, score=best + (hit.score if hit else 0.0),
                             status=doc.status, matched_terms=hit.matched_terms if hit else (), exact=True))
        # Among several named policies the valid ones come first.
        named.sort(key=lambda h: (not h.is_valid, -h.score))
        seen = {h.policy_id for h in named}
        return (named + [h for h in scored if h.policy_id not in seen])[:limit]

    def coverage(self, policy_id: int, result: SearchResult, steering_words: frozenset[str] = frozenset()) -> float:
        """IDF-weighted share of the question's words that the policy contains, itself or
        through a synonym or concept. Words are the longest typed tokens (公租房, not also
        租房); a word found only through its pieces counts for half the share of its
        characters they cover (结婚登记 is not 登记). A word no policy contains (护照, 驾照)
        weighs the most, so a question about something the library does not cover gets a
        low value; in a long message, though, such words describe the resident's situation
        (老家, 奶茶店) rather than what is asked, and are left out. `steering_words` (the
        place names the caller steers by, having checked the place itself) count only where the
        policy's text names them too."""
        typed = result.typed_tokens
        expansions = [t for t in result.terms if t.origin and t.weight >= SYNONYM_WEIGHT]

        def found(token: str) -> bool:
            return self.index.contains_term(policy_id, token) or any(
                (token in t.origin or t.origin in token) and self.index.contains_term(policy_id, t.token)
                for t in expansions)

        words = [w for w in typed if not any(w != longer and w in longer for longer in typed)]
        if len(words) <= LONG_MESSAGE_WORDS:
            share = self._share(words, typed, found, skip_unknown=False, named_places=steering_words)
            # Several questions in one (公租房怎么申请，社保卡怎么办): the policy answering one
            # of them in full is as sure an answer to that one as if it had been asked alone.
            for clause in _CLAUSE.split(result.understood):
                in_clause = [w for w in words if w in clause]
                if len(in_clause) < len(words) and any(w not in ASPECT_WORDS and len(w) > 1 for w in in_clause):
                    share = max(share, self._share(in_clause, typed, found, skip_unknown=False,
                                                   named_places=steering_words))
            return share
        # A long message: its situational words count only where some policy knows them,
        # and the clause that states the ask ("失业保险金我能不能领") may carry it alone.
        best = self._share(words, typed, found, skip_unknown=True, named_places=steering_words)
        for clause in _CLAUSE.split(result.understood):
            in_clause = [w for w in words if w in clause]
            if any(w not in ASPECT_WORDS and len(w) > 1 for w in in_clause):
                best = max(best, self._share(in_clause, typed, found, skip_unknown=True, named_places=steering_words))
        return best

    def _share(self, words: list[str], typed: list[str], found: Callable[[str], bool], *,
               skip_unknown: bool, named_places: frozenset[str] = frozenset()) -> float:
        total = covered = 0.0
        for word in words:
            unknown = skip_unknown and self.index.document_frequency(word) == 0
            if (unknown or word in named_places) and not found(word):
                continue
            weight = self.index.idf(word) * (SINGLE_CHAR_FACTOR if len(word) == 1 else 1.0) * (
                ASPECT_WORD_FACTOR if word in ASPECT_WORDS or _FIGURE.match(word) else 1.0)
            total += weight
            if found(word):
                covered += weight
                continue
            chars = [False] * len(word)
            for piece in typed:
                if piece != word and piece in word and found(piece):
                    start = word.find(piece)
                    chars[start : start + len(piece)] = [True] * len(piece)
            covered += PIECE_CREDIT * weight * sum(chars) / len(word)
        return covered / total if total else 0.0

    def facets(self, raw: object = "", filters: SearchFilters = NO_FILTERS) -> Facets:
        query = normalize_query(raw)
        terms = self.query_terms(query.text)[1] if query.text else []
        return self.index.facets(terms, filters)
