"""The pure parts of the dashboard: read results as frames, formatting, Markdown
escaping, the Cases page's URL state; and the db.read functions added for it."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import frames
from dashboard.state import CaseQuery, parse_float
from db import read
from preflens.errors import QueryError
from tests.dashboard.seed import seed_dashboard_store


def test_formatting():
    assert frames.fmt(0.123456) == "0.123" and frames.fmt(None) == "—"
    assert frames.fmt(float("nan")) == "—" and frames.fmt(2, 1) == "2.0"
    assert frames.fmt_signed(0.5) == "+0.500" and frames.fmt_signed(-0.25, 2) == "-0.25"
    assert frames.fmt_pct(0.6312) == "63.1%" and frames.fmt_pct(None) == "—"


@pytest.mark.parametrize(
    "text",
    [
        "[click](javascript:alert(1))",
        "![img](http://example.com/x.png)",
        "**bold** _it_ `code` # head",
        "<img src=x onerror=alert(1)>",
        ":red[colour] :material/home:",
    ],
)
def test_markdown_escape_leaves_no_syntax(text):
    escaped = frames.md_escape(text)
    # Every special character is preceded by a backslash, so nothing is read as syntax.
    for i, ch in enumerate(escaped):
        if ch in "[]()!*_`#<>:":
            assert escaped[i - 1] == "\\", (escaped, i)
    assert escaped.replace("\\", "") == text.replace("\\", "")


def test_frames_keep_the_numbers_as_returned():
    hist = {"edges": [0.0, 0.5, 1.0], "counts": [3, 4]}
    df = frames.hist_frame(hist, "gap")
    assert df.to_dict("list") == {
        "series": ["gap", "gap"],
        "bin_start": [0.0, 0.5],
        "bin_end": [0.5, 1.0],
        "count": [3, 4],
    }
    cdf = frames.cdf_frame({"x": [1.0, 2.0], "p": [0.5, 1.0]}, "chosen")
    assert list(cdf["p"]) == [0.5, 1.0] and set(cdf["series"]) == {"chosen"}
    boxes = frames.box_frame([("a", {"n": 0}), ("b", {"n": 2, "q1": 0.1, "min": -1, "max": 3})])
    assert list(boxes["series"]) == ["b"] and boxes["q1"][0] == 0.1
    assert frames.common_range([{"n": 2, "min": -1, "max": 3}, {"n": 1, "min": 0, "max": 5}]) == (
        -1,
        5,
    )
    assert frames.common_range([{"n": 0}]) is None


def test_scatter_and_length_frames_mark_answers_cut_at_the_limit():
    scatter = {
        "a": "dpo",
        "b": "base",
        "points": [
            {
                "pair_id": 1,
                "category": "x",
                "score_a": 1.0,
                "score_b": 0.5,
                "tokens_a": 3,
                "tokens_b": 64,
                "chars_a": 10,
                "chars_b": 300,
                "finish_a": "stop",
                "finish_b": "length",
            }
        ],
    }
    assert list(frames.scatter_frame(scatter)["cut"]) == ["B cut at limit"]
    long = frames.length_frame(scatter)
    assert long.to_dict("records") == [
        {"policy": "dpo", "chars": 10, "tokens": 3, "score": 1.0, "finish": "ended"},
        {"policy": "base", "chars": 300, "tokens": 64, "score": 0.5, "finish": "cut at limit"},
    ]
    assert frames.cut_label("length", "length") == "both cut at limit"
    thin = frames.thin(long.loc[long.index.repeat(10)].reset_index(drop=True), 5)
    assert len(thin) == 5


def test_case_query_round_trips_through_the_url():
    q = CaseQuery(
        run=3,
        min_gap=-0.5,
        max_gap=1.25,
        category="safety",
        split="test",
        q="refund policy",
        sort="abs_gap",
        limit=20,
        cursor="abc",
        page=2,
        case=17,
    )
    params = q.to_params()
    assert params == {
        "run": "3",
        "min_gap": "-0.5",
        "max_gap": "1.25",
        "category": "safety",
        "split": "test",
        "q": "refund policy",
        "sort": "abs_gap",
        "limit": "20",
        "cursor": "abc",
        "page": "2",
        "case": "17",
    }
    assert CaseQuery.from_params(params) == q
    assert CaseQuery().to_params() == {}  # defaults stay out of the URL
    assert q.first_page().cursor is None and q.first_page().page == 1
    assert q.search_kwargs()["cursor"] == "abc" and q.search_kwargs()["sort"] == "abs_gap"


def test_case_query_ignores_bad_values():
    q = CaseQuery.from_params(
        {"run": "x", "sort": "random", "limit": "7", "page": "-3", "min_gap": "nan", "q": " "}
    )
    assert q == CaseQuery()
    assert CaseQuery.from_params({"run": ["1", "2"]}).run == 2
    assert parse_float(" 1e-3 ") == 0.001 and parse_float("inf") is None


# ------------------------------------------------------------------ db.read additions
@pytest.fixture
def seeded(store):
    return seed_dashboard_store(store)


def score_sides(store, run_id):
    from sqlalchemy import select

    from db.schema import PairScore

    with store() as s:
        rows = s.execute(
            select(PairScore.score_chosen, PairScore.score_rejected, PairScore.gap).where(
                PairScore.run_id == run_id
            )
        ).all()
    arr = np.array(rows, dtype=float)
    return {"chosen": arr[:, 0], "rejected": arr[:, 1], "gap": arr[:, 2]}


@pytest.mark.parametrize("side", ["chosen", "rejected", "gap"])
def test_box_stats_match_numpy(store, seeded, side):
    x = score_sides(store, seeded.base.score_run)[side]
    with store() as s:
        box = read.box_stats(s, seeded.base.score_run, side)
    q1, median, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    lo_fence, hi_fence = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    inside = x[(x >= lo_fence) & (x <= hi_fence)]
    assert box["n"] == len(x) and box["side"] == side
    assert box["mean"] == pytest.approx(x.mean()) and box["std"] == pytest.approx(x.std())
    assert (box["min"], box["max"]) == (x.min(), x.max())
    assert (box["q1"], box["median"], box["q3"]) == pytest.approx((q1, median, q3))
    assert (box["whisker_low"], box["whisker_high"]) == (inside.min(), inside.max())
    assert box["outliers_low"] == int((x < lo_fence).sum())
    assert box["outliers_high"] == int((x > hi_fence).sum())


def test_box_stats_of_a_generation_comparison(store, seeded):
    gr = seeded.base.gen_score_run
    with store() as s:
        gap = read.box_stats(s, gr, "gap")
        dpo = read.box_stats(s, gr, "score", policy="dpo")
        with pytest.raises(QueryError):
            read.box_stats(s, gr, "chosen")
    gaps = np.array(list(seeded.base.gen_gaps.values()))
    assert gap["n"] == len(gaps) and gap["median"] == pytest.approx(np.median(gaps))
    assert (gap["a"], gap["b"]) == ("dpo", "base") and dpo["policy"] == "dpo"


def test_box_stats_of_an_empty_run(store, seeded):
    from db.schema import Run

    with store() as s:
        run = Run(kind="score", key="empty", status="pending", config={})
        s.add(run)
        s.commit()
        assert read.box_stats(s, run.id, "gap") == {"run_id": run.id, "side": "gap", "n": 0}


def test_checkpoints_with_the_runs_that_used_them(store, seeded):
    with store() as s:
        ckpts = read.list_checkpoints(s)
    assert [(c["name"], c["kind"], c["path"]) for c in ckpts] == [
        ("rm-toy", "rm", "rm-toy"),  # the server path is cut to its last component
        ("dpo-toy", "policy", "dpo-toy"),
    ]
    assert ckpts[0]["runs"] == [seeded.base.train_run, seeded.after_run]
    assert ckpts[1]["runs"] == [seeded.dpo_run]


def test_scorer_mismatch_names_what_differs():
    from dashboard.frames import scorer_mismatch

    run = {"model_fingerprint": "f1", "max_length": 256, "head_seed": 0}
    live = {"fingerprint": "f1", "max_length": 256, "head_initialized": False, "head_seed": 0}
    assert scorer_mismatch(run, live) is None  # same RM, same length: no warning
    longer = scorer_mismatch(run, {**live, "max_length": 512})
    assert "256" in longer and "512" in longer and "--max-length 256" in longer
    assert "another reward model" in scorer_mismatch({**run, "model_fingerprint": "f2"}, live)
    untrained = {**live, "head_initialized": True, "head_seed": 3}
    assert "seed" in scorer_mismatch(run, untrained)


def test_side_headers_say_which_tokens_they_count():
    from dashboard.ui import GENERATED_TOKENS, side_header_text

    scored = side_header_text("Chosen", 0.5, 50, ["truncated"], response_tokens=10, max_length=256)
    assert scored == (
        "**Chosen** · score 0.5000 · 10 response tokens · 50 of max 256 conversation tokens "
        "(as scored) · truncated"
    )
    answer = side_header_text("dpo (A)", 0.1, 64, [], unit=GENERATED_TOKENS)
    assert answer.endswith("· 64 generated tokens")
