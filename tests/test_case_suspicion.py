"""Cases sorted by suspicion: the order equals the suspicion ranking recomputed here
(temperature by a generic minimiser, mean of the per-signal probabilities), every pair
comes once over keyset pages, and filters keep the ranking's order."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from db.read.cases import search_cases
from preflens.errors import QueryError
from tests.test_fix_data import _fit_t, seeded  # noqa: F401  (fixture)


def _expected(ids, gaps) -> dict[int, tuple[float, int]]:
    """pair id -> (suspicion, signals), computed from the stored gaps with the formula."""
    per_pair: dict[int, list[float]] = {p: [] for p in ids}
    for name in ("a", "b", "c"):
        t = _fit_t(gaps[name])
        for p, g in zip(ids, gaps[name], strict=False):
            per_pair[p].append(float(expit(-g / t)))
    for p, g in zip(ids[10:], gaps["dpo"], strict=True):
        per_pair[p].append(float(expit(-g)))
    return {p: (float(np.mean(v)), len(v)) for p, v in per_pair.items()}


def _all_pages(s, run_id: int, limit: int, **filters) -> tuple[list[dict], int]:
    items, cursor, pages = [], None, 0
    while True:
        page = search_cases(s, run_id, sort="suspicion", limit=limit, cursor=cursor, **filters)
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


def test_cases_sorted_by_suspicion_page_through_every_pair_in_rank_order(seeded):  # noqa: F811
    make, ids, runs, gaps = seeded
    expect = _expected(ids, gaps)
    order = sorted(ids, key=lambda p: (-expect[p][0], -expect[p][1], p))
    with make() as s:
        items, pages = _all_pages(s, runs["a"], limit=7)
        assert pages == 5  # 30 pairs, 7 a page
        got = [it["pair_id"] for it in items]
        assert got == order and len(set(got)) == 30
        for it in items:
            assert it["suspicion"] == pytest.approx(expect[it["pair_id"]][0], rel=1e-6)
            assert it["signals"] == expect[it["pair_id"]][1]
        # A filter keeps the ranking's order among the pairs it matches.
        tests, _ = _all_pages(s, runs["b"], limit=4, split="test", max_gap=1.0)
        kept = [p for i, p in enumerate(ids) if i % 2 and gaps["b"][i] <= 1.0]
        assert [it["pair_id"] for it in tests] == [p for p in order if p in kept]
        # Other sorts carry no suspicion; a cursor of another sort is refused.
        first = search_cases(s, runs["a"], sort="gap_desc", limit=3)
        assert "suspicion" not in first["items"][0]
        with pytest.raises(QueryError, match="another query"):
            search_cases(s, runs["a"], sort="suspicion", limit=3, cursor=first["next_cursor"])


def test_suspicion_sort_with_a_text_search(seeded):  # noqa: F811
    make, ids, runs, gaps = seeded
    expect = _expected(ids, gaps)
    with make() as s:
        items, _ = _all_pages(s, runs["a"], limit=2, q="question")
        assert [it["pair_id"] for it in items] == sorted(
            ids, key=lambda p: (-expect[p][0], -expect[p][1], p)
        )
        # A word only pair 7 holds: the search narrows, the order stays the ranking's.
        one, _ = _all_pages(s, runs["a"], limit=2, q="7")
        assert [it["pair_id"] for it in one] == [ids[7]]
