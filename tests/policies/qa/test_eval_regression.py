"""The evaluation set must not get worse: floors a little below what bench/qa_eval.py measures
(Recall@3 0.969, Recall@1 0.895, no-answer declined 0.962 when this floor was set)."""

from __future__ import annotations

from bench.qa_eval import evaluate

RECALL_AT_3_FLOOR = 0.94
RECALL_AT_1_FLOOR = 0.86
DECLINED_FLOOR = 0.90


def test_quality_on_the_evaluation_set_stays_above_the_floor() -> None:
    ours, baseline = evaluate()
    assert ours.answerable >= 150 and ours.unanswerable >= 20
    assert ours.recall_at_3 >= RECALL_AT_3_FLOOR, ours.misses
    assert ours.recall_at_1 >= RECALL_AT_1_FLOOR, ours.misses
    assert ours.declined_share >= DECLINED_FLOOR, ours.misses
    assert ours.recall_at_3 > baseline.recall_at_3
