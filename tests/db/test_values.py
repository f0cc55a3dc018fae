"""Every number the distribution and summary reads return, on random stores, against an
independent numpy / scipy computation from the raw rows (to 1e-9 of the data's scale).

The stores hold ties, equal values, values exactly on bin edges, huge and tiny
magnitudes, empty and NULL categories, running (partial) runs, finished runs whose value
series were stored when they finished, and finished runs that never stored them (read
lazily); the stored series must equal the raw-row computation.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from sqlalchemy import delete, func, select

from db import read
from db.read.values import materialise_values, series, unpack
from db.runs import finish_run
from db.schema import Dataset, Generation, GenerationScore, Pair, PairScore, Run, RunValues
from preflens.errors import QueryError

# Values that tie, sit on round bin edges, and span magnitudes (squares stay finite).
GRID = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0])
WIDE = st.one_of(
    st.floats(-1e150, 1e150, allow_nan=False, allow_infinity=False),
    st.floats(-1e-150, 1e-150, allow_nan=False, allow_infinity=False),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).map(lambda x: 1e8 + x),
)
VALUE = st.one_of(GRID, GRID, WIDE)
CATEGORY = st.sampled_from([None, "safety", "style", ""])
STATUS = st.sampled_from(["running", "done", "done_lazy"])
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def close(got: float, want: float, scale: float) -> bool:
    """Equal, or within 1e-9 of the data's magnitude (summation order differs)."""
    return got == want or abs(got - want) <= 1e-9 * scale


def _dataset(s, n: int, categories: list) -> tuple[int, list[int]]:
    tag = hashlib.sha256(repr((n, categories, s.scalar(select(func.count(Dataset.id))))).encode())
    ds = Dataset(name=tag.hexdigest()[:16], source="x", format="trl", options={})
    s.add(ds)
    s.flush()
    pairs = []
    for i in range(n):
        pair = Pair(
            dataset_id=ds.id,
            split="test" if i % 2 else "train",
            source_row=i,
            prompt=[{"role": "user", "content": f"q{i}"}],
            prompt_text=f"user: q{i}",
            chosen=f"c{i}",
            rejected=f"r{i}",
            category=categories[i],
            content_hash=f"{ds.id}-{i}",
        )
        s.add(pair)
        pairs.append(pair)
    s.flush()
    return ds.id, [p.id for p in pairs]


def _finish(s, run: Run, status: str, summarize) -> None:
    if status == "running":
        return
    finish_run(s, run.id, summarize(s, run.id))
    if status == "done_lazy":  # finished before value series were stored
        s.execute(delete(RunValues).where(RunValues.run_id == run.id))


def _check_series(s, run_id: int, side: str, raw: np.ndarray, bins: int, edges_from, **kw) -> None:
    """Histogram, CDF and box of one side against numpy on the raw values."""
    n = len(raw)
    scale = float(np.max(np.abs(raw))) if n else 0.0
    ranges = [(None, None)]
    if n:
        lo, hi = sorted(edges_from)
        ranges += [(lo, hi), (float(raw.min()), float(raw.max()))]
    for lo, hi in ranges:
        rng = (0.0, 1.0) if n == 0 and lo is None else None if lo is None else (lo, hi)
        try:
            want_counts, want_edges = np.histogram(raw, bins=bins, range=rng)
        except ValueError:  # numpy cannot cut so narrow a range: the API says so
            with pytest.raises(QueryError, match="cannot be cut"):
                read.histogram(s, run_id, side, bins, lo, hi, **kw)
            continue
        h = read.histogram(s, run_id, side, bins, lo, hi, **kw)
        assert h["counts"] == want_counts.tolist(), (lo, hi)
        assert h["edges"] == want_edges.tolist()
        e0, e1 = want_edges[0], want_edges[-1]
        assert h["below"] == int(np.sum(raw < e0)) and h["above"] == int(np.sum(raw > e1))
        assert h["n"] + h["below"] + h["above"] == n
    for points in (2, 5, 200):
        c = read.cdf(s, run_id, side, points, **kw)
        assert c["n"] == n and len(c["x"]) == len(set(c["x"])) <= points
        for x, p in zip(c["x"], c["p"], strict=True):
            assert p == np.count_nonzero(raw <= x) / n  # share <= x exactly, ties included
        if n:
            assert c["x"][0] == raw.min() and c["x"][-1] == raw.max() and c["p"][-1] == 1.0
        if 0 < n <= points:
            assert c["x"] == np.unique(raw).tolist()
    box = read.box_stats(s, run_id, side, **kw)
    assert box["n"] == n
    if not n:
        return
    q1, med, q3 = np.quantile(raw, [0.25, 0.5, 0.75])
    for key, want in (("q1", q1), ("median", med), ("q3", q3), ("mean", np.mean(raw))):
        assert close(box[key], float(want), scale), key
    assert close(box["std"], float(np.std(raw)), scale)
    assert (box["min"], box["max"]) == (raw.min(), raw.max())
    lo_f, hi_f = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    inside = raw[(raw >= lo_f) & (raw <= hi_f)]
    assert (box["whisker_low"], box["whisker_high"]) == (inside.min(), inside.max())
    assert box["outliers_low"] == int(np.sum(raw < lo_f))
    assert box["outliers_high"] == int(np.sum(raw > hi_f))


@SETTINGS
@given(
    rows=st.lists(st.tuples(VALUE, VALUE, CATEGORY), max_size=25),
    status=STATUS,
    bins=st.integers(1, 12),
    probe=VALUE,
)
def test_score_run_reads_match_numpy_on_the_raw_rows(store, rows, status, bins, probe):
    with store() as s:
        _, pair_ids = _dataset(s, len(rows), [c for _, _, c in rows])
        run = Run(
            kind="score", key=f"k{pair_ids[:1]}{len(rows)}", status="running", total=len(rows)
        )
        s.add(run)
        s.flush()
        for pid, (c, r, cat) in zip(pair_ids, rows, strict=True):
            s.add(
                PairScore(
                    run_id=run.id,
                    pair_id=pid,
                    category=cat,
                    score_chosen=c,
                    score_rejected=r,
                    gap=c - r,
                    tokens_chosen=1,
                    tokens_rejected=1,
                )
            )
        s.flush()
        _finish(s, run, status, read.score_summary)
        s.commit()
        raw = np.array(
            s.execute(
                select(
                    PairScore.score_chosen,
                    PairScore.score_rejected,
                    PairScore.gap,
                    PairScore.category,
                ).where(PairScore.run_id == run.id)
            ).all(),
            dtype=object,
        ).reshape(-1, 4)
        sides = {
            k: raw[:, i].astype(np.float64) for i, k in enumerate(("chosen", "rejected", "gap"))
        }
        both = np.concatenate([sides["chosen"], sides["rejected"]])
        for side, values in sides.items():
            edges_from = [probe, *values[:1]] if len(values) else [0.0, 1.0]
            _check_series(s, run.id, side, values, bins, edges_from)
            got = series(s, run, side)[0]
            assert got.tolist() == np.sort(values).tolist()  # stored series == raw rows
        want = stats.percentileofscore(both, probe, kind="mean") if len(both) else None
        got = read.score_percentile(s, run.id, probe)
        assert (got is None and want is None) or abs(got - want) <= 1e-9
        summary = read.run_summary(s, run.id)
    if not rows:
        assert summary["pairs"] == 0
        return
    scale = float(np.max(np.abs(both)))
    gap = sides["gap"]
    assert summary["pairs"] == len(rows) and summary["accuracy"] == np.mean(gap > 0)
    assert close(summary["reward_mean"], float(np.mean(both)), scale)
    assert close(summary["reward_std"], float(np.std(both)), scale)
    for key, side in (
        ("chosen_mean", "chosen"),
        ("rejected_mean", "rejected"),
        ("gap_mean", "gap"),
    ):
        assert close(summary[key], float(np.mean(sides[side])), scale), key
    cats = {c["category"]: c for c in summary["categories"]}
    for cat in set(raw[:, 3]):
        mask = np.array([c == cat for c in raw[:, 3]])
        assert cats[cat]["pairs"] == mask.sum()
        assert cats[cat]["accuracy"] == np.mean(gap[mask] > 0)
        assert close(cats[cat]["gap_mean"], float(np.mean(gap[mask])), scale)


@SETTINGS
@given(
    answers=st.lists(st.tuples(st.booleans(), VALUE, st.booleans(), VALUE), max_size=15),
    status=STATUS,
    bins=st.integers(1, 8),
)
def test_generation_run_reads_match_numpy_on_the_raw_rows(store, answers, status, bins):
    """Per-policy scores and A - B gaps (prompts only one policy answered included)."""
    from db.read.summaries import generation_summary

    with store() as s:
        _, pair_ids = _dataset(s, len(answers), [None] * len(answers))
        gen = Run(kind="generate", key=f"g{pair_ids[:1]}", status="done")
        gs = Run(kind="score_generations", key=f"gs{pair_ids[:1]}", status="running")
        gs.config = {"policies": ["base", "dpo"], "tie_margin": 0.0}
        s.add_all([gen, gs])
        s.flush()
        raw = {"base": {}, "dpo": {}}
        for pid, (has_b, sb, has_d, sd) in zip(pair_ids, answers, strict=True):
            for policy, has, score in (("base", has_b, sb), ("dpo", has_d, sd)):
                if not has:
                    continue
                g = Generation(
                    run_id=gen.id,
                    pair_id=pid,
                    policy=policy,
                    text="t",
                    n_tokens=1,
                    finish_reason="stop",
                    seconds=0.0,
                )
                s.add(g)
                s.flush()
                s.add(GenerationScore(run_id=gs.id, generation_id=g.id, score=score, n_tokens=1))
                raw[policy][pid] = score
        s.flush()
        _finish(s, gs, status, generation_summary)
        s.commit()
        present = [p for p in ("base", "dpo") if raw[p]]
        for policy in present:
            values = np.array(list(raw[policy].values()))
            _check_series(s, gs.id, "score", values, bins, [values[0], 0.0], policy=policy)
        if len(present) == 2:
            common = sorted(set(raw["base"]) & set(raw["dpo"]))
            d = np.array([raw["dpo"][i] - raw["base"][i] for i in common], dtype=np.float64)
            _check_series(s, gs.id, "gap", d, bins, [0.0, 1.0], a="dpo", b="base")
            _check_series(s, gs.id, "gap", -d, bins, [0.0, 1.0], a="base", b="dpo")
            everything = np.array([v for p in present for v in raw[p].values()])
            want = stats.percentileofscore(everything, 0.5, kind="mean")
            assert abs(read.score_percentile(s, gs.id, 0.5) - want) <= 1e-9


def test_finishing_a_score_run_stores_its_sorted_series(store):
    with store() as s:
        _, pair_ids = _dataset(s, 3, ["a", None, "a"])
        run = Run(kind="score", key="k", status="running")
        s.add(run)
        s.flush()
        for pid, (c, r) in zip(pair_ids, [(2.0, 1.0), (0.0, 0.5), (1.0, 1.0)], strict=True):
            s.add(
                PairScore(
                    run_id=run.id,
                    pair_id=pid,
                    category=None,
                    score_chosen=c,
                    score_rejected=r,
                    gap=c - r,
                    tokens_chosen=1,
                    tokens_rejected=1,
                )
            )
        s.flush()
        assert s.scalar(select(func.count()).select_from(RunValues)) == 0
        finish_run(s, run.id, read.score_summary(s, run.id))
        s.commit()
        mine = select(RunValues).where(RunValues.series.in_(["chosen", "rejected", "gap"]))
        stored = {v.series: unpack(v.data).tolist() for v in s.scalars(mine)}
        assert materialise_values(s, run.id) == 3  # a second call replaces, never doubles
    assert stored == {
        "chosen": [0.0, 1.0, 2.0],
        "rejected": [0.5, 1.0, 1.0],
        "gap": [-0.5, 0.0, 1.0],
    }


def test_a_finished_run_without_series_stores_them_on_first_read(store):
    with store() as s:
        _, pair_ids = _dataset(s, 2, [None, None])
        run = Run(kind="score", key="old", status="done")
        s.add(run)
        s.flush()
        for pid, gap in zip(pair_ids, [0.5, -1.0], strict=True):
            s.add(
                PairScore(
                    run_id=run.id,
                    pair_id=pid,
                    score_chosen=gap,
                    score_rejected=0.0,
                    gap=gap,
                    tokens_chosen=1,
                    tokens_rejected=1,
                )
            )
        s.commit()
        assert read.histogram(s, run.id, "gap", 2)["counts"] == [1, 1]
    with store() as s:
        keys = s.scalars(select(RunValues.series).where(RunValues.run_id == run.id)).all()
    assert keys == ["gap"]


@pytest.mark.parametrize("values", [[1e8 + 1, 1e8 + 2, 1e8 + 3], [1e9 + 0.1] * 4 + [1e9 + 0.2]])
def test_reward_std_is_stable_where_the_textbook_formula_cancels(store, values):
    """E[x^2] - E[x]^2 at 1e8 loses every digit of a std of ~1; numpy's two-pass does not."""
    with store() as s:
        _, pair_ids = _dataset(s, len(values), [None] * len(values))
        run = Run(kind="score", key=f"std{len(values)}", status="running")
        s.add(run)
        s.flush()
        for pid, v in zip(pair_ids, values, strict=True):
            s.add(
                PairScore(
                    run_id=run.id,
                    pair_id=pid,
                    score_chosen=v,
                    score_rejected=v,
                    gap=0.0,
                    tokens_chosen=1,
                    tokens_rejected=1,
                )
            )
        s.flush()
        got = read.score_summary(s, run.id)["reward_std"]
    want = float(np.std(np.array(values + values)))
    assert abs(got - want) <= 1e-9 * max(values) and want > 0


def test_histogram_counts_a_value_on_an_inner_edge_as_numpy_does(store):
    """numpy's edge 1 of [-1, 2] in 30 bins is -0.9: it belongs to bin 1, but
    (x - lo) / width truncates to 0 in floating point (the SQL binning put it in bin 0)."""
    edge = float(np.linspace(-1.0, 2.0, 31)[1])
    assert int((edge + 1.0) / 0.1) == 0  # what the truncating SQL computed
    values = [-1.0, edge, 2.0]
    with store() as s:
        _, pair_ids = _dataset(s, 3, [None] * 3)
        run = Run(kind="score", key="edge", status="running")
        s.add(run)
        s.flush()
        for pid, v in zip(pair_ids, values, strict=True):
            s.add(
                PairScore(
                    run_id=run.id,
                    pair_id=pid,
                    score_chosen=v,
                    score_rejected=0.0,
                    gap=v,
                    tokens_chosen=1,
                    tokens_rejected=1,
                )
            )
        s.flush()
        h = read.histogram(s, run.id, "gap", 30, -1.0, 2.0)
    assert h["counts"] == np.histogram(values, bins=30, range=(-1.0, 2.0))[0].tolist()
    assert h["counts"][:2] == [1, 1]


def test_cdf_inside_ties_is_the_share_at_or_below(store):
    with store() as s:
        _, pair_ids = _dataset(s, 4, [None] * 4)
        run = Run(kind="score", key="ties", status="running")
        s.add(run)
        s.flush()
        for pid, v in zip(pair_ids, [1.0, 1.0, 1.0, 2.0], strict=True):
            s.add(
                PairScore(
                    run_id=run.id,
                    pair_id=pid,
                    score_chosen=v,
                    score_rejected=0.0,
                    gap=v,
                    tokens_chosen=1,
                    tokens_rejected=1,
                )
            )
        s.flush()
        c = read.cdf(s, run.id, "gap", 200)
    assert list(zip(c["x"], c["p"], strict=True)) == [(1.0, 0.75), (2.0, 1.0)]


def test_split_filter_reads_pair_score_split_and_falls_back_to_the_join(store):
    """Rows carrying their split are filtered on pair_score alone; a run with a row
    whose split is NULL (scored before the column was filled) joins pair; same pages."""
    from db.read.common import split_copied
    from tests.backend.seed import seed_store

    seeded = seed_store(store)
    with store() as s:
        run_id = seeded.score_run
        assert not split_copied(s, run_id)
        joined = read.search_cases(s, run_id, split="test", category="safety", limit=100)
        s.execute(
            PairScore.__table__.update()
            .where(PairScore.run_id == run_id)
            .values(split=select(Pair.split).where(Pair.id == PairScore.pair_id).scalar_subquery())
        )
        s.commit()
        assert split_copied(s, run_id)
        direct = read.search_cases(s, run_id, split="test", category="safety", limit=100)
    want = [
        p for p, sp in seeded.splits.items() if sp == "test" and seeded.categories[p] == "safety"
    ]
    assert sorted(i["pair_id"] for i in direct["items"]) == sorted(want)
    assert direct["items"] == joined["items"] and want
