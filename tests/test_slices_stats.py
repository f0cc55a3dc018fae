"""Slice statistics: Holm and Benjamini-Hochberg against statsmodels' ``multipletests``,
the per-slice tests against scipy called directly, length bins at their edges."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from preflens.slices import benjamini_hochberg, holm, length_bin, paired_slice_table, slice_table


@pytest.mark.parametrize("seed", range(6))
def test_holm_and_bh_equal_statsmodels(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 40))
    # A mix of tiny, middling and repeated p-values (ties exercise the ordering).
    p = np.concatenate([rng.uniform(0, 0.01, m // 3), rng.uniform(0, 1, m - m // 3)])
    p[: m // 4] = p[0]
    rng.shuffle(p)
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12)
    np.testing.assert_allclose(
        benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12
    )


def test_corrections_of_nothing_are_empty():
    assert holm([]).size == 0 and benjamini_hochberg([]).size == 0


def test_length_bins_at_their_edges():
    got = length_bin([-101, -100, -21, -20, 19, 20, 99, 100, float("nan")]).tolist()
    assert got == [
        "chosen shorter by > 100 chars",
        "chosen shorter by 20-100 chars",
        "chosen shorter by 20-100 chars",
        "within 20 chars",
        "within 20 chars",
        "chosen longer by 20-100 chars",
        "chosen longer by 20-100 chars",
        "chosen longer by > 100 chars",
        "unknown",
    ]


def test_slice_table_tests_each_slice_against_the_rest_and_corrects_the_family():
    rng = np.random.default_rng(3)
    cat = np.array(["a"] * 60 + ["b"] * 60 + ["c"] * 80)
    ok = np.concatenate([rng.random(60) < 0.3, rng.random(60) < 0.8, rng.random(80) < 0.75])
    split = np.where(np.arange(200) % 2 == 0, "train", "test")
    t = slice_table(ok, {"category": cat, "split": split})
    assert t["tests"] == 5 and t["n"] == 200
    rows = {(r["by"], r["slice"]): r for r in t["slices"]}
    raw = []
    for (by, name), r in rows.items():
        labels = cat if by == "category" else split
        mask = labels == name
        k, n = int(ok[mask].sum()), int(mask.sum())
        k_out, n_out = int(ok[~mask].sum()), int((~mask).sum())
        expect = stats.fisher_exact([[k, n - k], [k_out, n_out - k_out]]).pvalue
        assert r["p"] == pytest.approx(expect)
        assert r["accuracy"]["value"] == pytest.approx(k / n)
        assert r["difference"] == pytest.approx(k / n - ok.mean())
        raw.append((by, name, r["p"]))
    p = np.array([x[2] for x in raw])
    holm_sm, bh_sm = multipletests(p, method="holm")[1], multipletests(p, method="fdr_bh")[1]
    for (by, name, _), h, b in zip(raw, holm_sm, bh_sm, strict=True):
        assert rows[(by, name)]["p_holm"] == pytest.approx(h)
        assert rows[(by, name)]["p_bh"] == pytest.approx(b)
        assert rows[(by, name)]["survives_holm"] == (h < 0.05)
    # The planted bad category is listed first and survives both corrections.
    worst = t["slices"][0]
    assert (worst["by"], worst["slice"]) == ("category", "a")
    assert worst["survives_holm"] and worst["survives_bh"]


def test_paired_slices_use_mcnemar_on_each_slice():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0], dtype=bool)
    b = np.array([0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0], dtype=bool)
    lab = np.array(["x"] * 6 + ["y"] * 6)
    t = paired_slice_table(a, b, {"category": lab})
    rows = {r["slice"]: r for r in t["slices"]}
    # x: right->wrong 3 (pairs 0-2), wrong->right 1 (pair 5); y: wrong->right 1 (pair 9)
    assert (rows["x"]["right_to_wrong"], rows["x"]["wrong_to_right"]) == (3, 1)
    assert rows["x"]["p"] == pytest.approx(stats.binomtest(1, 4, 0.5).pvalue)
    assert (rows["y"]["right_to_wrong"], rows["y"]["wrong_to_right"]) == (0, 1)
    assert rows["x"]["difference"] == pytest.approx(-2 / 6)
    assert t["slices"][0]["slice"] == "x"  # the largest drop first
