"""Response models of the read and health routes. They document what ``db.read``
returns; they never reshape it: every model allows extra keys, and the routes serialize
with ``response_model_exclude_unset`` so a key the read function left out stays out
(the JSON is exactly the read function's result)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    """A response object: the stable fields are declared, anything else passes through."""

    model_config = ConfigDict(extra="allow")


# ---- health
class Health(Open):
    status: str = Field(description='always "ok"')


class RewardModelInfo(Open):
    name: str
    device: str
    head_initialized: bool | None = None
    head_seed: int | None = None
    rm_layout: dict[str, Any] | None = Field(
        default=None, description="how the weights were read (layout, normalisation, adapter)"
    )
    max_length: int | None = None
    fingerprint: str | None = Field(
        default=None, description="hash of the loaded weights, as runs store it"
    )


class PolicyInfo(Open):
    name: str
    model: str | None = None
    device: str | None = None


class Limits(Open):
    max_body_bytes: int
    max_text_chars: int
    max_prompt_chars: int
    max_batch_items: int
    max_policies: int
    max_new_tokens_limit: int
    max_page_size: int
    max_query_chars: int
    score_max_length: int


class Models(Open):
    reward_model: RewardModelInfo | None
    policies: list[PolicyInfo]
    limits: Limits


class DatabaseState(Open):
    ok: bool
    error: str | None = None


class BatcherCounts(Open):
    batches: int = Field(description="gathered batches (calls of the scorer)")
    forward_passes: int = Field(
        description="model forward passes (a gathered batch of mixed lengths may run as several)"
    )
    items_scored: int = Field(description="sequences scored")


class Readiness(Open):
    status: str = Field(description="ready or not_ready (then the status code is 503)")
    models_loaded: bool
    database: DatabaseState
    reward_model: RewardModelInfo | None
    policies: list[PolicyInfo]
    batcher: BatcherCounts | None


# ---- datasets, runs, checkpoints
class DatasetInfo(Open):
    id: int
    name: str
    format: str | None = None
    source: str | None = Field(default=None, description="the source file's name (no path)")
    created_at: str | None = None
    pairs: int
    splits: dict[str, int]
    categories: dict[str, int] = Field(description='pairs per category; "(none)": none')
    rejected: int
    reasons: dict[str, int] = Field(description="rejected rows per reason")


class RejectedExample(Open):
    row: int | None = None
    reason: str | None = None
    raw: str | None = Field(default=None, description="the first 300 characters of the row")


class DatasetDetail(DatasetInfo):
    rejected_examples: list[RejectedExample]


class RunInfo(Open):
    id: int
    kind: str
    status: str
    progress: float | None = Field(default=None, description="0-1")
    total: int | None = None
    dataset: str | None = None
    dataset_id: int | None = None
    split: str | None = None
    model: str | None = None
    parent_run_id: int | None = None
    head_initialized: bool | None = Field(
        default=None,
        description="true: the reward model had no head and scored with a seeded, untrained "
        "one; null for runs without a reward model",
    )
    rm_layout: dict[str, Any] | None = Field(
        default=None,
        description="how the reward model's weights were read: layout, head weight names, "
        "normalisation (function, mean, std, where read, applied) and LoRA adapter",
    )
    rm_label: str | None = Field(
        default=None, description="the same as one line, e.g. 'untrained head' (empty: none)"
    )
    config: dict[str, Any] = Field(description="the job's options (free-form per kind)")
    summary: dict[str, Any] | None = Field(description="what the job stored (free-form)")
    error: str | None = Field(description="a failed run's error (no server paths)")
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


class CheckpointInfo(Open):
    id: int
    name: str
    kind: str
    path: str | None = Field(default=None, description="last component only")
    base: str | None = None
    created_at: str | None = None
    runs: list[int]


# ---- summaries
class CategoryRow(Open):
    category: str | None
    pairs: int
    accuracy: float | None = None
    gap_mean: float | None = None


class PolicyStats(Open):
    n: int
    mean: float | None = None
    std: float | None = Field(default=None, description="population std")
    mean_chars: float | None = None
    mean_tokens: float | None = None
    cut_at_limit: int | None = None


class ComparisonStats(Open):
    a: str
    b: str
    n: int
    mean_diff: float | None = None
    wins: int | None = None
    ties: int | None = None
    losses: int | None = None
    win_rate: float | None = None
    tie_margin: float | None = None


class MetricStats(Open):
    n: int
    last_step: int | None = None
    last: float | None = None
    min: float | None = None
    max: float | None = None


class RunSummary(Open):
    """Fields depend on the run's kind; only those of its kind are present."""

    run_id: int
    kind: str
    status: str
    progress: float | None = None
    # score run
    pairs: int | None = None
    accuracy: float | None = None
    reward_mean: float | None = None
    reward_std: float | None = None
    chosen_mean: float | None = None
    rejected_mean: float | None = None
    gap_mean: float | None = None
    truncated_responses: int | None = None
    categories: list[CategoryRow] | None = None
    # generate and score_generations runs
    policies: dict[str, PolicyStats] | None = None
    comparisons: list[ComparisonStats] | None = None
    # training runs
    metrics: dict[str, MetricStats] | None = None
    stored: dict[str, Any] | None = None


# ---- distributions
class Series(Open):
    """Which values: a side, and for score_generations runs the policy or policies."""

    run_id: int
    side: str
    policy: str | None = None
    a: str | None = None
    b: str | None = None


class Histogram(Series):
    bins: int
    range: list[float | None]
    edges: list[float | None]
    counts: list[int]
    n: int
    below: int
    above: int


class Cdf(Series):
    n: int
    x: list[float]
    p: list[float] = Field(description="share of values <= x")


class BoxStats(Series):
    n: int
    mean: float | None = None
    std: float | None = Field(default=None, description="population std")
    min: float | None = None
    q1: float | None = None
    median: float | None = None
    q3: float | None = None
    max: float | None = None
    whisker_low: float | None = None
    whisker_high: float | None = None
    outliers_low: int | None = None
    outliers_high: int | None = None


class Percentile(Open):
    run_id: int
    score: float
    policy: str | None
    percentile: float | None = Field(description="0-100, ties counting half")


class ScatterPoint(Open):
    pair_id: int
    category: str | None = None
    score_a: float
    score_b: float
    tokens_a: int | None = None
    tokens_b: int | None = None
    chars_a: int | None = None
    chars_b: int | None = None
    finish_a: str | None = None
    finish_b: str | None = None


class Scatter(Open):
    run_id: int
    a: str
    b: str
    n: int
    points: list[ScatterPoint]


class MetricSeries(Open):
    steps: list[int]
    values: list[float | None]


class RunMetrics(Open):
    run_id: int
    kind: str
    series: dict[str, MetricSeries]


class Metrics(Open):
    runs: list[RunMetrics]


# ---- cases
class CaseItem(Open):
    """A score run's case (score_chosen, ...) or a score_generations run's (score_a, ...)."""

    pair_id: int
    category: str | None = None
    split: str | None = None
    gap: float
    prompt: str = Field(description="200-character preview")
    suspicion: float | None = Field(
        None,
        description="sort=suspicion only: mean over the dataset's signal runs of "
        "P(labelled-rejected is better), as GET /v1/datasets/{dataset}/suspects; null "
        "for a pair no signal run scored",
    )
    signals: int | None = Field(None, description="sort=suspicion only: runs that scored it")


class CasePage(Open):
    run_id: int
    kind: str
    a: str | None = None
    b: str | None = None
    sort: str
    items: list[CaseItem]
    next_cursor: str | None = Field(description="pass back as cursor; null on the last page")
    total: int | None = Field(None, description="cases matching the filters, on every page")


class ChatMessage(Open):
    role: str
    content: str


class CasePair(Open):
    id: int
    dataset: str | None = None
    split: str | None = None
    category: str | None = None
    source_row: int | None = None
    prompt: list[ChatMessage]
    prompt_text: str | None = None
    chosen: str
    rejected: str


class CaseGeneration(Open):
    policy: str
    text: str
    n_tokens: int | None = None
    finish_reason: str | None = None
    seconds: float | None = None
    score: float | None = None
    score_tokens: int | None = None
    truncated: bool | None = None


class Case(Open):
    """A score run's case has ``scores``; a score_generations run's has a, b, gap and
    ``generations``."""

    run_id: int
    kind: str
    max_length: int | None = Field(
        None, description="the run's max length: conversation tokens (as scored) per side"
    )
    pair: CasePair
    flag: dict[str, Any] | None = Field(
        None,
        description="the pair's flag (label, note, set_by, updated_at) or null: "
        "PUT /v1/pairs/{id}/flag sets it",
    )
    scores: dict[str, Any] | None = None
    a: str | None = None
    b: str | None = None
    gap: float | None = None
    generations: list[CaseGeneration] | None = None
