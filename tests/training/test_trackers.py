"""``--report-to``: the trainer's TensorBoard writer gets the same curves the store keeps
(event files read back with TensorBoard's own reader), and the tracker is not part of a
run's identity."""

from __future__ import annotations

from pathlib import Path

import pytest

import preflens
from preflens.cli.main import build_parser
from tests.factories import trl_rows, write_jsonl


def test_report_to_is_an_option_of_both_trainers(capsys):
    parser = build_parser()
    for command in ("train-rm", "train-dpo"):
        args = parser.parse_args([command, "--dataset", "d", "--report-to", "wandb"])
        assert args.report_to == "wandb"
        assert parser.parse_args([command, "--dataset", "d"]).report_to == "none"
        with pytest.raises(SystemExit) as bad:
            parser.parse_args([command, "--dataset", "d", "--report-to", "mlflow"])
        assert bad.value.code == 2
    assert "invalid choice: 'mlflow'" in capsys.readouterr().err


@pytest.mark.parametrize("trainer", ["train_rm", "train_dpo"])
def test_tensorboard_gets_the_stores_curves(trainer, tmp_path, tiny_lm, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    data = write_jsonl(tmp_path / "p.jsonl", trl_rows(8))
    preflens.ingest(str(data), name="p", split="train", progress=False)
    options = dict(
        model=str(tiny_lm),
        max_steps=3,
        batch_size=4,
        logging_steps=1,
        lr=1e-3,
        max_length=64,
        progress=False,
    )
    if trainer == "train_rm":
        options |= {"score_before": False, "score_after": False}
    train = getattr(preflens, trainer)
    run = train("p", report_to="tensorboard", **options)
    assert run.status == "done"
    # the local checkpoint path (info, like the HTTP API, names only the folder)
    assert Path(run.output).is_dir() and run.info["summary"]["output"] == Path(run.output).name

    logdir = tmp_path / "data" / "tensorboard" / f"run-{run.id}"
    assert list(logdir.glob("events.out.tfevents.*")), "no event file written"
    events = EventAccumulator(str(logdir))
    events.Reload()
    stored = run.metrics()
    curves = ["train/loss", "train/learning_rate"]
    curves += ["train/accuracy"] if trainer == "train_rm" else ["train/rewards/margins"]
    assert set(curves) <= set(stored["name"])
    for name in curves:
        mine = stored[stored["name"] == name].sort_values("step")
        theirs = events.Scalars(name)
        assert [e.step for e in theirs] == list(mine["step"]) == [1, 2, 3]
        # TensorBoard keeps float32
        assert [e.value for e in theirs] == pytest.approx(list(mine["value"]), rel=1e-6)

    # where the curves also went is not what was trained: the same run, reused
    again = train("p", report_to="none", **options)
    assert again.id == run.id
    assert again.info["config"]["report_to"] == "tensorboard"  # as it was trained
