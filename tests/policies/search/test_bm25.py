from __future__ import annotations

import random

import pytest

from policies.search.bm25 import BM25Index
from policies.search.document import Field, IndexedDocument, QueryTerm, SearchFilters

VOCAB = [f"w{i}" for i in range(60)]


def doc(policy_id: int, rng: random.Random, status: str = "published") -> IndexedDocument:
    return IndexedDocument(
        policy_id=policy_id,
        fields={
            Field.TITLE: rng.sample(VOCAB, 3),
            Field.BODY: [rng.choice(VOCAB) for _ in range(rng.randint(5, 40))],
            Field.INTERPRETATION: [rng.choice(VOCAB) for _ in range(rng.randint(0, 10))],
        },
        status=status, agency=rng.choice(["人社局", "民政局"]), topics=(rng.choice(["housing", "employment"]),),
        year=rng.choice([2022, 2023]),
    )


def ranking(index: BM25Index, query: list[str]) -> list[tuple[int, float]]:
    return [(h.policy_id, round(h.score, 6)) for h in index.search(query, limit=15)]


def test_incremental_changes_rank_exactly_like_a_rebuild() -> None:
    rng = random.Random(3)
    live: dict[int, IndexedDocument] = {}
    index = BM25Index()
    for step in range(600):
        action = rng.random()
        if action < 0.55 or not live:
            d = doc(rng.randint(1, 200), rng, rng.choice(["published", "published", "repealed"]))
            index.add_or_replace(d)
            live[d.policy_id] = d
        elif action < 0.8:
            victim = rng.choice(sorted(live))
            assert index.remove(victim)
            del live[victim]
        else:
            d = doc(rng.choice(sorted(live)), rng)
            index.add_or_replace(d)
            live[d.policy_id] = d
        if step % 100 == 99:
            rebuilt = BM25Index.build(live.values())
            assert len(index) == len(rebuilt) == len(live)
            for _ in range(20):
                query = rng.sample(VOCAB, 3)
                assert ranking(index, query) == ranking(rebuilt, query)


def test_compaction_keeps_rankings() -> None:
    rng = random.Random(5)
    index = BM25Index.build(doc(i, rng) for i in range(1, 50))
    for i in range(1, 40):
        index.add_or_replace(doc(i, rng))
    before = ranking(index, ["w1", "w2", "w3"])
    index.compact()
    assert ranking(index, ["w1", "w2", "w3"]) == before


def test_valid_policy_ranks_above_a_repealed_one_with_the_same_text() -> None:
    fields = {Field.TITLE: ["公共租赁住房", "管理"], Field.BODY: ["申请", "公共租赁住房", "条件"]}
    index = BM25Index.build([
        IndexedDocument(1, fields, status="repealed"),
        IndexedDocument(2, fields, status="published"),
        IndexedDocument(3, fields, status="expired"),
    ])
    hits = index.search(["公共租赁住房", "申请"])
    assert hits[0].policy_id == 2
    assert {h.policy_id for h in hits} == {1, 2, 3}  # still findable
    assert [h.is_valid for h in hits] == [True, False, False]


def test_status_change_needs_no_reindexing() -> None:
    fields = {Field.BODY: ["低保", "标准"]}
    index = BM25Index.build([IndexedDocument(1, fields), IndexedDocument(2, {Field.BODY: ["低保"]})])
    assert index.search(["低保", "标准"])[0].policy_id == 1
    assert index.set_status(1, "repealed")
    top = index.search(["低保"])
    assert top[0].policy_id == 2
    assert index.document(1).status == "repealed"


def test_title_weighs_more_than_body() -> None:
    index = BM25Index.build([
        IndexedDocument(1, {Field.TITLE: ["养老"], Field.BODY: ["其他", "内容"]}),
        IndexedDocument(2, {Field.TITLE: ["其他"], Field.BODY: ["养老", "内容"]}),
    ])
    assert index.search(["养老"])[0].policy_id == 1


def test_filters_and_facets() -> None:
    rng = random.Random(9)
    docs = [doc(i, rng) for i in range(1, 30)]
    index = BM25Index.build(docs)
    filters = SearchFilters(agency="民政局", year=2023)
    hits = index.search(VOCAB[:10], limit=50, filters=filters)
    assert hits and all(index.document(h.policy_id).agency == "民政局" for h in hits)
    assert all(index.document(h.policy_id).year == 2023 for h in hits)
    facets = index.facets()
    assert sum(facets.agencies.values()) == len(docs)
    assert set(facets.years) <= {2022, 2023}


def test_weighted_query_terms_and_matched_terms() -> None:
    index = BM25Index.build([IndexedDocument(1, {Field.BODY: ["医疗保险", "报销"]})])
    hit = index.search([QueryTerm("医保"), QueryTerm("医疗保险", 0.7), "报销"])[0]
    assert hit.matched_terms == ("医疗保险", "报销")


@pytest.mark.parametrize("query", [[], [""], ["不存在的词"], [QueryTerm("报销", 0.0)]])
def test_queries_without_matches_return_nothing(query: list) -> None:  # type: ignore[type-arg]
    index = BM25Index.build([IndexedDocument(1, {Field.BODY: ["报销"]})])
    assert index.search(query) == []
    assert BM25Index().search(["报销"]) == []
