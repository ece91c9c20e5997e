"""How well do suggested topics match what a department would pick?

Run from the repository root: `.venv/bin/python -m bench.tag_eval`.

1. The project's own labelled set (`bench/data/tagging_set.jsonl`, written for this project):
   micro and macro precision / recall / F1 of the suggested topics, per-topic errors,
   audience and eligibility agreement, and a TF-IDF vs TextRank keyword comparison.
2. When present, the 103 real published policies in `../shared/data/real-policies.jsonl`
   (read in place, never copied into the repository). Their `topics` are free Chinese labels;
   each is mapped with `resolve_topic`, labels that map to no topic are left out, and
   documents with no mappable label are skipped. The taxonomy was tuned on set 1 only.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from policies.text.suggest import KeywordMethod, extract_keywords, suggest_tags
from vocabulary import taxonomy

LABELLED_SET = Path(__file__).resolve().parent / "data" / "tagging_set.jsonl"
REAL_POLICIES = Path(__file__).resolve().parents[2] / "shared/data/real-policies.jsonl"


@dataclass
class Example:
    id: str
    title: str
    text: str
    topics: set[str]
    eligibility: set[str] = field(default_factory=set)
    audience: str = ""


@dataclass
class Scores:
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    false_positives: Counter[str]
    false_negatives: Counter[str]
    support: Counter[str]
    documents: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def score_sets(pairs: Iterable[tuple[set[str], set[str]]]) -> Scores:
    """Precision/recall of predicted label sets against gold sets (micro: pooled; macro: per label)."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    support: Counter[str] = Counter()
    documents = 0
    for gold, predicted in pairs:
        documents += 1
        support.update(gold)
        tp.update(gold & predicted)
        fp.update(predicted - gold)
        fn.update(gold - predicted)
    total_tp, total_fp, total_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro_p, micro_r = _ratio(total_tp, total_tp + total_fp), _ratio(total_tp, total_tp + total_fn)
    labels = set(tp) | set(fp) | set(fn)
    per_p = [_ratio(tp[x], tp[x] + fp[x]) for x in labels]
    per_r = [_ratio(tp[x], tp[x] + fn[x]) for x in labels]
    macro_p = statistics.mean(per_p) if per_p else 0.0
    macro_r = statistics.mean(per_r) if per_r else 0.0
    return Scores(
        micro_p, micro_r, _f1(micro_p, micro_r), macro_p, macro_r,
        statistics.mean(_f1(p, r) for p, r in zip(per_p, per_r, strict=True)) if labels else 0.0,
        fp, fn, support, documents,
    )  # fmt: skip


def load_labelled_set(path: Path = LABELLED_SET) -> list[Example]:
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            examples.append(
                Example(
                    row["id"],
                    row["title"],
                    row["text"],
                    set(row["topics"]),
                    set(row.get("eligibility", [])),
                    row.get("audience", ""),
                )
            )
    return examples


def load_real_policies(path: Path = REAL_POLICIES) -> tuple[list[Example], Counter[str]]:
    """Real policies with their labels mapped to topic codes, and the labels that did not map."""
    examples, unmapped = [], Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        codes = set()
        for label in row.get("topics", []):
            topic = taxonomy.resolve_topic(label)
            if topic is None:
                unmapped[label] += 1
            else:
                codes.add(topic.code)
        if codes:
            examples.append(
                Example(row["id"], row.get("title", ""), row.get("text", ""), codes, set(), row["audience"])
            )
    return examples, unmapped


def predicted_topics(example: Example) -> set[str]:
    return set(suggest_tags(example.text, example.title).topic_codes)


def evaluate_topics(
    examples: list[Example], predict: Callable[[Example], set[str]] = predicted_topics
) -> Scores:
    return score_sets((e.topics, predict(e)) for e in examples)


def _print_scores(name: str, scores: Scores) -> None:
    print(f"\n== {name}: {scores.documents} documents ==")
    print(
        f"topics  micro P {scores.micro_precision:.3f}  R {scores.micro_recall:.3f}  F1 {scores.micro_f1:.3f}"
        f"   macro P {scores.macro_precision:.3f}  R {scores.macro_recall:.3f}  F1 {scores.macro_f1:.3f}"
    )
    print("per topic (gold count / missed / wrongly suggested):")
    for code in sorted(set(scores.support) | set(scores.false_positives)):
        fn, fp = scores.false_negatives[code], scores.false_positives[code]
        if fn or fp:
            print(f"  {code:<16} {scores.support[code]:>3} / {fn:>2} / {fp:>2}")


def _print_side_labels(examples: list[Example]) -> None:
    audience_hits, timings = 0, []
    eligibility_pairs = []
    for e in examples:
        started = time.perf_counter()
        suggestion = suggest_tags(e.text, e.title)
        timings.append(time.perf_counter() - started)
        audience_hits += suggestion.audience == e.audience
        eligibility_pairs.append((e.eligibility, set(suggestion.eligibility)))
    print(f"audience agreement {audience_hits}/{len(examples)}")
    if any(e.eligibility for e in examples):
        el = score_sets(eligibility_pairs)
        print(f"eligibility  micro P {el.micro_precision:.3f}  R {el.micro_recall:.3f}  F1 {el.micro_f1:.3f}")
    print(f"suggest_tags median {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms")


def _topic_vocabulary(code: str) -> set[str]:
    topic = taxonomy.topic_by_code(code)
    return set(topic.aliases + topic.seeds) if topic else set()


def compare_keyword_methods(examples: list[Example]) -> None:
    """Which extractor's keywords point at the labelled topics more often.

    on-topic: share of keywords that are a word of one of the document's gold topics;
    coverage: share of gold topics named by at least one keyword.
    """
    print("keywords (top 10)   on-topic  coverage  ms/doc")
    methods: tuple[KeywordMethod, ...] = ("tfidf", "textrank")
    for method in methods:
        extract_keywords(examples[0].text, examples[0].title, method=method)  # load the extractor first
        on_topic, covered, gold_total, keyword_total, elapsed = 0, 0, 0, 0, 0.0
        for e in examples:
            started = time.perf_counter()
            keywords = set(extract_keywords(e.text, e.title, method=method))
            elapsed += time.perf_counter() - started
            vocab = {code: _topic_vocabulary(code) for code in e.topics}
            on_topic += sum(1 for k in keywords if any(k in words for words in vocab.values()))
            keyword_total += len(keywords)
            covered += sum(1 for words in vocab.values() if keywords & words)
            gold_total += len(vocab)
        print(
            f"  {method:<16} {_ratio(on_topic, keyword_total):>9.3f} {_ratio(covered, gold_total):>9.3f}"
            f" {elapsed / len(examples) * 1000:>7.1f}"
        )


def main() -> None:
    own = load_labelled_set()
    _print_scores(f"own labelled set ({LABELLED_SET.name})", evaluate_topics(own))
    _print_side_labels(own)
    compare_keyword_methods(own)

    if not REAL_POLICIES.exists():
        print(f"\n(real policies not found at {REAL_POLICIES}; skipped)")
        return
    real, unmapped = load_real_policies()
    labels_total = sum(
        len(json.loads(x).get("topics", [])) for x in REAL_POLICIES.read_text("utf-8").splitlines() if x
    )
    _print_scores("real published policies (labels mapped with resolve_topic)", evaluate_topics(real))
    print(
        f"labels: {labels_total - sum(unmapped.values())}/{labels_total} mapped to a topic; "
        f"most common unmapped: {', '.join(f'{k}×{v}' for k, v in unmapped.most_common(8))}"
    )
    _print_side_labels(real)
    compare_keyword_methods(real)


if __name__ == "__main__":
    main()
