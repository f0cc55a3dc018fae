"""Case search reaches exactly the pairs a count names: the wrong ones (``max_gap=0``),
the cut ones (``cut``), the ones that flip between two runs (``against`` + ``flip``),
with ``total`` the number of matches; checked against the rows themselves."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db import read
from db.read.paired import paired as read_paired
from db.schema import Generation, GenerationScore, PairScore
from preflens.errors import QueryError
from tests.dashboard.seed import seed_dashboard_store


def every_page(session, run_id: int, **filters) -> tuple[list[int], set[int]]:
    """All pair ids over every page, and the totals each page reported."""
    ids, totals, cursor = [], set(), None
    while True:
        page = read.search_cases(session, run_id, limit=7, cursor=cursor, **filters)
        ids += [item["pair_id"] for item in page["items"]]
        totals.add(page["total"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, totals


def gaps(session, run_id: int) -> dict[int, PairScore]:
    rows = session.scalars(select(PairScore).where(PairScore.run_id == run_id))
    return {r.pair_id: r for r in rows}


def test_wrong_cut_and_flipped_pairs_are_exactly_those_counted(store):
    seeded = seed_dashboard_store(store)
    before, after = seeded.base.score_run, seeded.after_run
    with store() as s:
        a, b = gaps(s, before), gaps(s, after)
        summary = read.run_summary(s, after)
        wrong = {p for p, r in b.items() if r.gap <= 0}  # a gap of 0 counts wrong
        assert wrong and len(wrong) < len(b)
        assert len(wrong) == round(summary["pairs"] * (1 - summary["accuracy"]))
        ids, totals = every_page(s, after, max_gap=0.0)
        assert sorted(ids) == sorted(wrong) and totals == {len(wrong)}

        cut = {p for p, r in b.items() if r.truncated_chosen or r.truncated_rejected}
        assert cut
        ids, totals = every_page(s, after, cut=True)
        assert sorted(ids) == sorted(cut) and totals == {len(cut)}

        shared = set(a) & set(b)
        w2r = {p for p in shared if a[p].gap <= 0 < b[p].gap}
        r2w = {p for p in shared if b[p].gap <= 0 < a[p].gap}
        assert w2r  # the seed's "after" run lifts every gap by 1
        paired = read_paired(s, before, after, b=1000)["flips"]
        for flip, expected in (("wrong_to_right", w2r), ("right_to_wrong", r2w)):
            ids, totals = every_page(s, after, against=before, flip=flip)
            assert sorted(ids) == sorted(expected) and totals == {len(expected)}
            assert paired[flip] == len(expected)
        # Filters combine: flipped pairs that are also cut.
        ids, _ = every_page(s, after, against=before, flip="wrong_to_right", cut=True)
        assert sorted(ids) == sorted(w2r & cut)
        # No filter: the total is the run's pairs.
        assert read.search_cases(s, after, limit=5)["total"] == len(b)


def test_cut_answers_of_a_comparison(store):
    seeded = seed_dashboard_store(store)
    run = seeded.base.gen_score_run
    with store() as s:
        rows = s.execute(
            select(Generation.pair_id, Generation.finish_reason)
            .join(GenerationScore, GenerationScore.generation_id == Generation.id)
            .where(GenerationScore.run_id == run)
        ).all()
        cut = {p for p, finish in rows if finish == "length"}
        ids, totals = every_page(s, run, cut=True, a="dpo", b="base")
        assert sorted(ids) == sorted(cut) and totals == {len(cut)}


def test_bad_flip_filters_are_refused(store):
    seeded = seed_dashboard_store(store)
    with store() as s:
        run = seeded.after_run
        with pytest.raises(QueryError, match="together"):
            read.search_cases(s, run, flip="wrong_to_right")
        with pytest.raises(QueryError, match="flip 'sideways'"):
            read.search_cases(s, run, against=seeded.base.score_run, flip="sideways")
        with pytest.raises(QueryError, match="not a score run"):
            read.search_cases(s, run, against=seeded.base.gen_score_run, flip="right_to_wrong")


def test_the_api_serves_the_same_filters_and_total(make_client, store):
    seeded = seed_dashboard_store(store)
    before, after = seeded.base.score_run, seeded.after_run
    client = make_client()
    with store() as s:
        expected = read.search_cases(s, after, against=before, flip="wrong_to_right", limit=5)
    got = client.get(f"/v1/cases?run={after}&against={before}&flip=wrong_to_right&limit=5").json()
    assert got["total"] == expected["total"] > 0
    assert [i["pair_id"] for i in got["items"]] == [i["pair_id"] for i in expected["items"]]
    assert client.get(f"/v1/cases?run={after}&cut=true").json()["total"] > 0
    bad = client.get(f"/v1/cases?run={after}&flip=wrong_to_right")
    assert bad.status_code in (400, 422) and "together" in bad.text
