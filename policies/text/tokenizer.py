"""One small interface over the Chinese segmenter.

Everything that needs words (search index, keyword matching, tag suggestion) goes through
`get_tokenizer()`, so a faster segmenter that gives the same tokens can replace jieba on the
hot path without touching callers. jieba is initialised once, eagerly, with the project's
user dictionary (policy terms that must stay whole words) and every word of the taxonomy
(topic names, synonyms and seeds, eligibility cues, place names), so a policy term edited
into `topics.toml` is a whole word at the next start without a second list to maintain.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import jieba

from vocabulary.taxonomy import dictionary_words

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
USER_DICT = DATA_DIR / "userdict.txt"
STOPWORDS_FILE = DATA_DIR / "stopwords.txt"

_WORD_CHAR = re.compile(r"[\w\u3400-\u9fff]")

# New taxonomy words get at least this frequency, the same as the hand-written user
# dictionary: jieba's own suggestion is only just enough to keep the word whole when it
# stands alone, and loses to a neighbouring word in running text.
TAXONOMY_WORD_FREQ = 2000
# lcut_for_search adds only 2- and 3-character sub-words; policy compounds hide 4-character
# terms (城乡居民基本医疗保险 → 医疗保险) that a query must still reach.
_LONG_SUBWORD = 4


class Tokenizer(Protocol):
    def words(self, text: str) -> list[str]:
        """Precise-mode words, punctuation and stopwords dropped."""
        ...

    def index_tokens(self, text: str) -> list[str]:
        """Search-mode tokens (words plus their sub-words) for indexing, filtered."""
        ...

    def query_tokens(self, text: str) -> list[str]:
        """Tokens of a short query; same vocabulary as index_tokens."""
        ...


def _load_stopwords() -> frozenset[str]:
    if not STOPWORDS_FILE.exists():
        return frozenset()
    lines = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


class JiebaTokenizer:
    def __init__(self) -> None:
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = None
        self._lock = threading.Lock()
        self._ready = False
        self.stopwords = _load_stopwords()

    def initialize(self) -> None:
        with self._lock:
            if self._ready:
                return
            self._jieba.initialize()
            if USER_DICT.exists():
                self._jieba.load_userdict(str(USER_DICT))
            self._add_taxonomy_words()
            self._ready = True

    def _add_taxonomy_words(self) -> None:
        freq = self._jieba.FREQ
        for word in dictionary_words():
            if not freq.get(word):
                self._jieba.add_word(word, TAXONOMY_WORD_FREQ)

    def add_word(self, word: str, freq: int | None = None) -> None:
        self.initialize()
        self._jieba.add_word(word, freq)

    def _keep(self, token: str) -> bool:
        token = token.strip()
        return bool(token) and token not in self.stopwords and bool(_WORD_CHAR.search(token))

    def words(self, text: str) -> list[str]:
        self.initialize()
        return [t.strip().lower() for t in self._jieba.lcut(text) if self._keep(t)]

    def index_tokens(self, text: str) -> list[str]:
        self.initialize()
        tokens: list[str] = []
        for token in self._jieba.lcut_for_search(text):
            if not self._keep(token):
                continue
            tokens.extend(self._long_subwords(token))
            tokens.append(token.strip().lower())
        return tokens

    def _long_subwords(self, token: str) -> list[str]:
        """Dictionary words of 4+ characters inside a longer token (not produced by jieba)."""
        if len(token) <= _LONG_SUBWORD:
            return []
        freq = self._jieba.FREQ
        found = []
        for size in range(_LONG_SUBWORD, len(token)):
            for start in range(len(token) - size + 1):
                piece = token[start : start + size]
                if freq.get(piece) and piece not in self.stopwords:
                    found.append(piece)
        return found

    def query_tokens(self, text: str) -> list[str]:
        return self.index_tokens(text)

    @property
    def jieba(self) -> jieba.Tokenizer:
        """The underlying jieba instance, for keyword extraction."""
        self.initialize()
        return self._jieba


@lru_cache(maxsize=1)
def get_tokenizer() -> JiebaTokenizer:
    return JiebaTokenizer()
