"""Request and response models of the fix-the-data routes: flags on pairs, likely
mislabelled pairs (suspects) and a run's slices with corrected p-values. They document
what ``db.flags``, ``db.read.suspects`` and ``db.read.slices`` return (extra keys pass
through)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.schemas.diagnostics import Interval
from backend.schemas.read import Open

FlagLabel = Literal["mislabelled", "ambiguous", "bad-prompt", "ok"]


class FlagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: FlagLabel = Field(description="the verdict on the pair")
    note: str = Field(default="", max_length=2000, description="free text kept with the flag")


class Flag(Open):
    pair_id: int
    label: FlagLabel
    note: str
    set_by: str = Field(description="the API key's name (PREFLENS_API_KEY_NAME), or 'cli'")
    updated_at: str | None = Field(description="when it was set (ISO 8601, UTC)")


class FlagList(Open):
    flags: list[Flag]


class SignalRun(Open):
    run: int
    kind: str = Field(description="score or score_dpo")
    model: str | None = Field(description="the run's reward model or policy (name)")
    pairs: int = Field(description="pairs the run scored")
    temperature: float | None = Field(default=None, description="score run: fitted T")
    beta: float | None = Field(default=None, description="score_dpo run: its beta")


class SkippedRun(Open):
    run: int
    kind: str
    model: str | None = Field(description="the run's reward model (name)")
    pairs: int = Field(description="pairs the run scored")
    reason: str = Field(description="why it is not a signal (its temperature fit failed)")


class Suspect(Open):
    rank: int
    pair_id: int
    suspicion: float = Field(description="mean over signals of P(labelled-rejected is better)")
    signals: int = Field(description="runs that scored the pair")
    runs_against: int = Field(description="signals whose gap is below 0 (a tie is no vote)")
    category: str | None
    split: str
    prompt: str
    chosen: str
    rejected: str
    flag: str | None = Field(description="the pair's flag, if one is set")


class Suspects(Open):
    dataset: str
    split: str | None
    runs: list[SignalRun]
    skipped: list[SkippedRun] = Field(
        description="score runs left out: their temperature fit ended at its upper bound"
    )
    total: int = Field(description="pairs with at least min_signals signals")
    min_signals: int
    statistic: str = Field(description="what the suspicion is and how ties are ranked")
    suspects: list[Suspect]


class Slice(Open):
    by: str = Field(description="category, split, length_difference or cluster")
    slice: str
    n: int
    accuracy: Interval | None = Field(default=None, description="one run: Wilson 95%")
    accuracy_a: Interval | None = Field(default=None, description="paired: run a, Wilson 95%")
    accuracy_b: Interval | None = Field(default=None, description="paired: run b, Wilson 95%")
    difference: float | None
    p: float | None = Field(description="raw p-value (see conventions)")
    p_holm: float | None
    p_bh: float | None
    survives_holm: bool
    survives_bh: bool


class Slices(Open):
    groupings: list[str]
    n: int
    alpha: float
    tests: int = Field(description="slices tested (the size of the corrected family)")
    slices: list[Slice]
    conventions: dict[str, str]
