"""Suggest tags for a policy draft: topics, keywords, audience, regions, eligibility, industries.

Department staff confirm or change these before publishing, so the suggestion aims for a
short list that is usually right rather than a long one that is always complete.

Topics are scored by matching the taxonomy's words (names, synonyms, seeds) against the
raw text, longest phrase first, so 养老保险 counts for social security and not as 养老 for
elderly care. Repeats add with diminishing returns (1 + ln n) so one long list of measures
cannot swamp the rest; a hit in the title is worth several in the body. A topic is kept
when its score clears an absolute floor and a fraction of the best topic's score.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from policies.text.tokenizer import get_tokenizer
from vocabulary import taxonomy

SYNONYM_WEIGHT = 2.0
SEED_WEIGHT = 1.0
WEAK_WEIGHT = 0.4
TITLE_WEIGHT = 3.0  # a word in the title says what the document is about; the body wanders
MIN_TOPIC_SCORE = 3.0
RELATIVE_TOPIC_SCORE = 0.3
# Work plans and 要点 cover several fields on purpose, and their main field piles up evidence
# in proportion to length; above this length the relative bar is lowered by sqrt(length ratio).
LONG_TEXT_CHARS = 2000
MAX_TOPICS = 5
KEYWORD_COUNT = 10
MIN_INDUSTRY_SCORE = 2.0
BOTH_AUDIENCE_RATIO = 0.5  # the weaker audience must have this share of the stronger to say "both"

KeywordMethod = Literal["tfidf", "textrank"]
DEFAULT_KEYWORD_METHOD: KeywordMethod = "tfidf"

# Words that address one audience or the other; eligibility tags and topics add to these.
_ENTERPRISE_CUES = {"企业": 1.0, "公司": 1.0, "纳税人": 1.0, "经营主体": 1.5, "市场主体": 1.5,
                    "用人单位": 1.0, "法人": 0.5, "园区": 0.5, "投资": 0.5}  # fmt: skip
_RESIDENT_CUES = {"居民": 1.0, "群众": 1.0, "个人": 0.5, "家庭": 1.0, "农户": 1.0, "学生": 1.0,
                  "老年人": 1.0, "申请人": 1.0, "参保人员": 1.0, "身份证": 0.5, "户籍": 0.5,
                  "村民": 1.0, "城乡居民": 1.0,
                  "患者": 1.0, "劳动者": 1.0, "人员": 0.3}  # fmt: skip

# Frequent in every official document, useless as a subscription keyword.
_KEYWORD_NOISE = frozenset(
    [
        "关于", "工作", "相关", "进一步", "单位", "部门", "有关", "要求", "情况", "进行",
        "加强", "推进", "开展", "实施", "落实", "做好", "提高", "提升", "建立",
        "完善", "规定", "按照", "根据", "通知", "办法", "本办法", "意见", "各类",
        "以上", "以下", "其中", "之日起", "不得", "应当", "可以", "负责", "我县",
        "全县", "县级", "乡镇", "各乡", "政府", "人民政府", "办公室", "县委", "泾源县",
        "泾源", "具体", "标准", "年度", "每年", "一次", "方式", "材料", "对象",
        "服务", "管理", "发布", "信息", "符合条件", "条件", "内容", "时间", "期间",
        "本县", "相应", "及时", "确保", "统筹", "积极", "严格", "全面", "重点",
    ]
)  # fmt: skip
_KEYWORD_SHAPE = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]+$")


@dataclass(frozen=True, slots=True)
class ScoredTopic:
    code: str
    name: str
    score: float
    triggers: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TagSuggestion:
    topics: list[ScoredTopic]
    keywords: list[str]
    audience: Literal["enterprise", "resident", "both"]
    regions: list[str]
    eligibility: list[str]
    industries: list[str]

    @property
    def topic_codes(self) -> list[str]:
        return [t.code for t in self.topics]


@dataclass(frozen=True, slots=True)
class _Matcher:
    """One longest-first alternation over a vocabulary, each phrase pointing at its labels."""

    pattern: re.Pattern[str]
    labels: dict[str, tuple[tuple[str, float], ...]]

    def count(self, text: str) -> Counter[str]:
        return Counter(m.group() for m in self.pattern.finditer(text) if self.labels.get(m.group()))


def _build_matcher(entries: list[tuple[str, str, float]], ignore: tuple[str, ...] = ()) -> _Matcher:
    labels: dict[str, dict[str, float]] = {}
    for phrase, label, weight in entries:
        per_label = labels.setdefault(phrase, {})
        per_label[label] = max(per_label.get(label, 0.0), weight)
    vocabulary = sorted({*labels, *ignore}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(p) for p in vocabulary)) if vocabulary else re.compile(r"(?!)")
    frozen = {phrase: tuple(by_label.items()) for phrase, by_label in labels.items()}
    return _Matcher(pattern, frozen)


@cache
def _topic_matcher() -> _Matcher:
    entries: list[tuple[str, str, float]] = []
    for topic in taxonomy.topics():
        entries += [(w, topic.code, WEAK_WEIGHT) for w in topic.weak]
        entries += [(w, topic.code, SEED_WEIGHT) for w in topic.seeds]
        entries += [(w, topic.code, SYNONYM_WEIGHT) for w in topic.aliases]
    return _build_matcher(entries, taxonomy.ignored_phrases())


@cache
def _eligibility_matcher() -> _Matcher:
    return _build_matcher([(w, tag.code, 1.0) for tag in taxonomy.eligibility_tags() for w in tag.aliases])


@cache
def _industry_matcher() -> _Matcher:
    return _build_matcher([(w, ind.code, 1.0) for ind in taxonomy.industries() for w in ind.cues])


@cache
def _region_matcher() -> _Matcher:
    entries = [(w, r.code, 1.0) for r in taxonomy.regions() for w in (r.name, *r.aliases)]
    return _build_matcher(entries)


@cache
def _audience_matcher() -> _Matcher:
    entries = [(w, "enterprise", weight) for w, weight in _ENTERPRISE_CUES.items()]
    entries += [(w, "resident", weight) for w, weight in _RESIDENT_CUES.items()]
    return _build_matcher(entries)


def _score(matcher: _Matcher, text: str, title: str) -> tuple[dict[str, float], dict[str, list[str]]]:
    scores: dict[str, float] = {}
    triggers: dict[str, list[str]] = {}
    hits = [(phrase, 1.0 + math.log(n)) for phrase, n in matcher.count(text).items()]
    hits += [(phrase, TITLE_WEIGHT) for phrase in matcher.count(title)]
    for phrase, strength in hits:
        for label, weight in matcher.labels[phrase]:
            scores[label] = scores.get(label, 0.0) + weight * strength
            if phrase not in triggers.setdefault(label, []):
                triggers[label].append(phrase)
    return scores, triggers


def score_topics(text: str, title: str = "") -> list[ScoredTopic]:
    """Every topic with any evidence, best first (unfiltered; for evaluation and debugging)."""
    scores, triggers = _score(_topic_matcher(), text, title)
    ranked = []
    for code, score in scores.items():
        topic = taxonomy.topic_by_code(code)
        if topic is not None:
            ranked.append(ScoredTopic(code, topic.name, round(score, 2), triggers[code]))
    ranked.sort(key=lambda t: (-t.score, t.code))
    return ranked


def relative_bar(text_length: int, relative: float = RELATIVE_TOPIC_SCORE) -> float:
    """Share of the best topic's score another topic needs; lower for long documents."""
    if text_length <= LONG_TEXT_CHARS:
        return relative
    return relative * math.sqrt(LONG_TEXT_CHARS / text_length)


def select_topics(
    ranked: list[ScoredTopic],
    *,
    min_score: float = MIN_TOPIC_SCORE,
    relative: float = RELATIVE_TOPIC_SCORE,
    limit: int = MAX_TOPICS,
) -> list[ScoredTopic]:
    if not ranked:
        return []
    floor = max(min_score, relative * ranked[0].score)
    return [t for t in ranked if t.score >= floor][:limit]


def _audience(
    text: str, title: str, eligibility: list[str], topics: list[ScoredTopic]
) -> Literal["enterprise", "resident", "both"]:
    scores, _ = _score(_audience_matcher(), text, title)
    enterprise, resident = scores.get("enterprise", 0.0), scores.get("resident", 0.0)
    for code in eligibility:
        tag = taxonomy.eligibility_by_code(code)
        if tag is not None:
            enterprise += 2.0 if tag.audience == "enterprise" else 0.0
            resident += 2.0 if tag.audience == "resident" else 0.0
    # Only one-sided topics vote: a "both" topic (就业创业) says nothing about this document.
    for rank, scored in enumerate(topics[:2]):
        topic = taxonomy.topic_by_code(scored.code)
        share = 3.0 if rank == 0 else 1.5
        if topic is not None and topic.audience == "enterprise":
            enterprise += share
        if topic is not None and topic.audience == "resident":
            resident += share
    strong, weak = max(enterprise, resident), min(enterprise, resident)
    if strong == 0 or weak >= BOTH_AUDIENCE_RATIO * strong:
        return "both"
    return "enterprise" if enterprise > resident else "resident"


def _labels_over(matcher: _Matcher, text: str, title: str, minimum: float) -> list[str]:
    scores, _ = _score(matcher, text, title)
    return [label for label, s in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])) if s >= minimum]


@cache
def _tfidf():  # type: ignore[no-untyped-def]  # jieba.analyse has no type hints
    import jieba.analyse  # late: no loop; the keyword models load only when a draft asks for tags
    import jieba.posseg  # late: likewise, its tag tables are large

    tokenizer = get_tokenizer()
    extractor = jieba.analyse.TFIDF()
    extractor.tokenizer = tokenizer.jieba
    extractor.postokenizer = jieba.posseg.POSTokenizer(tokenizer.jieba)
    extractor.stop_words = set(extractor.stop_words) | set(tokenizer.stopwords) | _KEYWORD_NOISE
    return extractor


@cache
def _textrank():  # type: ignore[no-untyped-def]
    import jieba.analyse  # late: no loop; the keyword models load only when a draft asks for tags
    import jieba.posseg  # late: likewise, its tag tables are large

    tokenizer = get_tokenizer()
    extractor = jieba.analyse.TextRank()
    extractor.tokenizer = extractor.postokenizer = jieba.posseg.POSTokenizer(tokenizer.jieba)
    extractor.stop_words = set(extractor.stop_words) | set(tokenizer.stopwords) | _KEYWORD_NOISE
    return extractor


def extract_keywords(
    text: str, title: str = "", *, top_k: int = KEYWORD_COUNT, method: KeywordMethod = DEFAULT_KEYWORD_METHOD
) -> list[str]:
    """Keywords for subscription matching; the title is repeated so its words rank higher."""
    source = f"{title}\n{title}\n{text}" if title else text
    extractor = _tfidf() if method == "tfidf" else _textrank()
    candidates = extractor.extract_tags(source, topK=top_k * 2)
    # A word jieba's dictionaries do not know came from its HMM guessing and is usually a
    # fragment of a name it split wrongly (县人社局 → 县人 + 社局): never a useful keyword.
    known = get_tokenizer().jieba.FREQ
    keywords = [w for w in candidates if _KEYWORD_SHAPE.match(w) and w not in _KEYWORD_NOISE and known.get(w)]
    return keywords[:top_k]


def suggest_tags(
    text: str, title: str = "", *, keyword_method: KeywordMethod = DEFAULT_KEYWORD_METHOD
) -> TagSuggestion:
    """Suggested tags for a policy text; cheap enough to run on every draft save."""
    text, title = text or "", title or ""
    topics = select_topics(score_topics(text, title), relative=relative_bar(len(text)))
    eligibility = _labels_over(_eligibility_matcher(), text, title, 1.0)
    return TagSuggestion(
        topics=topics,
        keywords=extract_keywords(text, title, method=keyword_method),
        audience=_audience(text, title, eligibility, topics),
        regions=_labels_over(_region_matcher(), text, title, 1.0),
        eligibility=eligibility,
        industries=_labels_over(_industry_matcher(), text, title, MIN_INDUSTRY_SCORE),
    )
