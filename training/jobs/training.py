"""What RM and DPO training share: reading the pairs and opening (or reusing) the run,
the trainer arguments (the same schedule, logging, evaluation and device choice: fp32 on
CPU, bf16 on a GPU that supports it), and saving the checkpoint as the run's result.
Both job configs name the fields used here alike."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from sqlalchemy.orm import Session, sessionmaker

from db import read, runs
from db.lookup import dataset_record
from db.session import writing
from preflens.config import get_settings
from preflens.errors import NotFoundError, QueryError
from preflens.fingerprint import model_fingerprint
from training import distributed as dist
from training.checkpoints import save_checkpoint

log = logging.getLogger(__name__)
NOT_IN_KEY = ("report_to",)  # config fields that do not change what is trained


@dataclass
class TrainingJob:
    run_id: int
    reuse: bool  # finished before, its checkpoint is in place: nothing to train
    base_path: str
    output: Path
    dataset_id: int
    data_hash: str
    train_pairs: list[Any]
    eval_pairs: list[Any]


def open_training_job(
    make_session: sessionmaker[Session],
    cfg: Any,
    kind: str,
    base_path: str,
    output_prefix: str,
    not_in_key: Iterable[str] = (),
    extra_key: dict[str, Any] | None = None,
) -> TrainingJob:
    """Read the train and eval pairs of ``cfg.dataset``, find or open the ``kind`` run
    whose key is the base model, the training data and ``cfg`` (less ``not_in_key``), and
    agree on it across processes. The checkpoint goes to ``cfg.output`` or, by default,
    ``<data_dir>/checkpoints/<output_prefix>-<dataset>-<key[:8]>``. ``extra_key``: more
    identity than the config holds (e.g. a reference model's fingerprint)."""
    train_split, eval_split = _split(cfg.train_split), _split(cfg.eval_split)
    with make_session() as session:
        ds = dataset_record(session, cfg.dataset)
        # The same selection check as every job's --split, before a run exists: a split
        # the dataset lacks is refused with the splits it has (not an eval-less run).
        check_split(session, ds.id, "--train-split", train_split, cfg.limit)
        # The default eval split ('test') may be missing: training then runs without one.
        if cfg.eval_split != _default(cfg, "eval_split"):
            check_split(session, ds.id, "--eval-split", eval_split, cfg.eval_limit)
        train_pairs = read.pairs_of(session, ds.id, train_split, cfg.limit)
        eval_pairs = read.pairs_of(session, ds.id, eval_split, cfg.eval_limit)
        data_hash = read.dataset_hash(session, ds.id, train_split)
        dataset_id = ds.id
    if not train_pairs:
        raise NotFoundError(f"dataset {cfg.dataset!r} has no pairs in split {cfg.train_split!r}")
    # Where the curves are also sent changes nothing trained: not part of the run's key.
    skip = {*not_in_key, *NOT_IN_KEY}
    hparams = {k: v for k, v in asdict(cfg).items() if k not in skip}
    base_fp = model_fingerprint(base_path)
    key = runs.job_key(kind=kind, base=base_fp, data=data_hash, **hparams, **(extra_key or {}))
    checkpoints = get_settings().data_dir.resolve() / "checkpoints"
    output = (
        Path(cfg.output) if cfg.output else checkpoints / f"{output_prefix}-{cfg.dataset}-{key[:8]}"
    )
    state = None
    if dist.is_main():
        run, done = runs.claim_run(
            make_session,
            kind,
            key,
            dataset_id=dataset_id,
            split=cfg.train_split,
            config={**asdict(cfg), "output": str(output)},
            model_fingerprint=base_fp,
            data_fingerprint=data_hash,
        )
        state = (run.id, done and (output / "run.json").is_file())
    run_id, reuse = dist.broadcast(state)
    return TrainingJob(
        run_id, reuse, base_path, output, dataset_id, data_hash, train_pairs, eval_pairs
    )


def _split(value: str | None) -> str | None:
    return None if value == "all" else value


def _default(cfg: Any, name: str) -> Any:
    return next(f.default for f in fields(cfg) if f.name == name)


def check_split(
    session: Session, dataset_id: int, option: str, split: str | None, limit: int | None
) -> None:
    """Refuse (``QueryError`` naming ``option`` and the dataset's splits) a split that
    selects no pair, as ``read.selection`` does for the scoring jobs' ``--split``."""
    try:
        read.selection(session, dataset_id, split, limit)
    except QueryError as exc:
        raise QueryError(f"{option} {split or 'all'}: {exc}") from exc


def trainer_output_dir(job: TrainingJob) -> str:
    """The trainer's scratch folder, beside the checkpoint."""
    return str(job.output.parent / f".{job.output.name}-trainer")


def finish_training(
    make_session: sessionmaker[Session],
    job: TrainingJob,
    cfg: Any,
    trainer: Any,
    tokenizer: Any,
    kind: str,
    summary: dict[str, Any],
    **record: Any,
) -> None:
    """Save the trained model as the job's checkpoint (with ``record`` in ``run.json``)
    and finish the run with ``summary``, the checkpoint and the step count."""
    ckpt_id = save_checkpoint(
        make_session,
        trainer,
        tokenizer,
        job.output,
        kind,
        cfg,
        base_model=cfg.model,
        base_model_path=job.base_path,
        dataset_id=job.dataset_id,
        dataset_hash=job.data_hash,
        **record,
    )
    summary = {**summary, "steps": trainer.state.global_step, "output": str(job.output)}
    with writing(make_session) as session:
        runs.finish_run(
            session, job.run_id, summary, checkpoint_id=ckpt_id, total=trainer.state.global_step
        )


def common_trainer_args(cfg: Any, output_dir: str, has_eval: bool, progress: bool) -> dict:
    """Keyword arguments for ``TrainingArguments`` or a TRL config built from ``cfg``
    (``epochs``, ``max_steps``, ``lr``, ``batch_size``, ``grad_accum``, ``scheduler``,
    ``warmup_ratio``, ``logging_steps``, ``eval_steps``, ``seed``, ``report_to``: the
    trainer's own tracker integration, besides the store's callback)."""
    use_gpu = torch.cuda.is_available()
    return dict(
        output_dir=output_dir,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        learning_rate=cfg.lr,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_ratio,  # a value below 1 is a share of the steps
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if cfg.eval_steps and has_eval else "no",
        eval_steps=cfg.eval_steps,
        save_strategy="no",
        report_to=[] if cfg.report_to == "none" else [cfg.report_to],
        # a tracker shows the run under its checkpoint folder's name
        run_name=Path(output_dir).name.lstrip(".").removesuffix("-trainer"),
        seed=cfg.seed,
        use_cpu=not use_gpu,
        bf16=use_gpu and torch.cuda.is_bf16_supported(),
        fp16=False,
        disable_tqdm=not progress,
        dataloader_num_workers=0,
    )


def tensorboard_dir(run_id: int) -> Path:
    """Where a training run's TensorBoard event files go unless ``TENSORBOARD_LOGGING_DIR``
    names a folder: ``<data_dir>/tensorboard/run-<id>``."""
    return get_settings().data_dir.resolve() / "tensorboard" / f"run-{run_id}"


def place_tracker_logs(trainer: Any, run_id: int) -> None:
    """Point the trainer's TensorBoard writer (if ``report_to`` asked for one) at
    ``tensorboard_dir`` rather than the trainer's hidden scratch folder, so that
    ``tensorboard --logdir <data_dir>/tensorboard`` shows every run by its id."""
    from transformers.integrations import TensorBoardCallback

    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback) and callback.logging_dir is None:
            callback.logging_dir = str(tensorboard_dir(run_id))
            log.info("TensorBoard event files: %s", callback.logging_dir)
