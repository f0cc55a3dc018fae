"""Small CLI promises: `score --limit`, a bad option answered with the command's own
usage (every subcommand), and `preflens runs` lines for probe and score_dpo runs."""

from __future__ import annotations

import pytest

from preflens.cli.commands import COMMANDS
from preflens.cli.main import main
from preflens.cli.output import run_line_summary


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_a_bad_option_prints_the_commands_usage(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--no-such-option"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    # The command's usage (a missing required argument may be reported first).
    assert err.startswith(f"usage: preflens {name}") and f"preflens {name}: error:" in err


def test_score_limit_scores_the_first_n_pairs(
    store, db_url, tmp_path, tiny_lm, monkeypatch, capsys
):
    from preflens.config import get_settings
    from tests.factories import ingest_test_split

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    name = ingest_test_split(store, tmp_path, "few", 6)
    argv = ["score", "--model", str(tiny_lm), "--dataset", name, "--limit", "3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "scored 3 pairs" in printed and "n=3 (Wilson 95%)" in printed


def test_runs_lines_for_probe_and_score_dpo_runs():
    rate = {"value": 0.75, "ci_low": 0.41, "ci_high": 0.93, "n": 8, "method": "wilson"}
    probe = run_line_summary("probe", {"pairs": 8, "original_accuracy": rate, "edits": [{}, {}]})
    assert probe == "orig acc 0.750 [0.41, 0.93] n 8, 2 edits"
    dpo = run_line_summary("score_dpo", {"pairs": 8, "accuracy": rate})
    assert dpo == "implicit acc 0.750 [0.41, 0.93] n 8"


def test_one_run_label_with_the_runs_max_length(capsys):
    from types import SimpleNamespace

    from dashboard.frames import run_label as page_label
    from preflens.cli.output import print_runs
    from preflens.run_label import run_label

    run = {"id": 3, "kind": "score", "model": "rm", "dataset": "demo", "split": "test"}
    run["config"] = {"max_length": 256}
    assert run_label(run) == page_label(run) == "#3 score · rm · demo/test · max 256 tok"
    gen = {**run, "kind": "generate", "config": {"max_new_tokens": 64}}
    assert run_label(gen).endswith("· max 64 new tok")
    row = SimpleNamespace(
        id=3,
        kind="score",
        status="done",
        progress=1.0,
        dataset=SimpleNamespace(name="demo"),
        split="test",
        checkpoint=None,
        config={"model": "rm", "max_length": 256},
        summary=None,
        error=None,
    )
    print_runs([row])
    assert "max 256 tok" in capsys.readouterr().out
