"""Homophone typos: 公基金 → 公积金, 低宝 → 低保, 补帖 → 补贴, 临时就助 → 临时救助.

Residents type with pinyin input methods, so their typos are mostly a wrong character with
the right sound. A stretch of the question that sounds exactly like a known policy term but
is written differently is replaced by the term, when the typed stretch is not itself a more
common word (救主 is rarer than 救助, but 公式 is more common than 公示 and stays).

Known terms are the policy words of the editable word lists (synonyms, concept map, user
dictionary), so departments extend typo tolerance by adding a word there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from pypinyin import Style, lazy_pinyin

MIN_TERM, MAX_TERM = 2, 7
# A typed stretch this common in jieba's dictionary is a real word, not a typo (公示 is not a
# mistyped 公司, however much more common 公司 is); 救主 (3) and 公祖 (2) are typos.
REAL_WORD_FREQUENCY = 50
_HAN = re.compile(r"^[\u3400-\u9fff]+$")


# Sounds many speakers do not tell apart (zh/z, ch/c, sh/s, eng/en, ing/in, ang/an): a typo
# made through them is still a typo of the same word.
_BLURRED = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("eng", "en"), ("ing", "in"), ("ang", "an"))


def _blur(sound: str) -> str:
    for exact, blurred in _BLURRED:
        sound = sound.replace(exact, blurred)
    return sound


def _wrong_chars_allowed(length: int) -> int:
    # One wrong character in a short word, two in a long one: more would be a different word.
    return 1 if length <= 5 else 2


class HomophoneCorrector:
    def __init__(self, terms: Iterable[str], frequency: Callable[[str], int] = lambda word: 0) -> None:
        self._frequency = frequency
        self._sound: dict[str, str] = {}
        self._terms: dict[tuple[str, ...], str | None] = {}
        for term in terms:
            if MIN_TERM <= len(term) <= MAX_TERM and _HAN.match(term):
                key = self.sound(term)
                # Two terms that sound the same cannot tell us which one was meant.
                self._terms[key] = term if self._terms.get(key, term) == term else None
        self.known = frozenset(t for t in self._terms.values() if t)

    def sound(self, text: str) -> tuple[str, ...]:
        out = []
        for char in text:
            sound = self._sound.get(char)
            if sound is None:
                sound = self._sound[char] = _blur(lazy_pinyin(char, style=Style.NORMAL)[0])
            out.append(sound)
        return tuple(out)

    def correct(self, text: str) -> str:
        """The text with homophone typos of known terms replaced; unchanged when none."""
        if not self._terms:
            return text
        sounds = self.sound(text)
        out = list(text)
        i = 0
        while i < len(text):
            step = 1
            for length in range(min(MAX_TERM, len(text) - i), MIN_TERM - 1, -1):
                typed = text[i : i + length]
                term = self._terms.get(sounds[i : i + length])
                if not term or term == typed:
                    if term == typed:
                        step = length
                        break
                    continue
                wrong = sum(a != b for a, b in zip(typed, term, strict=True))
                if (wrong <= _wrong_chars_allowed(length) and self._frequency(typed) < self._frequency(term) + 1
                        and self._frequency(typed) < REAL_WORD_FREQUENCY
                        and not self._breaks_word(text, i, length, term)):
                    out[i : i + length] = term
                    step = length
                    break
            i += step
        return "".join(out)

    def _breaks_word(self, text: str, start: int, length: int, term: str) -> bool:
        """The typed stretch's edge character is part of a real word with its neighbour
        (失业保险今年: 今 belongs to 今年; 免增值税: 增 belongs to 增值), which the term would break."""
        end = start + length
        edges = []
        if end < len(text):
            edges.append((text[end - 1 : end + 1], term[-1] + text[end]))
        if start > 0:
            edges.append((text[start - 1 : start + 1], text[start - 1] + term[0]))
        return any(typed != fixed and self._frequency(typed) >= REAL_WORD_FREQUENCY
                   and self._frequency(fixed) < REAL_WORD_FREQUENCY for typed, fixed in edges)
