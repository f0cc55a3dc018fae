"""What the command line prints says what each number is."""

from __future__ import annotations

from types import SimpleNamespace

from statsmodels.stats.proportion import proportion_confint

from preflens.cli.output import print_comparison, print_score_summary, print_training_summary


def test_dpo_summary_counts_the_pairs_the_trainer_left_out(capsys):
    run = SimpleNamespace(
        kind="train_dpo",
        id=4,
        status="done",
        summary={
            "steps": 5,
            "train_pairs": 40,
            "dropped_pairs": 3,
            "truncated_pairs": 5,
            "train_loss": 0.6,
        },
    )
    print_training_summary(run)
    printed = capsys.readouterr().out
    assert "5 steps on 37 (of 40; 3 left out) pairs" in printed
    assert "3 with over-long prompts were left out" in printed


def test_score_summary_labels_the_spread_and_the_cut(capsys):
    print_score_summary(
        {
            "pairs": 3,
            "accuracy": 2 / 3,
            "reward_mean": 0.91,
            "reward_std": 0.272,
            "truncated_responses": 1,
        }
    )
    printed = capsys.readouterr().out
    assert "std of scores 0.272" in printed and "+-" not in printed
    assert "start cut, end kept" in printed and "sides cut at max length 1 of 6" in printed
    lo, hi = proportion_confint(2, 3, method="wilson")
    assert f"accuracy 0.667 [{lo:.3f}, {hi:.3f}] n=3 (Wilson 95%)" in printed


def test_comparison_prints_both_win_rates_with_their_convention(capsys):
    print_comparison(
        {
            "n": 32,
            "policies": {},
            "comparisons": [
                {
                    "a": "dpo",
                    "b": "base",
                    "mean_diff": 0.04,
                    "wins": 15,
                    "ties": 5,
                    "losses": 12,
                    "win_rate": 17.5 / 32,
                    "decisive_win_rate": 15 / 27,
                }
            ],
        }
    )
    printed = capsys.readouterr().out
    lo, hi = proportion_confint(17.5, 32, method="wilson")
    assert f"win rate (W+T/2)/n 54.7% [{100 * lo:.1f}%, {100 * hi:.1f}%] n=32" in printed
    assert "decisive 55.6% (W/(W+L))" in printed
    assert "32 prompts every policy answered" in printed
