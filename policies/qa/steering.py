"""What a question says about the resident's situation (a place, a year, an age) and how it
steers the ranking: a question naming a city prefers that city's policy, "80岁" prefers a
policy whose age conditions include 80, and a question about another place or another year
than any candidate covers is not answered as if it were the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from policies.qa.cards import PolicyCard
from policies.search.document import Hit
from vocabulary.taxonomy import regions

PLACES_FILE = Path(__file__).resolve().parents[1] / "data" / "places.txt"
# Where a policy says where it applies: its title, its agency and the start of its text.
PLACE_TEXT_CHARS = 200
NATIONAL_AGENCY = re.compile(r"国务院|财政部|税务总局|国家|中华人民共和国")
PLACE_BOOST = 2.5
AGE_BOOST = 1.25
AMOUNT_BOOST = 1.3
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(万元|万|千元|千|元|块钱|块)")
_UNIT_YUAN = {"万": 10_000, "千": 1_000}
_YEAR = re.compile(r"(?<!\d)(20[0-4]\d|19[5-9]\d)(?=年)")
_AGE = re.compile(r"(\d{2,3})\s*(?:周岁|岁)")
_CHINESE_AGE = re.compile(r"([一二三四五六七八九])十([一二三四五六七八九])?\s*(?:周岁|岁)")
_DIGITS = "一二三四五六七八九"
_AGE_RANGE = re.compile(r"(\d{2,3})\s*[-—至到~]\s*(\d{2,3})\s*周?岁")
_AGE_FLOOR = re.compile(r"(\d{2,3})\s*周?岁(?:及|以)以?上")


class Gazetteer:
    """Place names (data file, one place a line: its short name, then other spellings)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self._aliases: list[tuple[str, str]] = []
        for raw in lines:
            line = raw.split("#", 1)[0].split()
            if line:
                self._aliases += [(alias, line[0]) for alias in line if len(alias) >= 2]
        self._aliases.sort(key=lambda pair: len(pair[0]), reverse=True)

    @classmethod
    def load(cls, path: Path = PLACES_FILE) -> Gazetteer:
        """The places file plus the county's townships from the region taxonomy (the county's
        own aliases 全县/我县 are left out: they name no other place)."""
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        lines += [" ".join((r.name, *r.aliases)) for r in regions() if r.kind == "township"]
        return cls(lines)

    def find(self, text: str) -> frozenset[str]:
        return frozenset(place for _, place in self.matches(text))

    def matches(self, text: str) -> list[tuple[str, str]]:
        """(alias as written, place) for each place named in the text, longest names first."""
        found = []
        for alias, place in self._aliases:
            if alias in text:
                found.append((alias, place))
                text = text.replace(alias, " ")
        return found


@dataclass(frozen=True, slots=True)
class QuestionFacts:
    places: frozenset[str] = frozenset()
    place_names: tuple[str, ...] = ()  # as written in the question (六安, 裕安区)
    years: frozenset[int] = frozenset()
    ages: frozenset[int] = frozenset()
    amounts: frozenset[str] = frozenset()  # as policies write them: "5000元", "30万元"


def question_facts(text: str, gazetteer: Gazetteer) -> QuestionFacts:
    ages = {int(m.group(1)) for m in _AGE.finditer(text)}
    for m in _CHINESE_AGE.finditer(text):
        ages.add(10 * (_DIGITS.index(m.group(1)) + 1) + (_DIGITS.index(m.group(2)) + 1 if m.group(2) else 0))
    amounts = {form for number, unit in _AMOUNT.findall(text) for form in _amount_forms(float(number), unit[0])}
    named = gazetteer.matches(text)
    return QuestionFacts(places=frozenset(p for _, p in named), place_names=tuple(a for a, _ in named),
                         years=frozenset(int(y) for y in _YEAR.findall(text)),
                         ages=frozenset(a for a in ages if 1 <= a <= 120), amounts=frozenset(amounts))


def _amount_forms(number: float, unit: str) -> set[str]:
    """How a policy may write the amount a resident typed: 1万 is 10000元 or 1万元."""
    yuan = number * _UNIT_YUAN.get(unit, 1)
    forms = {f"{yuan:g}元"}
    if yuan >= 10_000:
        forms.add(f"{yuan / 10_000:g}万元")
    return forms


class Steering:
    """Per-policy facts, computed the first time a policy is a candidate and kept until it changes."""

    def __init__(self, gazetteer: Gazetteer, card: Callable[[int], PolicyCard | None]) -> None:
        self.gazetteer = gazetteer
        self._card = card
        self._places: dict[int, tuple[str, frozenset[str], bool]] = {}

    def forget(self, policy_id: int) -> None:
        self._places.pop(policy_id, None)

    def places_of(self, card: PolicyCard) -> tuple[frozenset[str], bool]:
        """The places a policy names, and whether it is national (applies everywhere)."""
        known = self._places.get(card.policy_id)
        if known is None or known[0] != card.title:
            places = self.gazetteer.find(f"{card.title} {card.agency} {card.body[:PLACE_TEXT_CHARS]}")
            national = not self.gazetteer.find(card.title) and bool(NATIONAL_AGENCY.search(card.agency))
            known = self._places[card.policy_id] = (card.title, places, national)
        return known[1], known[2]

    def fits_place(self, card: PolicyCard, facts: QuestionFacts) -> bool:
        if not facts.places:
            return True
        places, national = self.places_of(card)
        return national or bool(places & facts.places)

    @staticmethod
    def fits_year(card: PolicyCard, facts: QuestionFacts) -> bool:
        if not facts.years:
            return True
        return card.year in facts.years or any(str(y) in card.title for y in facts.years)

    @staticmethod
    def fits_age(card: PolicyCard, facts: QuestionFacts) -> bool:
        text = card.body
        for age in facts.ages:
            if f"{age}周岁" in text or f"{age}岁" in text:
                return True
            if any(int(a) <= age <= int(b) for a, b in _AGE_RANGE.findall(text)):
                return True
            if any(int(a) <= age for a in _AGE_FLOOR.findall(text)):
                return True
        return False

    def steer(self, hits: list[Hit], facts: QuestionFacts) -> list[Hit]:
        """Hits re-ordered by the question's place, age and amount; unchanged when it names none."""
        if not (facts.places or facts.ages or facts.amounts) or not hits:
            return hits
        steered = []
        for hit in hits:
            card = self._card(hit.policy_id)
            factor = 1.0
            if card is not None and not hit.exact:
                if facts.places and self.fits_place(card, facts) and not self.places_of(card)[1]:
                    factor *= PLACE_BOOST
                if facts.ages and self.fits_age(card, facts):
                    factor *= AGE_BOOST
                if any(amount in card.body for amount in facts.amounts):
                    factor *= AMOUNT_BOOST
            steered.append(replace(hit, score=hit.score * factor) if factor != 1.0 else hit)
        # Exact 文号/title hits stay first, as the search put them.
        return sorted(steered, key=lambda h: (not h.exact, -h.score))
