"""Response models of the over-training and over-sampling routes (``db.read.series`` and
``db.read.bon``); like the other read models they document, never reshape."""

from __future__ import annotations

from pydantic import Field

from backend.schemas.diagnostics import Interval
from backend.schemas.read import Open


class StepComparison(Open):
    learned: int = Field(description="pairs wrong at the earlier point, right at the later")
    forgotten: int = Field(description="pairs right at the earlier point, wrong at the later")
    learned_ids: list[int] = Field(description="their pair ids (capped)")
    forgotten_ids: list[int] = Field(description="their pair ids (capped)")
    difference: Interval = Field(description="later - earlier accuracy, paired bootstrap 95%")
    mcnemar_p: float | None = Field(description="exact McNemar p-value")


class SeriesPoint(Open):
    step: int = Field(description="optimizer step of the checkpoint (0: untrained head)")
    run_id: int = Field(description="the score run of this checkpoint")
    n: int = Field(description="pairs every point scored")
    accuracy: Interval = Field(description="Wilson 95%; a tie is wrong")
    auc: Interval
    gap_mean: Interval
    ece: float | None
    vs_previous: StepComparison | None = Field(description="against the previous point")


class BestStep(Open):
    step: int = Field(description="the step with the highest accuracy (earliest on a tie)")
    run_id: int
    last_step: int
    last_run_id: int
    last_vs_best: StepComparison = Field(description="the last point against the best")


class Oscillating(Open):
    count: int = Field(description="pairs whose right/wrong status changed more than once")
    pair_ids: list[int]
    changes: list[int] = Field(description="number of changes of each listed pair")
    ids_capped_at: int


class Trajectory(Open):
    pair_id: int
    gaps: list[float] = Field(description="the pair's gap at each step, in step order")


class Series(Open):
    run_id: int = Field(description="the training (or series) run")
    kind: str
    n_pairs: int
    steps: list[int]
    points: list[SeriesPoint]
    best: BestStep | None
    oscillating: Oscillating
    trajectories: list[Trajectory]
    conventions: dict[str, str]


class GoldPeak(Open):
    k: int = Field(description="the smallest k where the mean gold reward is highest")
    gold: float = Field(description="the mean gold reward there")
    kl: float = Field(description="log k - (k-1)/k nats at that k")


class BestOfN(Open):
    run_id: int = Field(description="the best-of-N run")
    prompts: int
    n: int = Field(description="answers sampled per prompt")
    ks: list[int] = Field(description="k = 1, 2, 4, ..., N")
    kl: list[float] = Field(description="analytic KL of best-of-k, log k - (k-1)/k nats")
    curves: dict[str, list[Interval]] = Field(
        description="proxy, gold (with a gold RM) and length (generated tokens) of the "
        "proxy's best-of-k pick, mean over prompts with bootstrap 95% intervals"
    )
    gold_peak: GoldPeak | None
    conventions: dict[str, str]
