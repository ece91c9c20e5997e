"""The match index groups contacts by their set of hits and makes each group's `Hits` only
when asked: a county-wide policy can have tens of thousands of groups, and a fan-out's first
slice reads only its own."""

from __future__ import annotations

import numpy as np

from subscriptions.match_index.memory import _grouped, hits_of

# 70 possible hits: the signatures take two 64-bit words.
HITS = [("topic", f"t{n}") for n in range(66)]
HITS += [("keyword", "贷款"), ("keyword", "补贴"), ("all", ""), ("profile", "")]


def test_each_contact_gets_its_own_hits_made_on_first_use() -> None:
    chosen = {
        3: [0, 1],
        5: [1, 0],  # the same set as contact 3, in another order
        8: [65, 66, 69],
        9: [68],
        12: [2],
    }
    ids = np.array([sid for sid, hits in chosen.items() for _ in hits], dtype=np.int64)
    hits = np.array([h for found in chosen.values() for h in found], dtype=np.int64)
    matched = _grouped(ids[::-1].copy(), hits[::-1].copy(), HITS)

    assert matched.ids.tolist() == sorted(chosen)
    assert len(matched.hits) == 4  # {0, 1} is one group
    assert matched.hits.made == {}  # type: ignore[attr-defined]  (nothing made yet)

    group_of = dict(zip(matched.ids.tolist(), matched.group.tolist(), strict=True))
    first = matched.hits[group_of[8]]
    assert matched.hits.made.keys() == {group_of[8]}  # type: ignore[attr-defined]
    assert first == hits_of([HITS[65], HITS[66], HITS[69]])
    assert matched.hits[group_of[3]] is matched.hits[group_of[5]]  # shared, read-only

    by_contact = matched.as_dict()
    for sid, found in chosen.items():
        assert by_contact[sid] == hits_of([HITS[h] for h in found])
    assert by_contact[9].all_topics and not by_contact[9].topics
    assert list(matched.hits) == [matched.hits[g] for g in range(4)]
