"""Configs of the probe jobs (``preflens probe`` and ``preflens score-dpo``), in the style
of ``training.configs``: one dataclass per job, the single source of every default, the
command-line options generated from them. Nothing heavy is imported here."""

from __future__ import annotations

from dataclasses import dataclass, field

from preflens.config import EMBEDDED_MODEL_ALIAS
from training.configs import MODEL_HELP, option, settings_option


@dataclass
class ProbeConfig:
    """A probe run: each edit of both responses of the first N pairs, scored by an RM."""

    dataset: str = field(metadata={"help": "dataset name or id", "required": True})
    model: str = option(EMBEDDED_MODEL_ALIAS, f"reward model: {MODEL_HELP}")
    split: str = option("test", "split to probe, or 'all'")
    limit: int | None = option(50, "probe the first N pairs (by id)", min=1)
    edits: list[str] | None = option(
        None, "edit names to run (default: the whole suite, plus --edits-file)"
    )  # a list: the command adds this option itself (nargs="+")
    edits_file: str | None = option(
        None, "JSON file of extra edits in the suite's format (append/prepend/replace/regex)"
    )
    batch_size: int = option(
        4, "pairs per transaction (their texts are scored 16 at a time)", min=1
    )
    max_length: int = settings_option(
        "score_max_length", "tokens per conversation; a longer one keeps its end", min=8
    )
    head_seed: int = option(0, "seed for the score head of a checkpoint that has none", min=0)


@dataclass
class ScoreDpoConfig:
    """A score-dpo run: per-pair log-probs and implicit rewards of a policy."""

    policy: str = field(metadata={"help": f"the trained policy: {MODEL_HELP}", "required": True})
    dataset: str = field(metadata={"help": "dataset name or id", "required": True})
    reference: str = option(
        EMBEDDED_MODEL_ALIAS,
        "the reference policy, or 'none' for reference-free (SimPO/ORPO) scoring",
    )
    split: str = option("test", "split to score, or 'all'")
    beta: float = option(0.1, "implicit reward scale: beta x (log pi - log ref)", gt=0)
    limit: int | None = option(None, "score the first N pairs only", min=1)
    batch_size: int = option(4, "pairs per forward pass", min=1)
    max_length: int = option(
        1024, "tokens per conversation; a longer one keeps its start (as TRL)", min=8
    )
