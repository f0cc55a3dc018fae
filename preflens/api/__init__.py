"""PrefLens from Python: the store's datasets and runs as DataFrames and dicts, the jobs as
functions, and a reward model for ad-hoc scoring.

This module is PrefLens's public Python interface (see ``docs/python-api.md``): its names
and signatures follow semantic versioning. Everything else (``db``, ``training``,
``backend``, ``dashboard``, ``preflens.cli``) is internal and may change in any release.

Every function here is a thin door onto what the command line and the HTTP API run, so
the numbers agree: ``Run.pairs()`` holds the rows of ``preflens export``,
``Run.diagnostics()`` the dict of ``GET /v1/runs/{id}/diagnostics``, ``score(...)`` runs
the job ``preflens score`` runs, and ``load_reward_model(...).score(...)`` scores as
``preflens score`` and ``POST /v1/score`` do.

Importing this module loads neither torch nor pandas: heavy libraries load inside the
functions that need them.

Example:
    >>> import preflens
    >>> store = preflens.Store()  # the store the command line uses
    >>> run = store.runs(kind="score")[-1]
    >>> run.diagnostics()["accuracy"]  # with its Wilson 95% interval
    >>> run.pairs().query("gap <= 0")  # the pairs the reward model gets wrong
"""

from preflens.api._jobs import generate, ingest, score, train_dpo, train_rm
from preflens.api._reward import RewardScorer, load_reward_model
from preflens.api._store import Run, Store
from training.configs import DPOTrainConfig, GenerateConfig, RMTrainConfig, ScoreConfig

__all__ = [
    "DPOTrainConfig",
    "GenerateConfig",
    "RMTrainConfig",
    "RewardScorer",
    "Run",
    "ScoreConfig",
    "Store",
    "generate",
    "ingest",
    "load_reward_model",
    "score",
    "train_dpo",
    "train_rm",
]
