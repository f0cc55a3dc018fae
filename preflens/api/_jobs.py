"""The jobs as functions: each builds the job's config dataclass and calls the function
the command line calls (public through ``preflens.api``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from preflens.api._store import Run, Store
from training.configs import (
    DPOTrainConfig,
    GenerateConfig,
    RMTrainConfig,
    ScoreConfig,
    check_config,
)

if TYPE_CHECKING:
    from training.jobs.ingest import IngestReport

T = TypeVar("T")


def _config(cls: type[T], config: T | None, options: dict[str, Any]) -> T:
    """``config`` with ``options`` replaced, or a new ``cls`` from the options (None
    keeps a field's default, as an option left out on the command line), checked as the
    command line checks it (``ConfigError`` for a number out of its bounds)."""
    options = {k: v for k, v in options.items() if v is not None}
    if config is None:
        return check_config(cls(**options))
    return check_config(dataclasses.replace(config, **options))  # type: ignore[type-var]


def _store(store: Store | None) -> Store:
    return store if store is not None else Store()


def _job_store(store: Store | None) -> Store:
    """The store a model-running job writes to, with ``PREFLENS_NUM_THREADS`` applied to
    torch first, as the command line applies it."""
    from training.jobs import apply_num_threads

    apply_num_threads()
    return _store(store)


def ingest(
    path: str,
    *,
    name: str | None = None,
    format: str | None = None,
    split: str | None = None,
    test_fraction: float | None = None,
    prefer: str = "helpful",
    mapping: Mapping[str, str] | None = None,
    replace: bool = False,
    store: Store | None = None,
    progress: bool = True,
) -> IngestReport:
    """Read a preference dataset into the store, as ``preflens ingest PATH`` does.

    Returns the ingest report: ``dataset`` (its name), ``format``, ``rows`` read,
    ``added``, ``duplicates``, ``rejected`` (with ``reasons`` and the first ``examples``),
    ``splits`` (pairs added per split). ``store.datasets()`` lists the result.
    """
    from training.jobs.ingest import ingest as ingest_job

    return ingest_job(
        _store(store)._make_session,
        path,
        fmt=format,
        name=name,
        split=split,
        test_fraction=test_fraction,
        prefer=prefer,
        mapping=mapping,
        replace=replace,
        progress=progress,
    )


def score(
    model: str | None = None,
    dataset: str | None = None,
    *,
    config: ScoreConfig | None = None,
    store: Store | None = None,
    progress: bool = True,
    **options: Any,
) -> Run:
    """Score both responses of every pair with a reward model: the run ``preflens score
    --model MODEL --dataset DATASET`` makes (the same run: a finished one is reused).
    ``options`` are ``ScoreConfig`` fields (``split``, ``batch_size``, ``max_length``,
    ``head_seed``, ``limit``); or pass a whole ``config``."""
    from training.jobs.score import score_from_config

    cfg = _config(ScoreConfig, config, {"model": model, "dataset": dataset, **options})
    s = _job_store(store)
    return s.run(score_from_config(s._make_session, cfg, progress).run.id)


def generate(
    policies: Mapping[str, str],
    dataset: str | None = None,
    *,
    config: GenerateConfig | None = None,
    store: Store | None = None,
    progress: bool = True,
    **options: Any,
) -> Run:
    """Let named policies (name -> checkpoint) answer the prompts of a split: the run
    ``preflens generate --policy NAME=MODEL ... --dataset DATASET`` makes. ``options``
    are ``GenerateConfig`` fields (``split``, ``max_new_tokens``, ``temperature``,
    ``top_p``, ``seed``, ``batch_size``, ``limit``)."""
    from training.jobs.generate import generate_from_config

    cfg = _config(GenerateConfig, config, {"dataset": dataset, **options})
    s = _job_store(store)
    return s.run(generate_from_config(s._make_session, dict(policies), cfg, progress).run.id)


def train_rm(
    dataset: str | None = None,
    *,
    config: RMTrainConfig | None = None,
    store: Store | None = None,
    progress: bool = True,
    **options: Any,
) -> Run:
    """Train a reward model (Bradley-Terry), as ``preflens train-rm`` does; returns the
    ``train_rm`` run (its ``info["summary"]`` names the checkpoint and the before/after
    score runs). ``options`` are ``RMTrainConfig`` fields, e.g. ``model``, ``lr``,
    ``max_steps``, ``report_to="tensorboard"``."""
    from training.jobs.train_rm import train_rm as train_rm_job

    cfg = _config(RMTrainConfig, config, {"dataset": dataset, **options})
    s = _job_store(store)
    return s.run(train_rm_job(s._make_session, cfg, progress).run.id)


def train_dpo(
    dataset: str | None = None,
    *,
    config: DPOTrainConfig | None = None,
    store: Store | None = None,
    progress: bool = True,
    **options: Any,
) -> Run:
    """Train a policy with DPO, IPO, hinge, SimPO or ORPO, as ``preflens train-dpo``
    does; returns the ``train_dpo`` run. ``options`` are ``DPOTrainConfig`` fields, e.g.
    ``loss``, ``beta``, ``max_steps``, ``report_to="wandb"``."""
    from training.jobs.train_dpo import train_dpo as train_dpo_job

    cfg = _config(DPOTrainConfig, config, {"dataset": dataset, **options})
    s = _job_store(store)
    return s.run(train_dpo_job(s._make_session, cfg, progress).run.id)
