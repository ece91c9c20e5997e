"""Is the question about a service the library does not provide (身份证, 房产证, 宅基地)?

The words come from the editable out-of-scope list (policies/data/out_of_scope.txt). A word
counts only while no released policy has it in its title, keywords or topics: once the
library publishes a policy about 宅基地, questions about 宅基地 are ranked as any other. And it
counts only when the best policy is not about another thing the question names (申请低保要带
身份证吗 is about 低保, whose policy says so in its title), so a document a policy asks for
does not turn its question away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from policies.qa.cards import PolicyCard


def about_text(card: PolicyCard) -> str:
    """What a policy says it is about: title, keywords and topics."""
    return " ".join((card.title, *card.keywords, *card.topics)).lower()


class ScopeGuard:
    def __init__(self, cards: Callable[[], Iterable[PolicyCard]]) -> None:
        self._cards = cards
        self._covered: dict[str, bool] = {}  # word → some released policy is about it
        # Every policy's about-text in one string: one substring search per new word instead
        # of a pass over 10,000 cards. Rebuilt on first use after a removal.
        self._library: str | None = None

    def forget(self, card: PolicyCard | None = None) -> None:
        """A policy was added (`card`) or removed (None): recompute what may have changed."""
        if card is None:
            self._covered = {w: c for w, c in self._covered.items() if not c}
            self._library = None
            return
        about = about_text(card)
        if self._library is not None:
            self._library += "\n" + about
        for word, covered in self._covered.items():
            if not covered and word in about:
                self._covered[word] = True

    def covered(self, word: str) -> bool:
        known = self._covered.get(word)
        if known is None:
            if self._library is None:
                self._library = "\n".join(about_text(c) for c in self._cards())
            known = self._covered[word] = word in self._library
        return known

    def outside_word(self, understood: str, outside: frozenset[str]) -> str | None:
        """The longest out-of-scope word in the question that no policy is about."""
        found = sorted((w for w in outside if w in understood), key=len, reverse=True)
        return next((w for w in found if not self.covered(w)), None)

    @staticmethod
    def about_other(card: PolicyCard, word: str, content: Iterable[str]) -> bool:
        """The policy is about another content word of the question (two characters or more,
        not a piece of the out-of-scope word)."""
        about = about_text(card)
        return any(len(w) >= 2 and w not in word and word not in w and w in about for w in content)
