"""db.read on a seeded SQLite store: the numbers every view shows, and case search."""

from __future__ import annotations

import numpy as np
import pytest

from db import read
from preflens.errors import NotFoundError, QueryError
from tests.backend.seed import add_pair, add_pair_score


def sides(seeded):
    gaps = np.array([seeded.gaps[p] for p in seeded.pair_ids])
    chosen = 0.5 + gaps / 2
    return {"gap": gaps, "chosen": chosen, "rejected": chosen - gaps}


def test_datasets_with_counts(store, seeded):
    with store() as s:
        (ds,) = read.list_datasets(s)
        one = read.get_dataset(s, "toy")
    n = len(seeded.pair_ids)
    assert ds["name"] == "toy" and ds["pairs"] == n
    assert ds["splits"] == {
        "test": sum(v == "test" for v in seeded.splits.values()),
        "train": sum(v == "train" for v in seeded.splits.values()),
    }
    assert ds["categories"]["(none)"] == sum(v is None for v in seeded.categories.values())
    assert sum(ds["categories"].values()) == n
    assert one["pairs"] == n and one["rejected_examples"] == [] and one["splits"] == ds["splits"]
    with store() as s, pytest.raises(NotFoundError, match="no dataset named 'nope'"):
        read.get_dataset(s, "nope")


def test_runs_hide_server_paths(store, seeded):
    with store() as s:
        runs = read.list_runs(s)
        score = read.get_run(s, seeded.score_run)
        assert [r["kind"] for r in read.list_runs(s, kind="score")] == ["score"]
    assert len(runs) == 4
    assert score["status"] == "done" and score["progress"] == 1.0 and score["dataset"] == "toy"
    assert score["config"]["model_path"] == "x" and score["model"] == "tiny"  # was /srv/x
    assert read.public({"a": ["/srv/models/rm", "rm", "/"], "b": 1}) == {
        "a": ["rm", "rm", "/"],
        "b": 1,
    }


@pytest.mark.parametrize(
    ("side", "bins", "lo", "hi"),
    [("gap", 7, None, None), ("chosen", 4, 0.0, 1.0), ("rejected", 3, -0.3, 0.9)],
)
def test_histogram_matches_numpy(store, seeded, side, bins, lo, hi):
    values = sides(seeded)[side]
    rng = (values.min(), values.max()) if lo is None else (lo, hi)
    counts, edges = np.histogram(values, bins=bins, range=rng)
    with store() as s:
        h = read.histogram(s, seeded.score_run, side, bins, lo, hi)
    assert h["counts"] == counts.tolist()
    np.testing.assert_allclose(h["edges"], edges)
    assert h["below"] == int((values < rng[0]).sum()) and h["above"] == int((values > rng[1]).sum())
    assert h["n"] + h["below"] + h["above"] == len(values)


def test_generation_histograms_cdf_and_scatter(store, seeded):
    diffs = np.array(list(seeded.gen_gaps.values()))
    with store() as s:
        h = read.histogram(s, seeded.gen_score_run, "gap", 5)
        reverse = read.histogram(s, seeded.gen_score_run, "gap", 5, a="base", b="dpo")
        base = read.cdf(s, seeded.gen_score_run, "score", 1000, policy="base")
        scatter = read.generation_scatter(s, seeded.gen_score_run)
        with pytest.raises(QueryError, match="policy="):
            read.histogram(s, seeded.gen_score_run, "score")
        with pytest.raises(QueryError, match="sides score, gap"):
            read.histogram(s, seeded.gen_score_run, "chosen")
        with pytest.raises(QueryError, match="both policies"):
            read.cdf(s, seeded.gen_score_run, "gap", a="dpo")
        with pytest.raises(QueryError, match="no answers from policy 'sft'"):
            read.cdf(s, seeded.gen_score_run, "gap", a="sft", b="base")
    assert (h["a"], h["b"]) == ("dpo", "base")  # A: the later-listed policy
    assert h["counts"] == np.histogram(diffs, bins=5)[0].tolist()
    assert reverse["counts"] == np.histogram(-diffs, bins=5)[0].tolist()
    # One point per distinct value, p = share of values <= x (ties included).
    assert base["x"] == sorted({(i % 5) / 2 for i in range(20)})
    assert base["p"] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert scatter["n"] == 20
    for point in scatter["points"]:
        assert point["score_a"] - point["score_b"] == pytest.approx(
            seeded.gen_gaps[point["pair_id"]]
        )
        assert point["chars_b"] > 0 and point["finish_a"] in ("stop", "length")


def test_cdf_is_exact_when_points_cover_the_data(store, seeded):
    gaps = np.sort(sides(seeded)["gap"])
    with store() as s:
        full = read.cdf(s, seeded.score_run, "gap", points=1000)
        few = read.cdf(s, seeded.score_run, "chosen", points=5)
    assert full["x"] == np.unique(gaps).tolist()
    assert full["p"] == [np.count_nonzero(gaps <= x) / len(gaps) for x in full["x"]]
    chosen = np.sort(sides(seeded)["chosen"])
    assert len(few["x"]) == 5 and few["x"][0] == chosen[0] and few["x"][-1] == chosen[-1]
    assert few["p"] == sorted(few["p"]) and few["p"][-1] == 1.0


@pytest.mark.parametrize("score", [-10.0, 0.5, 0.625, 10.0])
def test_percentile_counts_both_sides_ties_half(store, seeded, score):
    v = sides(seeded)
    both = np.concatenate([v["chosen"], v["rejected"]])
    expected = 100 * ((both < score).sum() + 0.5 * (both == score).sum()) / len(both)
    with store() as s:
        assert read.score_percentile(s, seeded.score_run, score) == pytest.approx(expected)


def test_score_run_summary(store, seeded):
    from db.read import score_summary

    with store() as s:
        summary = read.run_summary(s, seeded.score_run)
        stored = score_summary(s, seeded.score_run)
    assert {k: summary[k] for k in stored} == stored
    gaps = sides(seeded)["gap"]
    assert summary["accuracy"] == pytest.approx(float((gaps > 0).mean()))
    by_cat = {c["category"]: c for c in summary["categories"]}
    for cat in ("safety", None):
        mine = np.array([seeded.gaps[p] for p in seeded.pair_ids if seeded.categories[p] == cat])
        assert by_cat[cat]["pairs"] == len(mine)
        assert by_cat[cat]["accuracy"] == pytest.approx(float((mine > 0).mean()))
        assert by_cat[cat]["gap_mean"] == pytest.approx(float(mine.mean()))


def test_generation_summary_matches_numpy(store, seeded):
    diffs = np.array(list(seeded.gen_gaps.values()))
    with store() as s:
        live = read.run_summary(s, seeded.gen_score_run)
        margin = read.generation_summary(s, seeded.gen_score_run, tie_margin=0.3)
    (cmp,) = live["comparisons"]
    assert (cmp["a"], cmp["b"], cmp["n"]) == ("dpo", "base", 20)
    assert cmp["wins"] == (diffs > 0).sum() and cmp["losses"] == (diffs < 0).sum()
    assert cmp["mean_diff"] == pytest.approx(diffs.mean())
    assert live["policies"]["base"]["mean"] == pytest.approx(
        np.mean([(i % 5) / 2 for i in range(20)])
    )
    assert margin["comparisons"][0]["ties"] == (np.abs(diffs) <= 0.3).sum()


def test_training_metrics_per_step(store, seeded):
    with store() as s:
        m = read.metrics(s, [seeded.train_run, seeded.score_run], ["train/loss"])
        summary = read.run_summary(s, seeded.train_run)
        with pytest.raises(NotFoundError):
            read.metrics(s, [999])
    train, score = m["runs"]
    assert train["series"] == {
        "train/loss": {
            "steps": [1, 2, 3, 4, 5],
            "values": pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]),
        }
    }
    assert score["series"] == {}
    assert summary["metrics"]["train/accuracy"]["last"] == pytest.approx(0.75)
    assert summary["metrics"]["eval/accuracy"] == {
        "n": 1,
        "last_step": 5,
        "last": 0.7,
        "min": 0.7,
        "max": 0.7,
    }


# ------------------------------------------------------------------ cases
def expected_order(gaps: dict[int, float], sort: str, lo=None, hi=None) -> list[int]:
    inside = [
        (g, p) for p, g in gaps.items() if (lo is None or g >= lo) and (hi is None or g <= hi)
    ]
    key = {
        "gap_desc": lambda t: (-t[0], -t[1]),
        "gap_asc": lambda t: (t[0], t[1]),
        "abs_gap": lambda t: (abs(t[0]), t[1]),
    }[sort]
    return [p for _, p in sorted(inside, key=key)]


def all_pages(session, run_id, limit=4, cursor=None, **kw) -> tuple[list[dict], int]:
    items, pages = [], 0
    while True:
        page = read.search_cases(session, run_id, limit=limit, cursor=cursor, **kw)
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


# The gap sorts; sort=suspicion has its own tests (tests/test_case_suspicion.py).
@pytest.mark.parametrize("sort", ["gap_desc", "gap_asc", "abs_gap"])
def test_case_search_returns_exactly_the_range_in_order_across_pages(store, seeded, sort):
    with store() as s:
        items, pages = all_pages(s, seeded.score_run, sort=sort, min_gap=-1.0, max_gap=1.25)
    expected = expected_order(seeded.gaps, sort, -1.0, 1.25)
    assert [i["pair_id"] for i in items] == expected
    assert len(expected) > 8 and pages == -(-len(expected) // 4)  # ceil: no empty last page
    assert all(-1.0 <= i["gap"] <= 1.25 for i in items)
    assert all(i["gap"] == seeded.gaps[i["pair_id"]] for i in items)


def test_case_search_filters_and_text(store, seeded, monkeypatch):
    with store() as s:
        cat, _ = all_pages(s, seeded.score_run, category="safety", split="test", limit=50)
        fts, _ = all_pages(s, seeded.score_run, q="banana HARVEST", sort="gap_asc")
        monkeypatch.setattr(read.cases, "_has_fts", lambda session: False)
        like, _ = all_pages(s, seeded.score_run, q="banana HARVEST", sort="gap_asc")
    assert sorted(i["pair_id"] for i in cat) == sorted(
        p
        for p in seeded.pair_ids
        if seeded.categories[p] == "safety" and seeded.splits[p] == "test"
    )
    bananas = {p: g for p, g in seeded.gaps.items() if seeded.words[p] == "banana"}
    assert [i["pair_id"] for i in fts] == expected_order(bananas, "gap_asc")
    assert [i["pair_id"] for i in like] == [i["pair_id"] for i in fts]
    assert "banana" in fts[0]["prompt"] and len(fts[0]["chosen"]) <= read.PREVIEW_CHARS


@pytest.mark.parametrize("q", ['"', 'apple" OR "x', "NEAR(a b)", "a*", "-", "%_\\"])
def test_search_text_is_never_query_syntax(store, seeded, q):
    with store() as s:
        page = read.search_cases(s, seeded.score_run, q=q)
    assert isinstance(page["items"], list)


def test_pages_stay_correct_while_rows_are_added(store, seeded):
    with store() as s:
        first = read.search_cases(s, seeded.score_run, sort="gap_desc", limit=6)
    seen = [i["pair_id"] for i in first["items"]]
    boundary = first["items"][-1]["gap"]
    with store() as s:  # a writer adds pairs before, at and after the cursor position
        new = {}
        for k, gap in enumerate([5.0, boundary, -5.0, 0.0]):
            pair = add_pair(s, seeded.dataset_id, 1000 + k)
            add_pair_score(s, seeded.score_run, pair, gap)
            new[pair.id] = gap
        s.commit()
    with store() as s:
        rest, _ = all_pages(
            s, seeded.score_run, sort="gap_desc", limit=6, cursor=first["next_cursor"]
        )
    ids = seen + [i["pair_id"] for i in rest]
    assert len(ids) == len(set(ids))  # no repeats
    everything = {**seeded.gaps, **new}
    full = expected_order(everything, "gap_desc")
    # Rows sorting after the cursor show up; rows sorting before it (5.0, and the new pair
    # at the boundary gap, whose larger id sorts first) are not sent again.
    assert ids == [p for p in full if p in seeded.gaps or full.index(p) > full.index(seen[-1])]
    assert set(seeded.gaps) <= set(ids)
    assert {p for p, g in new.items() if g in (-5.0, 0.0)} <= set(ids)


def test_bad_cursors_are_query_errors(store, seeded):
    with store() as s:
        page = read.search_cases(s, seeded.score_run, limit=3)
        with pytest.raises(QueryError, match="not one this API returned"):
            read.search_cases(s, seeded.score_run, cursor="definitely-not-a-cursor")
        with pytest.raises(QueryError, match="another query"):
            read.search_cases(s, seeded.score_run, sort="gap_asc", cursor=page["next_cursor"])
        with pytest.raises(QueryError, match="sort"):
            read.search_cases(s, seeded.score_run, sort="random")
        with pytest.raises(QueryError, match="above max_gap"):
            read.search_cases(s, seeded.score_run, min_gap=1, max_gap=0)
        with pytest.raises(QueryError, match="train_rm run"):
            read.search_cases(s, seeded.train_run)


def test_generation_cases(store, seeded):
    with store() as s:
        items, _ = all_pages(s, seeded.gen_score_run, sort="gap_asc", min_gap=-0.5, max_gap=0.5)
        flipped = read.search_cases(s, seeded.gen_score_run, a="base", b="dpo", limit=100)
        text, _ = all_pages(s, seeded.gen_score_run, q="cherry")
    assert [i["pair_id"] for i in items] == expected_order(seeded.gen_gaps, "gap_asc", -0.5, 0.5)
    assert items[0]["text_a"].startswith("DPO says") and items[0]["text_b"].startswith("Base")
    assert {i["pair_id"]: -i["gap"] for i in flipped["items"]} == pytest.approx(seeded.gen_gaps)
    assert {i["pair_id"] for i in text} == {
        p for p in seeded.gen_gaps if seeded.words[p] == "cherry"
    }


def test_one_case_in_full(store, seeded):
    pid = seeded.pair_ids[7]
    with store() as s:
        case = read.get_case(s, seeded.score_run, pid)
        gen = read.get_case(s, seeded.gen_score_run, pid)
        with pytest.raises(NotFoundError, match="no pair with id 9999"):
            read.get_case(s, seeded.score_run, 9999)
        with pytest.raises(NotFoundError, match="no scored answers"):
            read.get_case(s, seeded.gen_score_run, seeded.pair_ids[30])
    assert case["pair"]["chosen"].startswith("A careful answer number 7.")
    assert case["pair"]["prompt"] == [
        {"role": "user", "content": "Question 7 about the cherry harvest?"}
    ]
    assert case["scores"]["gap"] == seeded.gaps[pid]
    assert case["scores"]["p_chosen_preferred"] == pytest.approx(
        1 / (1 + np.exp(-seeded.gaps[pid]))
    )
    assert [g["policy"] for g in gen["generations"]] == ["base", "dpo"]
    assert gen["gap"] == pytest.approx(seeded.gen_gaps[pid]) and gen["a"] == "dpo"


def test_large_runs_read_by_a_table_scan_give_the_same_numbers(store, seeded, monkeypatch):
    with store() as s:
        before = (
            read.histogram(s, seeded.score_run, "chosen", 6),
            read.cdf(s, seeded.score_run, "rejected", 7),
            read.score_percentile(s, seeded.score_run, 0.4),
        )
        monkeypatch.setattr(read.common, "SCAN_MIN_ROWS", 0)  # the seeded run now counts as large
        assert "+" in str(read.common.pair_score_where(s, seeded.score_run))
        after = (
            read.histogram(s, seeded.score_run, "chosen", 6),
            read.cdf(s, seeded.score_run, "rejected", 7),
            read.score_percentile(s, seeded.score_run, 0.4),
        )
    assert before == after
