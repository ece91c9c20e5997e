"""Turn whatever a resident typed into the text the index understands.

Full-width letters and digits become ASCII (NFKC), traditional characters become
simplified, control characters and runs of white space collapse, and the text is capped:
a chat message can be a pasted 10,000-character article, and ranking cost grows with the
number of query tokens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from policies.search.hanzi import to_simplified

MAX_QUERY_CHARS = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class NormalizedQuery:
    text: str
    truncated: bool

    @property
    def has_han(self) -> bool:
        """False for emoji-only, English-only or digit-only input."""
        return bool(_HAN.search(self.text))


def normalize_text(text: str) -> str:
    """The same folding as queries get, uncapped: for titles matched against queries."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    text = to_simplified(text).lower()
    return _SPACES.sub(" ", text).strip()


def normalize_query(raw: object) -> NormalizedQuery:
    """Never raises: anything that is not a string counts as an empty question."""
    text = raw if isinstance(raw, str) else ""
    # Cap before the heavier steps too, so a megabyte paste costs nothing.
    text = normalize_text(text[: MAX_QUERY_CHARS * 4])
    truncated = len(text) > MAX_QUERY_CHARS
    return NormalizedQuery(text=text[:MAX_QUERY_CHARS], truncated=truncated)
