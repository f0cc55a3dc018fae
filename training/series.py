"""Checkpoint series: the eval split scored at several steps of one training run.

``train-rm --eval-every N`` saves the model every N optimizer steps into
``<output>-series/checkpoint-<step>`` and scores the eval split with it as an ordinary
score run whose ``parent_run_id`` is the training run and whose config holds
``series_step`` (``db.runs.link_series``). ``preflens score --model A --model B`` (or a
folder of ``checkpoint-*``) scores an existing series the same way
(``score_checkpoints``). A score run is keyed by the weights' fingerprint, so a restarted
job (seeded, hence the same weights at the same step) finds the runs it already made.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from sqlalchemy.orm import Session, sessionmaker
from transformers import TrainerCallback

from db import runs
from db.session import writing
from preflens.errors import ConfigError

log = logging.getLogger(__name__)
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def series_dir(output: Path) -> Path:
    """Where a training run's series checkpoints go: beside its final checkpoint, so the
    final folder's fingerprint never depends on them."""
    return output.parent / f"{output.name}-series"


def checkpoint_step(path: str | Path) -> int | None:
    """The step in a ``checkpoint-<step>`` folder name, else None."""
    m = CHECKPOINT_RE.match(Path(path).name)
    return int(m.group(1)) if m else None


def expand_models(models: list[str]) -> list[tuple[int, str]]:
    """(step, model) for each model of a series, in step order. A folder that holds
    ``checkpoint-*`` folders stands for all of them; a ``checkpoint-<step>`` folder takes
    its step from its name; any other model takes its position (0, 1, ...)."""
    found: list[tuple[int, str]] = []
    for i, model in enumerate(models):
        folder = Path(model)
        inner = sorted(
            (checkpoint_step(p), str(p))
            for p in (folder.iterdir() if folder.is_dir() else [])
            if p.is_dir() and checkpoint_step(p) is not None
        )
        if inner:
            found.extend(inner)  # type: ignore[arg-type]
        else:
            step = checkpoint_step(folder)
            found.append((i if step is None else step, model))
    steps = [s for s, _ in found]
    if len(set(steps)) != len(steps):
        raise ConfigError(
            "two models of the series have the same step: name folders checkpoint-<step>"
        )
    return sorted(found)


def score_checkpoint(
    make_session: sessionmaker[Session],
    model: str,
    step: int,
    parent_run_id: int | None,
    dataset: str | int,
    split: str | None,
    **score_options: Any,
) -> int:
    """Score ``split`` of ``dataset`` with the checkpoint ``model`` as the series point at
    ``step`` of ``parent_run_id``; returns the score run's id."""
    from training.jobs.score import run_score_job

    result = run_score_job(
        make_session, model, dataset, split, parent_run_id=parent_run_id, **score_options
    )
    with writing(make_session) as session:
        runs.link_series(session, result.run.id, parent_run_id, step)
    return result.run.id


def prune_checkpoints(folder: Path, keep: int | None) -> list[Path]:
    """Delete all but the newest ``keep`` ``checkpoint-*`` folders (None keeps all);
    returns the deleted folders."""
    if keep is None or not folder.is_dir():
        return []
    found = sorted(
        (checkpoint_step(p), p) for p in folder.iterdir() if checkpoint_step(p) is not None
    )
    doomed = [p for _, p in found[: max(0, len(found) - keep)]]
    for p in doomed:
        shutil.rmtree(p, ignore_errors=True)
    return doomed


class SeriesCallback(TrainerCallback):
    """Every ``every`` optimizer steps: save the model and tokenizer to
    ``<folder>/checkpoint-<step>``, score the eval split with it (``score``), then prune
    old checkpoint folders to ``keep``."""

    def __init__(
        self,
        folder: Path,
        every: int,
        keep: int | None,
        tokenizer: Any,
        score: Callable[[str, int], int],
    ):
        self.folder, self.every, self.keep = folder, every, keep
        self.tokenizer, self.score = tokenizer, score
        self.scored: dict[int, int] = {}  # step -> score run id

    def on_step_end(self, args, state, control, model=None, **kwargs):  # noqa: ANN001
        step = state.global_step
        if step % self.every or step in self.scored or model is None:
            return control
        target = self.folder / f"checkpoint-{step}"
        target.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(target))
        self.tokenizer.save_pretrained(str(target))
        # Loading a checkpoint seeds torch (a new head's seed): keep the training's random
        # state as it was, so the steps after a series point are the steps without it.
        rng = torch.get_rng_state()
        cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        try:
            self.scored[step] = self.score(str(target), step)
        finally:
            torch.set_rng_state(rng)
            if cuda_rng is not None:
                torch.cuda.set_rng_state_all(cuda_rng)
        log.info("series: step %d scored as run %d", step, self.scored[step])
        prune_checkpoints(self.folder, self.keep)
        return control


def score_series(
    make_session: sessionmaker[Session],
    models: list[str],
    dataset: str | int,
    split: str | None,
    training_run: int | None = None,
    **score_options: Any,
) -> tuple[int, list[tuple[int, int]]]:
    """Score ``split`` of ``dataset`` with every checkpoint of a series (``expand_models``)
    and link each score run to ``training_run`` or, without one, to a ``series`` run keyed
    by the checkpoints' fingerprints and the pairs. Returns (parent run id, [(step, score
    run id)])."""
    from db import read
    from db.lookup import run_record
    from preflens.fingerprint import model_fingerprint
    from training.fetch import resolve_model

    points = expand_models(models)
    if training_run is not None:
        with make_session() as session:
            kind = run_record(session, training_run).kind
        if kind not in ("train_rm", "train_dpo", "series"):
            raise ConfigError(f"--training-run {training_run} is a {kind} run, not a training run")
        parent = training_run
    else:
        with make_session() as session:
            chosen = read.selection(session, dataset, split, score_options.get("limit"))
        fps = [(s, model_fingerprint(resolve_model(m))) for s, m in points]
        key = runs.job_key(models=fps, data=chosen.data_fingerprint, split=split)
        run, _ = runs.claim_run(
            make_session,
            "series",
            key,
            dataset_id=chosen.dataset_id,
            split=split,
            total=len(points),
            config={"models": [m for _, m in points], "steps": [s for s, _ in points]},
            data_fingerprint=chosen.data_fingerprint,
        )
        parent = run.id
    done = []
    with runs.failing_marks_run(make_session, parent) if training_run is None else nullcontext():
        for step, model in points:
            rid = score_checkpoint(
                make_session, model, step, parent, dataset, split, **score_options
            )
            done.append((step, rid))
    if training_run is None:
        with writing(make_session) as session:
            runs.finish_run(session, parent, {"points": [[s, r] for s, r in done]})
    return parent, done
