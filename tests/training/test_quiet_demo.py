"""The demo's console output: each step's header comes before the step's own output, and
training prints no raw ``{'loss': ...}`` dicts (metrics go to the store)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("disable_tqdm", [False, True])
def test_trainer_log_dicts_are_not_printed(tiny_lm, tmp_path, capsys, disable_tqdm):
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
    from transformers.trainer_callback import TrainerControl, TrainerState

    from training.callbacks import quiet_console_logs

    model = AutoModelForCausalLM.from_pretrained(tiny_lm)
    args = TrainingArguments(
        output_dir=str(tmp_path), use_cpu=True, report_to=[], disable_tqdm=disable_tqdm
    )
    trainer = Trainer(model=model, args=args)
    quiet_console_logs(trainer)
    state = TrainerState()
    state.is_world_process_zero = state.is_local_process_zero = True
    trainer.callback_handler.on_train_begin(args, state, TrainerControl())
    trainer.callback_handler.on_log(args, state, TrainerControl(), {"loss": 0.6931})
    captured = capsys.readouterr()
    assert "'loss'" not in captured.out and "'loss'" not in captured.err


def test_demo_announces_each_step_before_running_it(embedded_model, store):
    from training.jobs.demo import run_demo

    events: list[tuple[str, int]] = []
    steps = run_demo(store, on_start=lambda n, total, title: events.append(("start", n)))
    for step in steps:
        events.append(("done", step.number))
        if step.number == 2:  # the model and the data: the rest trains for minutes
            break
    assert events == [("start", 1), ("done", 1), ("start", 2), ("done", 2)]
