"""Job configurations: one dataclass per job, the single source of every default.

Each field carries its help text (and, where it matters, its choices) in its metadata;
the command line builds its options from these classes (``preflens.cli.options``) and
the demo states only what it changes. Training configs share ``TrainConfig``. Nothing
heavy is imported here, so ``preflens --help`` stays instant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from preflens.config import EMBEDDED_MODEL_ALIAS, get_settings
from preflens.errors import ConfigError

LOSSES = ("sigmoid", "ipo", "hinge", "simpo", "orpo")
TRACKERS = ("none", "tensorboard", "wandb")
REFERENCE_FREE = ("simpo", "orpo")


def option(default: Any = None, help: str = "", **meta: Any) -> Any:
    """A dataclass field with its command-line help (and ``choices``, ``flag``, ...);
    ``min``/``max`` (inclusive) and ``gt`` (exclusive) bound a number (``check_config``)."""
    return field(default=default, metadata={"help": help, **meta})


def settings_option(name: str, help: str, **meta: Any) -> Any:
    """A field whose default is the ``PREFLENS_*`` setting ``name`` at the time of use."""
    return field(
        default_factory=lambda: getattr(get_settings(), name),
        metadata={"help": f"{help} (PREFLENS_{name.upper()})", **meta},
    )


def check_config(cfg: Any) -> Any:
    """``cfg`` if every number is finite and within its field's ``min``/``max``/``gt``
    bounds; else ``ConfigError`` naming the option (one check for every job, before any
    run is made)."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        flag = "--" + f.name.replace("_", "-")
        if not math.isfinite(value):
            raise ConfigError(f"{flag} {value}: give a finite number")
        low, high, above = (f.metadata.get(k) for k in ("min", "max", "gt"))
        if low is not None and value < low:
            raise ConfigError(f"{flag} {value}: must be at least {low}")
        if high is not None and value > high:
            raise ConfigError(f"{flag} {value}: must be at most {high}")
        if above is not None and value <= above:
            raise ConfigError(f"{flag} {value}: must be greater than {above}")
    return cfg


MODEL_HELP = "checkpoint folder, .gguf file, hub id or alias"


@dataclass
class TrainConfig:
    """What every training run shares (saved in ``run.json``)."""

    dataset: str = field(metadata={"help": "dataset name or id", "required": True})
    model: str = option(EMBEDDED_MODEL_ALIAS, f"starting checkpoint: {MODEL_HELP}")
    train_split: str = option("train", "split to train on")
    eval_split: str = option("test", "split to evaluate on")
    output: str | None = option(None, "checkpoint folder (default: DATA_DIR/checkpoints/...)")
    epochs: float = option(1.0, "passes over the training pairs", gt=0)
    lr: float = option(2e-5, "peak learning rate", gt=0)
    batch_size: int = option(8, "pairs per device step", min=1)
    grad_accum: int = option(1, "gradient accumulation steps", min=1)
    max_length: int = option(512, "tokens per conversation", min=8)
    max_steps: int = option(-1, "stop after N steps (-1: run the epochs)", min=-1)
    logging_steps: int = option(10, "write metrics every N steps", min=1)
    eval_steps: int | None = option(None, "evaluate every N steps (default: at the end)", min=1)
    warmup_ratio: float = option(0.03, "linear warm-up share of the steps", min=0, max=1)
    scheduler: str = option("cosine", "learning-rate schedule")
    seed: int = option(0, "random seed (also of a new reward head)", min=0)
    train_layers: int | None = option(
        None, "train only the last N transformer blocks (and the RM head); default: all", min=1
    )
    limit: int | None = option(None, "train on the first N pairs only", min=1)
    eval_limit: int | None = option(None, "evaluate (and score) the first N pairs only", min=1)
    report_to: str = option(
        "none",
        "also send the training curves to this tracker (the store keeps them either way)",
        choices=TRACKERS,
    )


@dataclass
class RMTrainConfig(TrainConfig):
    """A reward-model run: Bradley-Terry loss on the last non-padding token."""

    weight_decay: float = option(0.0, "AdamW weight decay", min=0)
    score_before: bool = option(True, "score the eval split with the untrained head first")
    score_after: bool = option(True, "score the eval split with the trained RM")
    eval_every: int | None = option(
        None,
        "save a checkpoint every N steps and score the eval split with it (a checkpoint "
        "series, linked to this run by step)",
        min=1,
    )
    keep_checkpoints: int | None = option(
        None, "keep only the newest K series checkpoints on disk (their score runs stay)", min=0
    )
    keep_states: bool = option(
        False, "the after-training score run also stores state vectors (see score --keep-states)"
    )


@dataclass
class DPOTrainConfig(TrainConfig):
    """A preference-optimisation run (DPO, IPO, hinge, SimPO, ORPO)."""

    lr: float = option(1e-6, "peak learning rate", gt=0)
    loss: str = option(
        "sigmoid",
        "sigmoid = DPO; simpo and orpo need no reference model",
        choices=LOSSES,
    )
    beta: float = option(0.1, "strength of the pull towards the reference", gt=0)
    simpo_gamma: float = option(0.5, "SimPO target margin")
    precompute_ref: bool = option(False, "compute the reference log-probs once before training")
    gradient_checkpointing: bool = option(False, "recompute activations to save memory (slower)")
    eval_every: int | None = option(
        None,
        "save a checkpoint every N steps and measure its implicit-reward accuracy on the "
        "eval split (score-dpo; a checkpoint series, linked to this run by step)",
        min=1,
    )
    keep_checkpoints: int | None = option(
        None, "keep only the newest K series checkpoints on disk (their runs stay)", min=0
    )
    ref: str | None = option(
        None,
        f"reference model of the sigmoid/ipo/hinge loss: {MODEL_HELP} or a LoRA adapter "
        "folder (default: the starting --model)",
    )


@dataclass
class ScoreConfig:
    """A score run: both responses of every pair of a split, with one reward model."""

    dataset: str = field(metadata={"help": "dataset name or id", "required": True})
    model: str = option(EMBEDDED_MODEL_ALIAS, MODEL_HELP)
    split: str | None = option(
        None, "split to score, or 'all' (default: 'test' when the dataset has one, else all)"
    )
    batch_size: int = settings_option("score_batch_size", "pairs per forward pass", min=1)
    max_length: int = settings_option(
        "score_max_length", "tokens per conversation; a longer one keeps its end", min=8
    )
    head_seed: int = option(0, "seed for the score head of a checkpoint that has none", min=0)
    limit: int | None = option(None, "score the first N pairs only", min=1)
    keep_states: bool = option(
        False,
        "also store each pair's state vectors from the same pass (64 float16 dims per "
        "prompt, chosen and rejected: 384 bytes a pair) for preflens map",
    )


@dataclass
class GenerateConfig:
    """A generation run: named policies answer the prompts of a split."""

    dataset: str = field(metadata={"help": "dataset name or id", "required": True})
    split: str = option("test", "split, or 'all'")
    max_new_tokens: int = option(512, "answer tokens at most", min=1)
    temperature: float = option(0.7, "0 for greedy decoding", min=0)
    top_p: float = option(0.9, "nucleus sampling share", gt=0, max=1)
    seed: int = option(0, "sampling seed", min=0)
    batch_size: int = option(8, "prompts per batch", min=1)
    limit: int | None = option(None, "answer the first N prompts only", min=1)


@dataclass
class ScoreGenerationsConfig:
    """A generation-scoring run: an RM scores every answer of a finished generation run."""

    rm: str = field(metadata={"help": f"reward model: {MODEL_HELP}", "required": True})
    run: int = field(metadata={"help": "id of the generation run", "required": True})
    batch_size: int = settings_option("score_batch_size", "answers per forward pass", min=1)
    max_length: int = settings_option(
        "score_max_length",
        "tokens per conversation (prompt + answer); a longer one keeps its end",
        min=8,
    )
    head_seed: int = option(0, "seed for the score head of a checkpoint that has none", min=0)
    tie_margin: float = option(0.0, "score differences within this margin count as ties", min=0)
    keep_states: bool = option(
        False,
        "also store each answer's state vector from the same pass (64 float16 dims: 128 "
        "bytes an answer; read with Store.run(ID).states())",
    )


@dataclass
class BonConfig:
    """A best-of-N run: one policy samples N answers per prompt; a proxy RM (and
    optionally a gold RM) scores every answer."""

    dataset: str = field(metadata={"help": "dataset name or id", "required": True})
    rm: str = field(metadata={"help": f"proxy reward model: {MODEL_HELP}", "required": True})
    gold_rm: str | None = option(None, f"gold reward model: {MODEL_HELP}")
    n: int = option(16, "answers sampled per prompt", min=1, max=1024)
    split: str = option("test", "split, or 'all'")
    limit: int | None = option(None, "the prompts of the first P pairs only", min=1)
    max_new_tokens: int = option(128, "answer tokens at most", min=1)
    temperature: float = option(1.0, "sampling temperature", gt=0)
    top_p: float = option(1.0, "nucleus sampling share", gt=0, max=1)
    seed: int = option(0, "sampling seed", min=0)
    batch_size: int = option(8, "answers sampled per forward pass", min=1)
    score_batch_size: int = settings_option("score_batch_size", "answers per scoring pass", min=1)
    max_length: int = settings_option(
        "score_max_length",
        "tokens per conversation when scoring; a longer one keeps its end",
        min=8,
    )
