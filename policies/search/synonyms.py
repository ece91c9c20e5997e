"""Query-time synonym expansion from the editable `policies/data/synonyms.txt`.

Expansion happens only on the query side: the index keeps the tokens of what departments
wrote, and a resident's 医保 reaches 医疗保险 by adding the partner phrase's tokens with a
lower weight than the typed words, so a policy that uses the typed word itself still wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from policies.search.document import QueryTerm

SYNONYMS_FILE = Path(__file__).resolve().parents[1] / "data" / "synonyms.txt"
# Everyday words → policy words (开个小饭馆 → 创业, 我妈 → 老年人); same format, one-way lines.
CONCEPTS_FILE = Path(__file__).resolve().parents[1] / "data" / "concepts.txt"
# Services people ask about that the library does not provide; "category => words" lines.
OUT_OF_SCOPE_FILE = Path(__file__).resolve().parents[1] / "data" / "out_of_scope.txt"
SYNONYM_WEIGHT = 0.7
# Pieces of a partner phrase (基本 from 基本医疗保险) say little on their own.
PIECE_WEIGHT = 0.2
# Between the typed phrases an expansion came from, when several lead to the same word.
ORIGIN_SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class SynonymTable:
    """phrase → the phrases a query containing it also looks for."""

    partners: dict[str, tuple[str, ...]]
    # Services the library does not provide (身份证, 房产证): policies/data/out_of_scope.txt.
    outside: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> SynonymTable:
        partners: dict[str, dict[str, None]] = {}
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if "=>" in line:
                left, right = line.split("=>", 1)
                sources = _phrases(left)
                targets = _phrases(right)
            else:
                sources = targets = _phrases(line)
            for source in sources:
                bucket = partners.setdefault(source, {})
                for target in targets:
                    if target != source:
                        bucket[target] = None
        return cls({k: tuple(v) for k, v in partners.items() if v})

    @classmethod
    def load(cls, path: Path = SYNONYMS_FILE) -> SynonymTable:
        if not path.exists():
            return cls({})
        return cls.parse(path.read_text(encoding="utf-8"))

    @classmethod
    def load_all(cls, data_dir: Path | None = None) -> SynonymTable:
        """The synonyms and the concept map together (policies.search.word_lists): as
        departments last edited them under `data_dir`, or as shipped without one."""
        from policies.search.word_lists import load_table  # late: word_lists imports this module

        return load_table(data_dir)

    def merged(self, other: SynonymTable) -> SynonymTable:
        partners = {k: dict.fromkeys(v) for k, v in self.partners.items()}
        for source, targets in other.partners.items():
            partners.setdefault(source, {}).update(dict.fromkeys(targets))
        return SynonymTable({k: tuple(v) for k, v in partners.items()}, self.outside | other.outside)

    def with_outside(self, words: frozenset[str]) -> SynonymTable:
        return SynonymTable(self.partners, words)

    def words(self) -> set[str]:
        """Every phrase on either side of a line."""
        return set(self.partners) | {p for ps in self.partners.values() for p in ps}

    def phrases_in(self, text: str) -> list[str]:
        """Known phrases occurring in the text, longer ones first and not nested in each other."""
        found = [p for p in self.partners if p in text]
        found.sort(key=len, reverse=True)
        kept: list[str] = []
        for phrase in found:
            if not any(phrase in longer for longer in kept):
                kept.append(phrase)
        return kept


def outside_words(text: str) -> frozenset[str]:
    """The words of the out-of-scope list: every line's right-hand side ("category => words"),
    or the whole line when it has no "=>"."""
    words: set[str] = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            words.update(_phrases(line.split("=>", 1)[-1]))
    return frozenset(words)


def _phrases(part: str) -> list[str]:
    return [p.strip().lower() for p in part.replace("＝", "=").split("=") if p.strip()]


class SynonymExpander:
    """Turns typed tokens into weighted query terms with synonym partners added."""

    def __init__(self, table: SynonymTable, tokenize: Callable[[str], list[str]]) -> None:
        self.table = table
        # Partner phrases are tokenised once, at start-up, with the index's tokenizer.
        self._partner_terms: dict[str, tuple[tuple[str, float], ...]] = {}
        for partners in table.partners.values():
            for partner in partners:
                if partner not in self._partner_terms:
                    self._partner_terms[partner] = _weighted_pieces(partner, tokenize(partner))

    def expand(self, text: str, tokens: Sequence[str]) -> list[QueryTerm]:
        terms = {t: QueryTerm(t) for t in tokens}
        for phrase in self.table.phrases_in(text):
            for partner in self.table.partners[phrase]:
                for token, weight in self._partner_terms.get(partner, ()):
                    known = terms.get(token)
                    if known is not None and known.origin and known.weight == weight:
                        # Several typed phrases lead here (着火, 过不下去): each is covered by it.
                        if phrase not in known.origin.split(ORIGIN_SEPARATOR):
                            terms[token] = QueryTerm(token, weight, origin=known.origin + ORIGIN_SEPARATOR + phrase)
                    elif known is None or known.weight < weight:
                        if known is not None and not known.origin:
                            continue
                        terms[token] = QueryTerm(token, weight, origin=phrase)
        return list(terms.values())


def _weighted_pieces(phrase: str, tokens: list[str]) -> tuple[tuple[str, float], ...]:
    """The whole phrase at full synonym weight when it is one token, its pieces at less."""
    whole = phrase in tokens
    pieces: dict[str, float] = {}
    for token in tokens:
        if len(token) < 2:
            continue
        if token == phrase or not whole:
            pieces[token] = SYNONYM_WEIGHT
        else:
            pieces.setdefault(token, PIECE_WEIGHT)
    return tuple(pieces.items())
