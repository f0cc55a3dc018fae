"""db.read.diagnostics on a seeded store, recomputed with numpy/scipy from raw rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score
from sqlalchemy import select
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from db.read.diagnostics import (
    confidently_wrong,
    label_noise_candidates,
    paired,
    run_diagnostics,
)
from db.schema import Pair, PairScore
from preflens.errors import NotFoundError, QueryError
from tests.diagnostics_seed import seed_diagnostics


@pytest.fixture
def diag(store):
    return seed_diagnostics(store)


def raw(store, run_id):
    with store() as s:
        rows = s.execute(
            select(PairScore, Pair)
            .join(Pair, Pair.id == PairScore.pair_id)
            .where(PairScore.run_id == run_id)
            .order_by(PairScore.pair_id)
        ).all()
        return [
            {
                "pair_id": ps.pair_id,
                "gap": ps.gap,
                "chosen": ps.score_chosen,
                "rejected": ps.score_rejected,
                "category": ps.category,
                "chars": (ps.chars_chosen, ps.chars_rejected),
                "text_chars": (len(p.chosen), len(p.rejected)),
            }
            for ps, p in rows
        ]


def test_score_run_headline_numbers(store, diag):
    rows = raw(store, diag.after_run)
    gap = np.array([r["gap"] for r in rows])
    with store() as s:
        out = run_diagnostics(s, diag.after_run)
    k, n = int((gap > 0).sum()), len(gap)
    assert out["n"] == n == 40 and out["ties"] == int((gap == 0).sum()) > 0
    acc = out["accuracy"]
    assert acc["value"] == pytest.approx(k / n)  # gap 0 counted wrong
    assert (acc["ci_low"], acc["ci_high"]) == pytest.approx(
        proportion_confint(k, n, method="wilson")
    )
    y = np.r_[np.ones(n), np.zeros(n)]
    scores = np.r_[[r["chosen"] for r in rows], [r["rejected"] for r in rows]]
    assert out["auc"]["value"] == pytest.approx(roc_auc_score(y, scores))
    assert out["auc"]["ci_low"] <= out["auc"]["value"] <= out["auc"]["ci_high"]
    assert out["gap_mean"]["value"] == pytest.approx(gap.mean())
    t = stats.ttest_1samp(gap, 0).confidence_interval(0.95)
    assert out["gap_mean"]["ci_low"] == pytest.approx(t.low, abs=0.1)
    assert out["gap_mean"]["ci_high"] == pytest.approx(t.high, abs=0.1)
    for entry in out["by_category"]:
        g = np.array([r["gap"] for r in rows if r["category"] == entry["category"]])
        assert entry["n"] == len(g)
        assert entry["accuracy"]["value"] == pytest.approx(np.mean(g > 0))
        lo, hi = proportion_confint(int((g > 0).sum()), len(g), method="wilson")
        assert entry["accuracy"]["ci_low"] == pytest.approx(lo)
    assert {e["category"] for e in out["by_category"]} == {r["category"] for r in rows}


def test_length_uses_stored_response_lengths(store, diag):
    rows = raw(store, diag.after_run)
    gap = np.array([r["gap"] for r in rows])
    diff = np.array([r["chars"][0] - r["chars"][1] for r in rows])
    with store() as s:
        out = run_diagnostics(s, diag.after_run)
    length = out["length"]
    assert "stored" in length["source"] and length["unit"] == "characters"
    longer = diff > 0
    assert length["chosen_longer"]["n"] == int(longer.sum())
    assert length["chosen_longer"]["value"] == pytest.approx(np.mean(gap[longer] > 0))
    assert length["chosen_shorter"]["n"] == int((diff < 0).sum())
    assert length["longer_wins_baseline"]["value"] == pytest.approx(
        (longer.sum() + (diff == 0).sum() / 2) / len(diff)
    )
    assert length["spearman_gap_length_diff"] == pytest.approx(stats.spearmanr(gap, diff)[0])
    assert "length_tokens" in out and out["length_tokens"]["unit"] == "tokens"
    cal = out["calibration"]
    assert sum(b["n"] for b in cal["bins"]) == 2 * len(gap)
    assert cal["brier"] == pytest.approx(np.mean((1 - 1 / (1 + np.exp(-gap))) ** 2))
    assert cal["temperature"] > 0 and cal["ece_after_temperature"] is not None


def test_length_falls_back_to_pair_texts(store, diag):
    rows = raw(store, diag.base.score_run)
    assert all(r["chars"] == (None, None) for r in rows)
    gap = np.array([r["gap"] for r in rows])
    diff = np.array([r["text_chars"][0] - r["text_chars"][1] for r in rows])
    with store() as s:
        out = run_diagnostics(s, diag.base.score_run)
    assert "pair's response texts" in out["length"]["source"]
    assert out["length"]["chosen_longer"]["n"] == int((diff > 0).sum())
    assert out["length"]["spearman_gap_length_diff"] == pytest.approx(stats.spearmanr(gap, diff)[0])
    assert "length_tokens" not in out


def test_generation_run_comparison(store, diag):
    seeded = diag.base
    d = np.array([seeded.gen_gaps[p] for p in sorted(seeded.gen_gaps)])
    with store() as s:
        out = run_diagnostics(s, seeded.gen_score_run)
    (cmp,) = out["comparisons"]
    assert (cmp["a"], cmp["b"], cmp["n"]) == ("dpo", "base", len(d))
    assert cmp["mean_difference"]["value"] == pytest.approx(d.mean())
    w, losses = int((d > 0).sum()), int((d < 0).sum())
    assert (cmp["wins"], cmp["losses"]) == (w, losses)
    assert cmp["win_rate"]["value"] == pytest.approx((w + (len(d) - w - losses) / 2) / len(d))
    assert cmp["sign_test_p"] == pytest.approx(stats.binomtest(w, w + losses).pvalue)
    lc = cmp["length_controlled"]
    assert lc["raw_win_rate"] == pytest.approx(cmp["win_rate"]["value"])
    assert 0 <= lc["lc_win_rate"]["value"] <= 1
    assert set(out["policies"]) == {"base", "dpo"}


def test_paired_runs(store, diag):
    a = {r["pair_id"]: r["gap"] for r in raw(store, diag.base.score_run)}
    b = {r["pair_id"]: r["gap"] for r in raw(store, diag.partial_run)}
    common = sorted(set(a) & set(b))
    ga, gb = np.array([a[p] for p in common]), np.array([b[p] for p in common])
    with store() as s:
        out = paired(s, diag.base.score_run, diag.partial_run)
    assert out["n"] == len(common) == 20
    assert out["left_out"] == {"only_a": 20, "only_b": 0}
    ra, rb = ga > 0, gb > 0
    assert out["accuracy_a"]["value"] == pytest.approx(ra.mean())
    assert out["difference"]["value"] == pytest.approx(rb.mean() - ra.mean())
    assert out["difference"]["ci_low"] <= out["difference"]["value"] <= out["difference"]["ci_high"]
    w2r, r2w = int((~ra & rb).sum()), int((ra & ~rb).sum())
    assert out["flips"]["wrong_to_right"] == w2r and out["flips"]["right_to_wrong"] == r2w
    assert out["flips"]["wrong_to_right_ids"] == [
        p for p, x, y in zip(common, ra, rb, strict=True) if y and not x
    ]
    table = [[int((ra & rb).sum()), r2w], [w2r, int((~ra & ~rb).sum())]]
    assert out["mcnemar_p"] == pytest.approx(mcnemar(table, exact=True).pvalue)
    assert out["kendall_tau"] == pytest.approx(stats.kendalltau(ga, gb).statistic)
    assert out["spearman"] == pytest.approx(stats.spearmanr(ga, gb)[0])
    with store() as s, pytest.raises(QueryError):
        paired(s, diag.after_run, diag.after_run)
    with store() as s, pytest.raises(QueryError):
        paired(s, diag.after_run, diag.base.gen_score_run)
    with store() as s, pytest.raises(NotFoundError):
        paired(s, diag.after_run, 10**6)


def test_confidently_wrong_sorted_most_negative(store, diag):
    rows = raw(store, diag.after_run)
    wrong = sorted((r for r in rows if r["gap"] <= 0), key=lambda r: (r["gap"], r["pair_id"]))
    with store() as s:
        out = confidently_wrong(s, diag.after_run, limit=5)
        everything = confidently_wrong(s, diag.after_run, limit=500)
    assert [c["pair_id"] for c in out] == [r["pair_id"] for r in wrong[:5]]
    assert len(everything) == len(wrong)
    assert out[0]["p_chosen"] == pytest.approx(1 / (1 + np.exp(-wrong[0]["gap"])))
    assert out[0]["prompt"].startswith("user: Question")
    with store() as s, pytest.raises(QueryError):
        confidently_wrong(s, diag.after_run, limit=0)


def test_label_noise_candidates(store, diag):
    runs = [diag.base.score_run, diag.after_run, diag.partial_run]
    gaps = [{r["pair_id"]: r["gap"] for r in raw(store, rid)} for rid in runs]
    votes = {p: sum(g.get(p, 0) < 0 for g in gaps) for p in diag.base.pair_ids}
    with store() as s:
        two = label_noise_candidates(s, runs, min_agree=2, limit=500)
        all3 = label_noise_candidates(s, runs)
    assert two["total"] == sum(v >= 2 for v in votes.values()) > 0
    assert {c["pair_id"] for c in two["candidates"]} == {p for p, v in votes.items() if v >= 2}
    assert all3["min_agree"] == 3
    assert {c["pair_id"] for c in all3["candidates"]} == {p for p, v in votes.items() if v == 3}
    counts = [c["runs_against"] for c in two["candidates"]]
    assert counts == sorted(counts, reverse=True)
    with store() as s, pytest.raises(QueryError):
        label_noise_candidates(s, runs, min_agree=4)
