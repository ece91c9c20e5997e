"""The policy taxonomy: topics, eligibility tags, industries and regions.

The lists live in editable TOML files under `vocabulary/data/` so a department can add a seed
word without touching code. Each file is read once and cached; `reload()` drops the cache
(for tests or after an edit). Unknown codes and names resolve to None, never an exception.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, TypeVar

DATA_DIR = Path(__file__).resolve().parent / "data"
TOPICS_FILE = DATA_DIR / "topics.toml"
ELIGIBILITY_FILE = DATA_DIR / "eligibility.toml"
INDUSTRIES_FILE = DATA_DIR / "industries.toml"
REGIONS_FILE = DATA_DIR / "regions.toml"

MAX_CODE_LENGTH = 16  # Telegram callback data is 64 bytes; codes share it with a prefix and ids.

Audience = Literal["enterprise", "resident", "both"]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Topic:
    code: str
    name: str
    audience: Audience
    synonyms: tuple[str, ...]
    seeds: tuple[str, ...]
    weak: tuple[str, ...] = ()

    @property
    def aliases(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)


@dataclass(frozen=True, slots=True)
class EligibilityTag:
    code: str
    name: str
    audience: Literal["enterprise", "resident"]
    cues: tuple[str, ...]

    @property
    def aliases(self) -> tuple[str, ...]:
        return (self.name, *self.cues)


@dataclass(frozen=True, slots=True)
class Industry:
    code: str
    name: str
    cues: tuple[str, ...]

    @property
    def aliases(self) -> tuple[str, ...]:
        return (self.name,)


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    kind: Literal["county", "township"]
    parent: str
    aliases: tuple[str, ...]


class TaxonomyError(ValueError):
    """A taxonomy file is inconsistent (duplicate or over-long code, bad audience)."""


def _read(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _words(value: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(w.strip() for w in (value or ()) if w.strip())


def _check_codes(kind: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if not code.isascii() or not code or len(code) > MAX_CODE_LENGTH:
            raise TaxonomyError(f"{kind} code {code!r} must be ASCII and at most {MAX_CODE_LENGTH} chars")
        if code in seen:
            raise TaxonomyError(f"duplicate {kind} code {code!r}")
        seen.add(code)


@cache
def topics() -> tuple[Topic, ...]:
    raw = _read(TOPICS_FILE)
    items = tuple(
        Topic(
            code=t["code"],
            name=t["name"],
            audience=t.get("audience", "both"),
            synonyms=_words(t.get("synonyms")),
            seeds=_words(t.get("seeds")),
            weak=_words(t.get("weak")),
        )
        for t in raw.get("topic", [])
    )
    _check_codes("topic", [t.code for t in items])
    for t in items:
        if t.audience not in ("enterprise", "resident", "both"):
            raise TaxonomyError(f"topic {t.code}: audience {t.audience!r}")
    return items


@cache
def ignored_phrases() -> tuple[str, ...]:
    """Phrases that contain a topic seed but mean something else (主题教育, 保障措施)."""
    return _words(_read(TOPICS_FILE).get("ignore"))


@cache
def eligibility_tags() -> tuple[EligibilityTag, ...]:
    raw = _read(ELIGIBILITY_FILE)
    items = tuple(
        EligibilityTag(code=t["code"], name=t["name"], audience=t["audience"], cues=_words(t.get("cues")))
        for t in raw.get("tag", [])
    )
    _check_codes("eligibility", [t.code for t in items])
    for t in items:
        if t.audience not in ("enterprise", "resident"):
            raise TaxonomyError(f"eligibility {t.code}: audience {t.audience!r}")
    return items


@cache
def industries() -> tuple[Industry, ...]:
    raw = _read(INDUSTRIES_FILE)
    items = tuple(
        Industry(code=t["code"], name=t["name"], cues=_words(t.get("cues"))) for t in raw.get("industry", [])
    )
    _check_codes("industry", [t.code for t in items])
    return items


@cache
def regions() -> tuple[Region, ...]:
    raw = _read(REGIONS_FILE)
    items = tuple(
        Region(
            code=r["code"],
            name=r["name"],
            kind=r.get("kind", "township"),
            parent=r.get("parent", ""),
            aliases=_words(r.get("aliases")),
        )
        for r in raw.get("region", [])
    )
    _check_codes("region", [r.code for r in items])
    return items


def reload() -> None:
    """Forget the cached files (after editing them, or in tests)."""
    for loader in (topics, ignored_phrases, eligibility_tags, industries, regions, _indexes):
        loader.cache_clear()


@dataclass(frozen=True, slots=True)
class _Indexes:
    topic_code: dict[str, Topic]
    topic_name: dict[str, Topic]
    topic_any: dict[str, Topic]
    eligibility_code: dict[str, EligibilityTag]
    eligibility_any: dict[str, EligibilityTag]
    industry_code: dict[str, Industry]
    industry_any: dict[str, Industry]
    region_code: dict[str, Region]
    region_any: dict[str, Region]


def _first_wins(pairs: Iterable[tuple[str, _T]]) -> dict[str, _T]:
    # A word listed under two entries resolves to the first; codes and names are added first
    # so that a synonym can never shadow an exact name.
    index: dict[str, _T] = {}
    for key, value in pairs:
        index.setdefault(key, value)
    return index


@cache
def _indexes() -> _Indexes:
    ts, es, ins, rs = topics(), eligibility_tags(), industries(), regions()
    return _Indexes(
        topic_code={t.code: t for t in ts},
        topic_name={t.name: t for t in ts},
        topic_any=_first_wins(
            [(t.code, t) for t in ts] + [(t.name, t) for t in ts] + [(s, t) for t in ts for s in t.synonyms]
        ),
        eligibility_code={e.code: e for e in es},
        eligibility_any=_first_wins(
            [(e.code, e) for e in es] + [(e.name, e) for e in es] + [(c, e) for e in es for c in e.cues]
        ),
        industry_code={i.code: i for i in ins},
        industry_any=_first_wins([(i.code, i) for i in ins] + [(i.name, i) for i in ins]),
        region_code={r.code: r for r in rs},
        region_any=_first_wins(
            [(r.code, r) for r in rs] + [(r.name, r) for r in rs] + [(a, r) for r in rs for a in r.aliases]
        ),
    )


def _key(value: str | None) -> str:
    return (value or "").strip()


def topic_by_code(code: str) -> Topic | None:
    return _indexes().topic_code.get(_key(code))


def topic_by_name(name: str) -> Topic | None:
    return _indexes().topic_name.get(_key(name))


def resolve_topic(code_or_name: str) -> Topic | None:
    """A topic from its code, Chinese name or one of its synonyms (社会救助, 临时救助 …)."""
    key = _key(code_or_name)
    return _indexes().topic_any.get(key) or _indexes().topic_any.get(key.lower())


def eligibility_by_code(code: str) -> EligibilityTag | None:
    return _indexes().eligibility_code.get(_key(code))


def resolve_eligibility(code_or_name: str) -> EligibilityTag | None:
    return _indexes().eligibility_any.get(_key(code_or_name))


def industry_by_code(code: str) -> Industry | None:
    return _indexes().industry_code.get(_key(code).upper())


def resolve_industry(code_or_name: str) -> Industry | None:
    key = _key(code_or_name)
    return _indexes().industry_any.get(key.upper() if len(key) == 1 else key)


def region_by_code(code: str) -> Region | None:
    return _indexes().region_code.get(_key(code))


def resolve_region(code_or_name: str) -> Region | None:
    return _indexes().region_any.get(_key(code_or_name))


def dictionary_words() -> list[str]:
    """Every taxonomy word the segmenter must keep whole (names, synonyms, seeds, cues, places)."""
    words: list[str] = []
    for t in topics():
        words += [t.name, *t.synonyms, *t.seeds]
    for e in eligibility_tags():
        words += [e.name, *e.cues]
    for r in regions():
        words += [r.name, *r.aliases]
    # One character carries no segmentation decision; digits are cut by jieba anyway.
    return sorted({w for w in words if len(w) >= 2 and not w.isascii() and "、" not in w})
