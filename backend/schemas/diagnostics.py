"""Response models of the diagnostics routes. Like the other read models they document
what ``db.read.diagnostics`` returns and never reshape it (extra keys pass through)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.schemas.read import Open


class Interval(Open):
    value: float | None = Field(description="the estimate (null when n = 0)")
    ci_low: float | None = Field(description="lower end of the 95% interval")
    ci_high: float | None = Field(description="upper end of the 95% interval")
    n: int | None = Field(default=None, description="items the estimate is based on")
    method: str | None = Field(default=None, description="how the interval was computed")


class GroupAccuracy(Open):
    n: int
    accuracy: Interval


class CategoryAccuracy(GroupAccuracy):
    category: str | None


class LengthBin(Open):
    lo: float = Field(description="smallest length difference (chosen - rejected) in the bin")
    hi: float = Field(description="largest length difference in the bin")
    mean_length_diff: float
    n: int
    accuracy: Interval


class LengthControl(Open):
    unit: str = Field(description="characters or tokens of the responses alone")
    n: int
    chosen_longer: Interval
    chosen_shorter: Interval
    equal: Interval
    longer_wins_baseline: Interval
    shorter_wins_baseline: Interval
    length_balanced_accuracy: Interval
    spearman_gap_length_diff: float | None
    bins: list[LengthBin]


class ReliabilityBin(Open):
    lo: float
    hi: float
    n: int
    mean_predicted: float | None
    observed: float | None


class Calibration(Open):
    n: int
    bins: list[ReliabilityBin]
    ece: float | None
    brier: float | None
    nll: float | None = Field(description="Bradley-Terry negative log-likelihood per pair")
    temperature: float | None = Field(description="null when the fit failed (temperature_fit)")
    temperature_fit: str | None = Field(
        None,
        description='"ok", or why no temperature is shown, e.g. "fit failed: ranks pairs '
        'backwards ..." (the fit ended at a bound; no after-temperature numbers)',
    )
    ece_after_temperature: float | None = Field(
        description="ECE of sigmoid(gap / T) with T cross-fitted on the other fold"
    )


class LengthControlledWinRate(Open):
    lc_win_rate: Interval
    raw_win_rate: float | None


class Headline(Open):
    """A headline number: value, 95% interval, n, method and verdict badges."""

    label: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    method: str
    verdicts: list[str] = Field(
        description="any of: below chance, not different from chance, below the length "
        "baseline, untrained head, most answers cut (computed from the intervals)"
    )
    baseline: float | None = Field(
        None, description="the better length baseline on the same pairs (score runs)"
    )
    cut: dict[str, int] | None = Field(
        None, description="answers at the token limit (`at_limit`) of all answers (`of`)"
    )


class ComparisonDiagnostics(Open):
    a: str
    b: str
    n: int
    mean_difference: Interval
    wins: int
    ties: int
    losses: int
    win_rate: Interval
    decisive_win_rate: Interval
    sign_test_p: float | None
    length_controlled: LengthControlledWinRate
    headline: Headline | None = Field(None, description="the win rate with its verdicts")


class RunState(BaseModel):
    """Whether the numbers are final: a failed or running run's are partial."""

    status: str = Field(description="pending, running, done, failed or interrupted")
    partial: bool = Field(description="true unless the run is done")
    rows: int | None = Field(None, description="pairs (or prompts) the numbers are over")
    total: int | None = Field(None, description="pairs the run will have when done")
    progress: float | None = None
    error: str | None = Field(None, description="first line of a failed run's error")
    label: str | None = Field(None, description="one line for a person; null when done")


class Diagnostics(Open):
    """A score run's diagnostics (accuracy ... calibration) or a score_generations run's
    (policies, comparisons)."""

    run_id: int
    kind: str
    status: str | None = Field(None, description="the run's status (see `state`)")
    partial: bool | None = Field(None, description="true when the run is not done")
    state: RunState | None = None
    n: int | None = None
    headlines: list[Headline] | None = Field(
        None, description="accuracy and AUC with their verdict badges (score runs)"
    )
    accuracy: Interval | None = None
    auc: Interval | None = None
    gap_mean: Interval | None = None
    by_category: list[CategoryAccuracy] | None = None
    length: LengthControl | None = None
    calibration: Calibration | None = None
    comparisons: list[ComparisonDiagnostics] | None = None
    conventions: dict[str, str]


class Flips(Open):
    wrong_to_right: int = Field(description="pairs wrong in run a and right in run b")
    right_to_wrong: int = Field(description="pairs right in run a and wrong in run b")
    wrong_to_right_ids: list[int]
    right_to_wrong_ids: list[int]


class Paired(Open):
    run_a: int
    run_b: int
    n: int = Field(description="pairs both runs scored")
    left_out: dict[str, int] = Field(description="pairs scored by only one run")
    accuracy_a: Interval
    accuracy_b: Interval
    difference: Interval = Field(description="accuracy_b - accuracy_a, paired bootstrap")
    mcnemar_p: float | None = Field(description="exact McNemar p-value")
    flips: Flips
    kendall_tau: float | None
    spearman: float | None


class Partner(Open):
    run: int = Field(description="the other half of the before/after pair")
    role: str = Field(description="this run's role: before or after training")
    partner_role: str
    train_run: int = Field(description="the train_rm run that made both")


class Comparable(Open):
    run: int
    comparable: list[int] = Field(
        description="score runs on the same pairs (same dataset and split), partner first"
    )
    partner: Partner | None = Field(description="the default partner, if the run has one")


class WrongCase(Open):
    pair_id: int
    gap: float
    p_chosen: float = Field(description="sigmoid(gap): the RM's probability for the label")
    score_chosen: float
    score_rejected: float
    category: str | None
    prompt: str
    chosen: str
    rejected: str


class ConfidentlyWrong(Open):
    run_id: int
    cases: list[WrongCase]


class NoiseCandidate(Open):
    pair_id: int
    runs_against: int = Field(description="runs whose gap for this pair is below 0")
    runs_scored: int
    mean_gap: float
    category: str | None
    prompt: str
    chosen: str
    rejected: str


class LabelNoise(Open):
    runs: list[int]
    min_agree: int
    total: int = Field(description="candidates in all (the list is capped at limit)")
    candidates: list[NoiseCandidate]
