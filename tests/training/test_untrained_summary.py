"""Every terminal summary of a score run whose reward head was initialised from a seed
carries the headline's "untrained head" verdict: `train-rm`'s before-training run (read
from that run's own ``rm_layout`` record, not assumed) and `score` of a plain causal LM;
a trained head's summaries carry none."""

from __future__ import annotations

import re

from preflens.cli.main import main
from tests.factories import ingest_test_split

UNTRAINED = "[untrained head]"


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.lstrip().startswith(start))


def test_untrained_head_is_named_in_every_score_summary(cli_store, tiny_lm, tmp_path, capsys):
    data = ingest_test_split(cli_store, tmp_path, "few", 6)
    rm = tmp_path / "rm"
    args = ["train-rm", "--model", str(tiny_lm), "--dataset", data, "--train-split", "test"]
    args += ["--batch-size", "2", "--max-steps", "1", "--max-length", "64", "--output", str(rm)]
    assert main(args) == 0
    text = capsys.readouterr().out
    before, after = _line(text, "before training"), _line(text, "after training")
    assert re.search(r"accuracy \d\.\d{3} \[", before) and UNTRAINED in before, before
    assert re.search(r"accuracy \d\.\d{3} \[", after) and UNTRAINED not in after, after

    # `score` of the same plain LM says so too; the trained checkpoint's summary does not.
    base = ["score", "--dataset", data, "--split", "test", "--max-length", "48"]
    assert main([*base, "--model", str(tiny_lm)]) == 0
    assert UNTRAINED in _line(capsys.readouterr().out, "accuracy")
    assert main([*base, "--model", str(rm)]) == 0
    assert UNTRAINED not in capsys.readouterr().out
