"""Model probes over HTTP: counterfactual edits of one pair scored live (``POST
/v1/probe``), and the JSON twins of the Probes page: a probe run's per-edit summary and
one pair's edited texts, a score_dpo run's summary and per-pair points, and the
agreement of a DPO run with an RM score run. Read routes are plain ``def`` over one
``db.read.probes`` call (the dashboard calls the same functions)."""

from __future__ import annotations

import time
from functools import partial
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from backend.deps import RewardDep, SessionDep, SettingsDep
from backend.errors import LimitError
from backend.examples import example
from backend.routes.compute import check_prompt, check_texts
from backend.schemas import Prompt, prompt_messages
from db.lookup import MAX_ID
from db.read import probes as reads
from training.probes import (
    FLAGS,
    MAX_FIELD_CHARS,
    MAX_PATTERN_CHARS,
    OPS,
    ORIGINAL,
    Edit,
    apply_all,
    parse_edits,
    select_edits,
)

router = APIRouter(prefix="/v1", tags=["probes"])
RunId = Annotated[int, Path(ge=0, le=MAX_ID, description="a run id (`GET /v1/runs` lists them)")]
MAX_CUSTOM_EDITS = 20
# All edits of one request (both sides) share this much time: a regex that backtracks
# is stopped (training.probes runs patterns with a timeout) and the request gets a 422.
EDIT_BUDGET_S = 1.0
# Edits run in worker threads, never on the event loop; at most this many requests
# apply edits at once, so hostile patterns cannot take every CPU from /healthz.
EDIT_THREADS = 2
_edit_limiter: anyio.CapacityLimiter | None = None


def edit_limiter() -> anyio.CapacityLimiter:
    """The process's limiter of concurrent edit work (made on first use, in the loop)."""
    global _edit_limiter
    if _edit_limiter is None:
        _edit_limiter = anyio.CapacityLimiter(EDIT_THREADS)
    return _edit_limiter


def edited_texts(suite: list[Edit], chosen: str, rejected: str, max_chars: int) -> dict:
    """Both sides' edited texts under one time budget, each at most ``max_chars``."""
    deadline = time.monotonic() + EDIT_BUDGET_S
    return {
        side: apply_all(suite, text, max_chars=max_chars, deadline=deadline)
        for side, text in (("chosen", chosen), ("rejected", rejected))
    }


# ------------------------------------------------------------------ response models
class Interval(BaseModel):
    """A value with its 95% interval (``method`` says which)."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    method: str


class Rate(Interval):
    k: int = Field(description="how many of n")


class ProbeEditSummary(BaseModel):
    edit: str
    description: str
    pairs: int
    mean_change: Interval = Field(description="edited - original, both sides averaged per pair")
    mean_change_chosen: Interval
    mean_change_rejected: Interval
    flip_rate_chosen: Rate = Field(description="editing chosen makes it lose (sign change)")
    flip_rate_rejected: Rate = Field(description="editing rejected makes it win")
    flip_rate: float | None = Field(description="the larger of the two flip rates")


class ProbeSummary(BaseModel):
    run_id: int
    pairs: int
    original_accuracy: Rate
    original_ties: int
    order: str
    edits: list[ProbeEditSummary]
    skipped: dict[str, list[int]] = Field(
        default_factory=dict,
        description="pairs left out of the run, by reason (e.g. 'edit timed out'): pair ids",
    )


class ProbePairEdit(BaseModel):
    model_config = ConfigDict(extra="allow")

    edit: str
    chosen_text: str | None
    rejected_text: str | None
    chosen_score: float | None
    rejected_score: float | None
    chosen_change: float | None
    rejected_change: float | None
    flips_chosen: bool | None = None
    flips_rejected: bool | None = None


class ProbePair(BaseModel):
    run_id: int | None = None
    pair_id: int | None = None
    model: str | None = None
    prompt: Any = None
    edits: list[ProbePairEdit]


class DpoSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    run_id: int
    pairs: int
    beta: float | None
    reference_free: bool
    reward: str = Field(description="how the implicit reward is computed (says if no reference)")
    accuracy: Rate | None = None
    length_normalised_accuracy: Rate | None = None
    chosen_fell: Rate | None = None
    rejected_fell: Rate | None = None
    both_fell: Rate | None = None
    margin: Interval | None = None


class DpoPoint(BaseModel):
    pair_id: int
    category: str | None
    logp_policy_chosen: float
    logp_policy_rejected: float
    logp_ref_chosen: float | None
    logp_ref_rejected: float | None
    tokens_chosen: int
    tokens_rejected: int
    reward_chosen: float
    reward_rejected: float
    gap: float
    delta_chosen: float | None = Field(description="log pi - log ref of chosen (null: no ref)")
    delta_rejected: float | None


class DpoView(BaseModel):
    summary: DpoSummary
    points: list[DpoPoint]
    points_total: int


class GapPoint(BaseModel):
    pair_id: int
    category: str | None
    rm_gap: float
    dpo_gap: float


class Agreement(BaseModel):
    dpo_run: int
    rm_run: int
    pairs: int
    quadrants: dict[str, int]
    agreement: Rate = Field(description="both prefer chosen, or neither does")
    pearson: float | None
    spearman: float | None
    points: list[GapPoint]
    disagreeing: list[GapPoint]
    disagreeing_total: int


EditText = Annotated[str, Field(max_length=MAX_FIELD_CHARS)]


class CustomEdit(BaseModel):
    """One edit in the suite's format (``training.probes``); which fields an op needs is
    checked when the edit is parsed (a 422 names the edit and the field)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100, description="lowercase letters, digits, '_' or '-'")
    op: Literal[OPS] = Field(description="what the edit does")  # type: ignore[valid-type]
    description: EditText | None = None
    text: EditText | None = Field(None, description="append / prepend: the text added")
    old: EditText | None = Field(None, description="replace: the text replaced (not empty)")
    new: EditText | None = Field(None, description="replace: its replacement")
    pattern: str | None = Field(
        None, max_length=MAX_PATTERN_CHARS, description="regex: a Python regular expression"
    )
    replacement: EditText | None = Field(
        None, description=r"regex: an `re` template (\1, \g<name>; \u, \x, \q refused)"
    )
    count: int | None = Field(None, ge=0, le=1_000_000, description="regex: 0 = every match")
    flags: str | None = Field(
        None, max_length=len(FLAGS), description=f"regex: letters of {''.join(FLAGS)}"
    )
    builtin: str | None = Field(None, max_length=100, description="builtin: its name")


class ProbeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "How do I boil an egg?",
                    "chosen": "Boil it for nine minutes. Then cool it in cold water.",
                    "rejected": "Eggs are nice.",
                    "edits": ["polite_closing", "first_half"],
                }
            ]
        },
    )

    prompt: Prompt
    chosen: str
    rejected: str
    edits: list[str] | None = Field(
        default=None, description="names from the shipped suite (default: all of it)"
    )
    custom_edits: list[CustomEdit] | None = Field(
        default=None,
        max_length=MAX_CUSTOM_EDITS,
        description='extra edits in the suite format, e.g. {"name": "x", "op": "append", '
        '"text": "..."}; every edited text is at most max_text_chars and all regex edits '
        f"of a request share {EDIT_BUDGET_S:g} s",
    )


# ------------------------------------------------------------------ routes
@router.post(
    "/probe",
    summary="Score counterfactual edits of one pair",
    response_model=ProbePair,
    responses=example("probe"),
)
async def probe(body: ProbeRequest, rm: RewardDep, settings: SettingsDep) -> ProbePair:
    """Each edit applied to the chosen and to the rejected response, every text scored
    by the loaded reward model (the originals as edit `original`), with the change from
    the original score and whether the preference order flips (a sign change of chosen
    - rejected; a tie never flips)."""
    check_prompt(settings, "prompt", body.prompt)
    check_texts(settings, [("chosen", body.chosen), ("rejected", body.rejected)])
    suite = select_edits(body.edits) if body.edits or not body.custom_edits else []
    if body.custom_edits:
        raw = [c.model_dump(exclude_none=True) for c in body.custom_edits]
        custom = parse_edits(raw, "custom_edits")
        suite = [e for e in suite if e.name not in {c.name for c in custom}] + custom
    texts = await anyio.to_thread.run_sync(
        partial(edited_texts, suite, body.chosen, body.rejected, settings.max_text_chars),
        limiter=edit_limiter(),
    )
    edited = [(side, name, t) for side, d in texts.items() for name, t in d.items()]
    check_texts(settings, [(f"{name} of {side}", t) for side, name, t in edited])
    if len(edited) > settings.max_batch_items:
        raise LimitError(
            f"{len(edited)} texts to score; the limit is max_batch_items="
            f"{settings.max_batch_items} (PREFLENS_MAX_BATCH_ITEMS)"
        )
    messages = prompt_messages(body.prompt)
    scored = await rm.score([(messages, t) for _, _, t in edited])
    score = {(side, name): s.score for (side, name, _), s in zip(edited, scored, strict=True)}
    c0, r0 = score[("chosen", ORIGINAL)], score[("rejected", ORIGINAL)]
    items = []
    for name in texts["chosen"]:
        c, r = score[("chosen", name)], score[("rejected", name)]
        items.append(
            ProbePairEdit(
                edit=name,
                chosen_text=texts["chosen"][name],
                rejected_text=texts["rejected"][name],
                chosen_score=c,
                rejected_score=r,
                chosen_change=c - c0,
                rejected_change=r - r0,
                flips_chosen=reads.flipped(c0 - r0, c - r0),
                flips_rejected=reads.flipped(c0 - r0, c0 - r),
            )
        )
    return ProbePair(model=rm.name, prompt=messages, edits=items)


@router.get(
    "/runs/{run_id}/probes",
    summary="A probe run per edit",
    response_model=ProbeSummary,
    responses=example("probes"),
)
def probe_run(
    session: SessionDep,
    run_id: RunId,
    order: Annotated[
        Literal["mean_change", "flip_rate"],
        Query(description="rank by |mean change| or by the larger flip rate"),
    ] = "mean_change",
) -> dict[str, Any]:
    """Per edit: mean score change (edited - original; 95% bootstrap interval over
    pairs) and flip rates when the chosen / the rejected side is edited (95% Wilson);
    ``skipped``: the pairs the job left out (an edit timed out on one of their texts)."""
    from db.lookup import run_record

    skipped = (run_record(session, run_id).summary or {}).get("skipped") or {}
    return {**reads.probe_summary(session, run_id, order), "skipped": skipped}


@router.get(
    "/runs/{run_id}/probes/{pair_id}",
    summary="One pair's edited texts side by side",
    response_model=ProbePair,
    responses=example("probe_pair"),
)
def probe_run_pair(
    session: SessionDep,
    run_id: RunId,
    pair_id: Annotated[int, Path(ge=0, le=MAX_ID)],
) -> dict[str, Any]:
    return reads.probe_pair(session, run_id, pair_id)


@router.get(
    "/runs/{run_id}/dpo",
    summary="A score_dpo run per pair",
    response_model=DpoView,
    responses=example("dpo"),
)
def dpo_run(
    session: SessionDep,
    run_id: RunId,
    limit: Annotated[int, Query(ge=0, le=100_000, description="points returned")] = 5000,
) -> dict[str, Any]:
    """Implicit-reward accuracy (95% Wilson), the length-normalised accuracy, the shares
    of pairs whose chosen / rejected / both log-probs fell below the reference, and the
    per-pair points (log-probs, rewards, change in log-prob of each side)."""
    summary = reads.dpo_summary(session, run_id)
    points = reads.dpo_points(session, run_id)
    return {"summary": summary, "points": points[:limit], "points_total": len(points)}


@router.get(
    "/runs/{run_id}/dpo/agreement",
    summary="RM gap vs DPO implicit-reward gap",
    response_model=Agreement,
    responses=example("agreement"),
)
def dpo_agreement(
    session: SessionDep,
    run_id: RunId,
    rm_run: Annotated[int, Query(ge=0, le=MAX_ID, description="a score run on the same pairs")],
    limit: Annotated[int, Query(ge=0, le=1000, description="disagreeing pairs listed")] = 50,
) -> dict[str, Any]:
    """The four sign quadrants counted (a gap of 0 prefers neither side), Pearson and
    Spearman correlation of the gaps, and the pairs where the two disagree, largest
    |RM gap| first. An RM run on other pairs (another dataset or split) is refused with
    409, naming both datasets."""
    return reads.agreement(session, run_id, rm_run, limit)
