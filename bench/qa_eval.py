"""Q&A quality on our own evaluation set, next to a plain baseline run in the same script.

    .venv/bin/python -m bench.qa_eval            # our set (bench/data/qa)
    .venv/bin/python -m bench.qa_eval --misses   # also list the questions we get wrong
    .venv/bin/python -m bench.qa_eval --no-real  # only our own set

Then, when ../shared/data/real-policies.jsonl is present, the real set (bench/qa_real.py):
the 103 real policies published through the policy service, 300 questions in residents'
words (tuning part, held-out part, whole), each next to the plain jieba + BM25 baseline,
and the trade-off table the answer thresholds were calibrated on.

The set: 64 county policies with interpretation elements (bench/data/qa/policies.jsonl) and
questions typed the way residents type them, each with its correct policies, including
questions the library cannot answer (bench/data/qa/questions.tsv).

Ours: policies.qa.QaEngine (normalisation, exact 文号/title lookup, synonyms, field weights,
validity ordering, coverage threshold). Baseline: jieba search-mode tokens of the whole
document + bm25s, no synonyms, no field weights, no threshold (so it declines nothing).

Recall@k and MRR are over the ranking of answerable questions; "answered right" also
requires that the engine did not decline the question. When the real-policies file of the
shared folder is present, a passage-retrieval check on it is printed too.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from policies.qa.cards import PolicyCard
from policies.qa.engine import QaEngine
from policies.qa.models import AnswerKind
from policies.text.tokenizer import get_tokenizer

DATA_DIR = Path(__file__).resolve().parent / "data" / "qa"
POLICIES_FILE = DATA_DIR / "policies.jsonl"
QUESTIONS_FILE = DATA_DIR / "questions.tsv"
REAL_POLICIES_FILE = Path(__file__).resolve().parents[2] / "shared/data/real-policies.jsonl"


@dataclass(frozen=True)
class Question:
    text: str
    gold: frozenset[int]
    tag: str


@dataclass
class Scores:
    name: str
    answerable: int = 0
    unanswerable: int = 0
    hit1: int = 0
    hit3: int = 0
    rr: float = 0.0
    answered_right: int = 0
    declined_answerable: int = 0
    declined_unanswerable: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, question: Question, ranking: Sequence[int], declined: bool, answered_top: int | None) -> None:
        if not question.gold:
            self.unanswerable += 1
            self.declined_unanswerable += declined
            if not declined:
                self.misses.append(f"[应拒答] {question.text} → {answered_top}")
            return
        self.answerable += 1
        rank = next((i for i, pid in enumerate(ranking, 1) if pid in question.gold), None)
        self.hit1 += rank == 1
        self.hit3 += rank is not None and rank <= 3
        self.rr += 1.0 / rank if rank else 0.0
        self.declined_answerable += declined
        self.answered_right += (not declined) and answered_top in question.gold
        if rank != 1 or declined:
            self.misses.append(f"[{question.tag}] {question.text} gold={sorted(question.gold)} "
                               f"ranking={list(ranking[:3])} rank={rank} declined={declined}")

    def row(self) -> str:
        a = max(self.answerable, 1)
        u = max(self.unanswerable, 1)
        return (f"{self.name:<10} {self.hit1 / a:>9.3f} {self.hit3 / a:>9.3f} {self.rr / a:>6.3f} "
                f"{self.answered_right / a:>15.3f} {self.declined_answerable / a:>15.3f} "
                f"{self.declined_unanswerable / u:>16.3f}")

    @property
    def recall_at_3(self) -> float:
        return self.hit3 / max(self.answerable, 1)

    @property
    def recall_at_1(self) -> float:
        return self.hit1 / max(self.answerable, 1)

    @property
    def declined_share(self) -> float:
        return self.declined_unanswerable / max(self.unanswerable, 1)


HEADER = (f"{'engine':<10} {'Recall@1':>9} {'Recall@3':>9} {'MRR':>6} {'answered right':>15} "
          f"{'false declines':>15} {'no-answer declined':>16}")


def load_policies(path: Path = POLICIES_FILE) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, gold, tag = line.split("\t")
        ids = frozenset() if gold.strip() == "-" else frozenset(int(x) for x in gold.split(","))
        questions.append(Question(text, ids, tag))
    return questions


def policy_cards(policies: list[dict], tokenize: Callable[[str], list[str]]) -> list[PolicyCard]:  # type: ignore[type-arg]
    """Cards with tokens made exactly as policies.lifecycle stores them."""
    cards = []
    for p in policies:
        elements = p.get("elements", {})
        cards.append(PolicyCard(
            policy_id=p["id"], title=p["title"], doc_no=p.get("doc_no") or None, agency=p["agency"],
            status=p.get("status", "published"), body=p["body"],
            revision_tokens=" ".join(tokenize(f"{p['title']}\n{p['body']}")),
            elements=elements, interpretation_tokens=" ".join(tokenize("\n".join(elements.values()))),
            keywords=tuple(p.get("keywords", ())), topics=tuple(p.get("topics", ())),
            audience=p.get("audience", ""), year=p.get("year"),
        ))
    return cards


class Baseline:
    """jieba tokens of the whole document + BM25 (bm25s), nothing else."""

    def __init__(self, policies: list[dict], tokenize: Callable[[str], list[str]]) -> None:  # type: ignore[type-arg]
        self.tokenize = tokenize
        self.ids = [p["id"] for p in policies]
        corpus = [tokenize("\n".join([p["title"], p.get("doc_no") or "", p["body"],
                                      *p.get("elements", {}).values()])) for p in policies]
        self.retriever = bm25s.BM25()
        self.retriever.index(corpus, show_progress=False)

    def rank(self, question: str, k: int = 10) -> list[int]:
        tokens = [t for t in self.tokenize(question) if t in self.retriever.vocab_dict]
        if not tokens:
            return []
        docs, scores = self.retriever.retrieve([tokens], k=min(k, len(self.ids)), show_progress=False)
        return [self.ids[int(d)] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


def evaluate(policies: list[dict] | None = None, questions: list[Question] | None = None,  # type: ignore[type-arg]
             ) -> tuple[Scores, Scores]:
    tokenizer = get_tokenizer()
    policies = policies if policies is not None else load_policies()
    questions = questions if questions is not None else load_questions()
    engine = QaEngine.build(policy_cards(policies, tokenizer.index_tokens), phone="12345")
    baseline = Baseline(policies, tokenizer.query_tokens)
    ours, base = Scores("ours"), Scores("baseline")
    for q in questions:
        ranking = [h.policy_id for h in engine.rank(q.text).hits]
        answer = engine.ask(q.text)
        declined = answer.kind not in AnswerKind.ANSWERED
        top = answer.policy.policy_id if answer.policy else None
        ours.add(q, ranking, declined, top)
        base_ranking = baseline.rank(q.text)
        base.add(q, base_ranking, False, base_ranking[0] if base_ranking else None)
    return ours, base


def by_tag(questions: list[Question]) -> dict[str, list[Question]]:
    tags: dict[str, list[Question]] = {}
    for q in questions:
        tags.setdefault(q.tag, []).append(q)
    return tags


def real_policies_check(seed: int = 7) -> None:
    """Passage retrieval on the shared real policies: a sentence fragment as the question."""
    if not REAL_POLICIES_FILE.exists():
        print(f"\n(real policies file not found at {REAL_POLICIES_FILE}; skipped)")
        return
    rows = [json.loads(line) for line in REAL_POLICIES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    policies = [{"id": i, "title": r["title"], "doc_no": r.get("doc_no") or None, "agency": r.get("agency", ""),
                 "status": "published", "body": r.get("text", ""), "elements": {}, "topics": [], "keywords": []}
                for i, r in enumerate(rows, 1)]
    rng = random.Random(seed)
    questions = []
    for p in policies:
        sentences = [s for s in re.split(r"[。；\n]", p["body"]) if len(s) >= 20]
        if sentences:
            start = rng.randrange(0, max(1, len(sentences[0]) - 16))
            sentence = rng.choice(sentences)
            questions.append(Question(sentence[start % max(1, len(sentence) - 16):][:16], frozenset({p["id"]}),
                                      "fragment"))
        questions.append(Question(re.sub(r"^关于(印发)?|的通知$", "", p["title"])[:20], frozenset({p["id"]}), "title"))
    ours, base = evaluate(policies, questions)
    print(f"\nReal policies ({len(policies)} documents, {len(questions)} generated questions: "
          f"a 16-character fragment of a random sentence, and the title without 关于印发/的通知):")
    print(HEADER)
    print(ours.row())
    print(base.row())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="list the questions ranked wrong or declined")
    parser.add_argument("--no-real", action="store_true", help="skip the real-policies check")
    args = parser.parse_args()
    np.set_printoptions(precision=3)
    policies, questions = load_policies(), load_questions()
    answerable = sum(1 for q in questions if q.gold)
    print(f"Evaluation set: {len(policies)} policies, {len(questions)} questions "
          f"({answerable} answerable, {len(questions) - answerable} with no answer in the set)")
    ours, base = evaluate(policies, questions)
    print(HEADER)
    print(ours.row())
    print(base.row())
    print("\nBy question type (Recall@1 / Recall@3, ours vs baseline):")
    for tag, group in sorted(by_tag(questions).items()):
        if tag == "none":
            continue
        o, b = evaluate(policies, group)
        print(f"  {tag:<11} n={len(group):<4} ours {o.recall_at_1:.3f} / {o.recall_at_3:.3f}   "
              f"baseline {b.recall_at_1:.3f} / {b.recall_at_3:.3f}")
    if args.misses:
        print("\nOurs, wrong or declined:")
        for line in ours.misses:
            print("  " + line)
    if not args.no_real:
        from bench.qa_real import print_real

        print_real([("Real set, tuning part", ("tune",)), ("Real set, held-out part", ("holdout",)),
                    ("Real set, whole", ("tune", "holdout"))], misses=False)
        real_policies_check()


if __name__ == "__main__":
    main()
