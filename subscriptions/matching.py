"""The match rule: who should get a published policy, and why.

A contact (a `Subscriber` row) matches policy P when all the hard conditions hold

1. P's application window is not closed (`application_closes` before today in China
   excludes everyone: nobody is told about a deadline that has passed);
2. the contact is not paused and has an active address (checked by the store, per address);
3. audience: P is for "both", or the contact wants P's audience or "both";
4. township: P is county-wide (no regions, or the county's own code among them), or the
   contact's townships contain one of P's regions or "*". A contact's townships are its
   explicit township criteria, else its home township (its own, or its enterprise's);
   a contact with neither gets county-wide policies only;
5. industry: an enterprise contact whose enterprise declared an industry is excluded when
   P names industries and that one is not among them (residents and hubs are not);

and at least one of these holds

a. topic: the contact subscribed to one of P's topics, or to all topics;
b. keyword: every jieba query token of one of its keywords is in P's search tokens;
c. profile (only with `recommend_by_profile`, not for hub operators): P names eligibility
   tags or industries, its profile holds one of P's eligibility tags (when P names any)
   and, for an enterprise, its declared industry is one of P's (when P names any).
   Residents match on groups only, enterprises on qualifications (小微企业 also from size).

Conditions the contact has not declared never exclude: they are stated as a reason
(请核对是否符合条件：高新技术企业). Hubs whose member enterprises are in scope (hard
conditions 1, 3 for enterprises, 4 on the member's township, 5) are added as relayers.

This module is pure: `index_rows` says what the index holds for a contact, `query` what
to look up for a policy, `brute_force` is the rule itself (the reference the indexed path
is tested against), and `reasons` turns hits into plain Chinese.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from policies.views import PolicyView
from vocabulary import taxonomy

COUNTY_CODES = frozenset(r.code for r in taxonomy.regions() if r.kind == "county")
ALL_TOWNSHIPS = "*"
ALL_TOPICS = "*"
NO_TOWNSHIP = ""

KIND_CODE = {"resident": "r", "enterprise": "e", "hub": "h"}
AUDIENCE_CODE = {"resident": "r", "enterprise": "e", "both": "b"}
# Sizes that make an enterprise a 小微企业 without it being declared as a qualification.
SMALL_MICRO_SIZES = frozenset({"small", "micro"})
SMALL_MICRO_TAG = "small_micro"


@dataclass(frozen=True)
class ContactFacts:
    """Everything the rule needs to know about one contact."""

    subscriber_id: int
    kind: str  # "resident" | "enterprise" | "hub"
    audience: str  # "resident" | "enterprise" | "both"
    townships: frozenset[str]  # effective townships; may hold "*"; empty = county-wide only
    all_topics: bool = False
    topics: frozenset[str] = frozenset()
    keywords: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (keyword as typed, its tokens)
    recommend_by_profile: bool = False
    profile_tags: frozenset[str] = frozenset()  # qualifications (+ size) or resident groups
    industry: str = ""  # declared by the enterprise; "" for residents and hubs


@dataclass
class Hits:
    """Why one contact matched (collected from the index or by brute force)."""

    all_topics: bool = False
    topics: set[str] = field(default_factory=set)
    keywords: set[str] = field(default_factory=set)
    profile: bool = False

    def __bool__(self) -> bool:
        return self.all_topics or bool(self.topics) or bool(self.keywords) or self.profile


@dataclass(frozen=True)
class IndexRow:
    key: str
    township: str
    subscriber_id: int
    detail: str
    kind: str
    audience: str
    industry: str
    rest: str


@dataclass(frozen=True)
class PolicyQuery:
    """What to look up in the index for one policy."""

    keys: tuple[str, ...]
    townships: tuple[str, ...] | None  # None: county-wide, any township
    audiences: tuple[str, ...] | None  # audience codes accepted; None: any
    industries: tuple[str, ...]  # P's industries; () = no industry condition
    eligibility: frozenset[str]
    tokens: frozenset[str]


def profile_tags(kind: str, qualifications: Iterable[str], size: str, groups: Iterable[str]) -> frozenset[str]:
    if kind == "enterprise":
        tags = set(qualifications)
        if size in SMALL_MICRO_SIZES:
            tags.add(SMALL_MICRO_TAG)
        return frozenset(tags)
    if kind == "resident":
        return frozenset(groups)
    return frozenset()


def anchor_and_rest(tokens: tuple[str, ...]) -> tuple[str, str]:
    """The token a keyword is indexed under (the longest: rarest in practice) and the others."""
    anchor = max(tokens, key=lambda t: (len(t), t))
    rest = sorted(set(tokens) - {anchor})
    return anchor, " ".join(rest)


def index_rows(facts: ContactFacts) -> set[IndexRow]:
    towns = facts.townships or frozenset({NO_TOWNSHIP})
    keyed: list[tuple[str, str, str]] = []  # (key, detail, rest)
    if facts.all_topics:
        keyed.append(("t:" + ALL_TOPICS, "", ""))
    keyed += [("t:" + topic, "", "") for topic in facts.topics]
    for keyword, tokens in facts.keywords:
        anchor, rest = anchor_and_rest(tokens)
        keyed.append(("k:" + anchor, keyword, rest))
    if facts.recommend_by_profile and facts.kind != "hub":
        keyed += [("p:" + tag, "", "") for tag in facts.profile_tags]
        if facts.industry:
            keyed.append(("i:" + facts.industry, "", ""))
    kind, audience = KIND_CODE[facts.kind], AUDIENCE_CODE[facts.audience]
    return {
        IndexRow(key, town, facts.subscriber_id, detail, kind, audience, facts.industry, rest)
        for town in towns
        for key, detail, rest in keyed
    }


def regional_townships(policy: PolicyView) -> frozenset[str] | None:
    """The townships a policy is limited to, or None when it is county-wide."""
    regions = frozenset(policy.regions)
    if not regions or regions & COUNTY_CODES:
        return None
    return regions


def window_closed(policy: PolicyView, today: datetime.date) -> bool:
    return policy.application_closes is not None and policy.application_closes < today


def accepted_audiences(policy: PolicyView) -> tuple[str, ...] | None:
    if policy.audience == "enterprise":
        return ("e", "b")
    if policy.audience == "resident":
        return ("r", "b")
    return None


def query(policy: PolicyView) -> PolicyQuery:
    keys = ["t:" + ALL_TOPICS, *("t:" + t for t in policy.topics)]
    keys += ["k:" + token for token in sorted(policy.tokens)]
    if policy.eligibility:
        keys += ["p:" + tag for tag in policy.eligibility]
    elif policy.industries:
        keys += ["i:" + code for code in policy.industries]
    towns = regional_townships(policy)
    return PolicyQuery(
        keys=tuple(dict.fromkeys(keys)),
        townships=None if towns is None else (*sorted(towns), ALL_TOWNSHIPS),
        audiences=accepted_audiences(policy),
        industries=tuple(policy.industries),
        eligibility=frozenset(policy.eligibility),
        tokens=frozenset(policy.tokens),
    )


def industry_excluded(kind_code: str, industry: str, q: PolicyQuery) -> bool:
    return bool(q.industries) and kind_code == "e" and industry != "" and industry not in q.industries


def add_hit(hits: Hits, key: str, detail: str, rest: str, kind_code: str, industry: str, q: PolicyQuery) -> None:
    """Fold one index row that passed the SQL conditions into a contact's hits."""
    prefix, value = key[:1], key[2:]
    if prefix == "t":
        if value == ALL_TOPICS:
            hits.all_topics = True
        else:
            hits.topics.add(value)
    elif prefix == "k":
        if not rest or all(t in q.tokens for t in rest.split(" ")):
            hits.keywords.add(detail)
    elif kind_code == "r" or not q.industries or industry in q.industries:
        # "p:" rows were looked up only for P's tags, "i:" rows only for P's industries.
        hits.profile = True


def brute_force(facts: ContactFacts, policy: PolicyView, today: datetime.date) -> Hits | None:
    """The rule applied to one contact directly: the reference for the indexed matcher."""
    if window_closed(policy, today):
        return None
    auds = accepted_audiences(policy)
    if auds is not None and AUDIENCE_CODE[facts.audience] not in auds:
        return None
    towns = regional_townships(policy)
    if towns is not None and ALL_TOWNSHIPS not in facts.townships and not (facts.townships & towns):
        return None
    if matching_industry_excluded(facts, policy):
        return None
    hits = Hits(all_topics=facts.all_topics, topics=facts.topics & set(policy.topics))
    hits.keywords = {kw for kw, tokens in facts.keywords if set(tokens) <= policy.tokens}
    if facts.recommend_by_profile and facts.kind != "hub":
        hits.profile = profile_meets(facts.kind, facts.profile_tags, facts.industry, policy)
    return hits or None


def matching_industry_excluded(facts: ContactFacts, policy: PolicyView) -> bool:
    declared = facts.kind == "enterprise" and facts.industry != ""
    return bool(policy.industries) and declared and facts.industry not in policy.industries


def profile_meets(kind: str, tags: frozenset[str], industry: str, policy: PolicyView) -> bool:
    eligibility, industries = set(policy.eligibility), set(policy.industries)
    if kind == "resident":
        return bool(eligibility & tags)
    if not eligibility and not industries:
        return False
    tags_ok = not eligibility or bool(eligibility & tags)
    industry_ok = not industries or industry in industries
    return tags_ok and industry_ok


def _tag_name(code: str) -> str:
    tag = taxonomy.eligibility_by_code(code)
    return tag.name if tag else code


def _tag_audience(code: str) -> str | None:
    tag = taxonomy.eligibility_by_code(code)
    return tag.audience if tag else None


def _topic_name(code: str) -> str:
    topic = taxonomy.topic_by_code(code)
    return topic.name if topic else code


def _industry_name(code: str) -> str:
    industry = taxonomy.industry_by_code(code)
    return industry.name if industry else code


def eligibility_reasons(
    kind: str, tags: frozenset[str], industry: str, policy: PolicyView, *, verified: bool = True
) -> list[str]:
    """What the profile says about P's conditions: met ones, and ones to check. An unverified
    enterprise's profile is only what its contact typed in a chat: its "met" conditions say so."""
    if kind == "hub":
        return []
    reasons: list[str] = []
    own_audience = "enterprise" if kind == "enterprise" else "resident"
    unverified = kind == "enterprise" and not verified
    subject = ("贵企业自报为" if unverified else "贵企业为") if kind == "enterprise" else "您属于"
    unconfirmed = UNVERIFIED_NOTE if unverified else ""
    for code in policy.eligibility:
        if _tag_audience(code) not in (own_audience, None):
            continue
        if code in tags:
            reasons.append(f"{subject}{_tag_name(code)}{unconfirmed}")
        else:
            reasons.append(f"请核对是否符合条件：{_tag_name(code)}")
    if kind == "enterprise" and policy.industries:
        if industry in policy.industries:
            reasons.append(f"贵企业{'自报' if unverified else ''}属于{_industry_name(industry)}{unconfirmed}")
        elif not industry:
            names = "、".join(_industry_name(c) for c in policy.industries)
            reasons.append(f"请核对是否符合条件：属于{names}")
    return reasons


def reasons(
    hits: Hits, kind: str, tags: frozenset[str], industry: str, policy: PolicyView, *, verified: bool = True
) -> tuple[str, ...]:
    """Why a contact gets P, in plain Chinese, in a stable order. `verified`: whether the
    enterprise's profile is confirmed by the county (see `claims.is_known_to_county`)."""
    lines: list[str] = []
    if hits.all_topics:
        lines.append("您订阅了全部政策")
    lines += [f"您订阅了“{_topic_name(t)}”" for t in policy.topics if t in hits.topics]
    lines += [f"您关注的关键词“{kw}”" for kw in sorted(hits.keywords)]
    if hits.profile:
        if kind == "enterprise":
            lines.append("根据您登记的企业信息推荐" + ("" if verified else UNVERIFIED_NOTE))
        else:
            lines.append("根据您登记的身份信息推荐")
    lines += eligibility_reasons(kind, tags, industry, policy, verified=verified)
    return tuple(lines)


UNVERIFIED_NOTE = "（未经核实，请自行核对）"


REASON_KIND_LABELS = {
    "topic": "订阅主题",
    "all": "订阅全部",
    "keyword": "关键词",
    "profile": "画像推荐",
    "check": "需核对条件",
    "relay": "园区/协会转达",
}


def reason_kinds(hits: Hits, lines: Iterable[str]) -> list[str]:
    kinds: list[str] = []
    if hits.topics:
        kinds.append("topic")
    if hits.all_topics:
        kinds.append("all")
    if hits.keywords:
        kinds.append("keyword")
    if hits.profile:
        kinds.append("profile")
    if any(line.startswith("请核对") for line in lines):
        kinds.append("check")
    return kinds


def member_in_scope(township: str, industry: str, policy: PolicyView, today: datetime.date) -> bool:
    """Whether a hub's member enterprise is one the policy is for (hard conditions only)."""
    if window_closed(policy, today) or policy.audience == "resident":
        return False
    towns = regional_townships(policy)
    if towns is not None and township not in towns:
        return False
    return not (policy.industries and industry and industry not in policy.industries)
