"""The Training page's charts, worked out from the metric rows (pure: no Streamlit), so
what each chart draws, what it is called and what it leaves out is tested on its own.

Rules:
- one chart per quantity per kind: reward-model runs and each DPO-family loss get their
  own charts (their losses and learning rates never share an axis);
- reference lines where a value at chance is known: ln 2 for a Bradley-Terry RM loss and
  a sigmoid DPO loss at the start (policy = reference), 0.5 for an accuracy;
- every quantity is drawn for both splits it was logged on: ``train/x`` and ``eval/x``
  share a chart (train solid with circles, eval dashed with squares);
- chosen and rejected sides are drawn one chart per run, in the palette's fixed chosen
  and rejected colours; other charts give each run its colour;
- the rewards of a DPO-family run are named by the run's loss type (``config["loss"]``):
  DPO / IPO / hinge log beta x the log-ratio of policy to reference, SimPO and ORPO
  (no reference model) beta x the average log-prob per token;
- a reward-accuracy point logged where every pair's rewards tie (the first step, where
  the policy still equals the reference and every reward is 0: TRL counts a tie as
  wrong) is left out of the accuracy curves, and the chart's caption says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

REFERENCE_REWARD = "beta x log-ratio of policy to reference"
AVERAGE_REWARD = "beta x average log-prob per token; no reference model"
REWARD_FAMILIES = {
    "sigmoid": ("DPO implicit rewards", REFERENCE_REWARD),
    "ipo": ("IPO implicit rewards", REFERENCE_REWARD),
    "hinge": ("Hinge-loss implicit rewards", REFERENCE_REWARD),
    "simpo": ("SimPO rewards", AVERAGE_REWARD),
    "orpo": ("ORPO rewards", AVERAGE_REWARD),
}
UNKNOWN_FAMILY = ("Rewards (loss type not recorded)", "as logged by the trainer")
SIDES = ("chosen", "rejected")

LN2 = math.log(2)
CHANCE = ("chance: 0.5", 0.5)
# Short names of the DPO-family losses (chart titles), and the loss a run has at its
# first step when the policy equals the reference, where that is ln 2.
LOSS_NAMES = {"sigmoid": "DPO", "ipo": "IPO", "hinge": "Hinge", "simpo": "SimPO", "orpo": "ORPO"}
START_LOSS = {"sigmoid": ("ln 2: policy = reference", LN2)}

# (title, y title, quantities drawn together, reference line): one chart over the RM runs.
RM_CHARTS = [
    ("RM loss", "loss (Bradley-Terry)", ["loss"], ("chance: ln 2", LN2)),
    ("RM accuracy (chosen scored above rejected)", "accuracy", ["accuracy"], CHANCE),
    ("RM margin (chosen - rejected score)", "margin", ["margin"], None),
    ("RM learning rate", "learning rate", ["learning_rate"], None),
]
# Per DPO-family loss ({loss}: its short name, {family}: what its rewards are).
FAMILY = [
    ("{loss} loss", "loss", ["loss"], None),
    ("{family}: margin (chosen - rejected)", "reward margin", ["rewards/margins"], None),
    ("{family}: accuracy", "share with chosen reward higher", ["rewards/accuracies"], CHANCE),
]
FAMILY_LAST = [("{loss} learning rate", "learning rate", ["learning_rate"], None)]
# One chart per run (named by its id, "#7"), coloured by side.
PER_RUN = [
    ("{family} of {run}: chosen vs rejected", "reward", ["rewards/chosen", "rewards/rejected"]),
    ("Log-probs of {run}: chosen vs rejected", "log-prob", ["logps/chosen", "logps/rejected"]),
]
DRAWN = {q for group in (RM_CHARTS, FAMILY, FAMILY_LAST) for _, _, qs, _ in group for q in qs}
DRAWN |= {q for _, _, qs in PER_RUN for q in qs}


@dataclass
class Curve:
    """One chart: its title, y-axis title, rows (run, metric, step, value, split,
    quantity, series), a caption (what was left out, what the numbers are) and a
    reference line (label, y), e.g. the loss at chance."""

    title: str
    y_title: str
    rows: pd.DataFrame
    caption: str | None = None
    reference: tuple[str, float] | None = None


def split_names(df: pd.DataFrame) -> pd.DataFrame:
    """Metric rows with ``split`` (train / eval) and ``quantity`` (the name without it)."""
    parts = df["metric"].str.split("/", n=1)
    out = df.copy()
    out["split"] = [p[0] if len(p) == 2 else "train" for p in parts]
    out["quantity"] = [p[1] if len(p) == 2 else p[0] for p in parts]
    return out


def loss_type(run: dict[str, Any]) -> str | None:
    """A DPO-family run's loss type (``config["loss"]``), else None."""
    return (run.get("config") or {}).get("loss") if run.get("kind") == "train_dpo" else None


def family(run: dict[str, Any]) -> tuple[str, str]:
    """(name, what the numbers are) of a training run's rewards, from its loss type."""
    if run.get("kind") != "train_dpo":
        return ("Rewards", "as logged by the trainer")
    loss = (run.get("config") or {}).get("loss")
    return REWARD_FAMILIES.get(loss, UNKNOWN_FAMILY)


def tied_steps(rows: pd.DataFrame) -> set[tuple[str, str, int]]:
    """(run, split, step) where the logged rewards tie: margin exactly 0, or chosen and
    rejected rewards both exactly 0 (the policy equals the reference)."""
    value = {
        (r.run, r.split, r.step, r.quantity): r.value
        for r in rows[
            rows["quantity"].isin(["rewards/margins", *[f"rewards/{s}" for s in SIDES]])
        ].itertuples()
    }
    tied = set()
    for run, split, step, quantity in value:
        if quantity == "rewards/margins" and value[(run, split, step, quantity)] == 0:
            tied.add((run, split, step))
        chosen = value.get((run, split, step, "rewards/chosen"))
        rejected = value.get((run, split, step, "rewards/rejected"))
        if chosen == 0 and rejected == 0:
            tied.add((run, split, step))
    return tied


def _drop_tied(rows: pd.DataFrame, tied: set[tuple[str, str, int]]) -> tuple[pd.DataFrame, str]:
    keys = list(zip(rows["run"], rows["split"], rows["step"], strict=True))
    drop = [k in tied for k in keys]
    if not any(drop):
        return rows, ""
    left_out = sorted({k for k, d in zip(keys, drop, strict=True) if d})
    where = ", ".join(f"{run} {split} step {step}" for run, split, step in left_out)
    caption = (
        f"Left out: {where}. There every pair's rewards tie (the policy still equals the "
        "reference, every reward is 0) and the trainer counts a tie as wrong, so the "
        "logged accuracy of 0 says nothing."
    )
    return rows[[not d for d in drop]], caption


def training_curves(df: pd.DataFrame, runs: Mapping[str, dict[str, Any]]) -> list[Curve]:
    """The Training page's charts for metric rows ``df`` (``frames.metrics_frame``);
    ``runs`` maps each value of its ``run`` column to the run (``read.list_runs``).
    Reward-model runs first, then each DPO-family loss type, each with its own charts."""
    if df.empty:
        return []
    rows = split_names(df)
    tied = tied_steps(rows)
    curves: list[Curve] = []

    def shared(
        title: str,
        y_title: str,
        quantities: list[str],
        part: pd.DataFrame,
        reference: tuple[str, float] | None,
    ) -> Curve | None:
        picked = part[part["quantity"].isin(quantities)].assign(series=lambda d: d["run"])
        if picked.empty:
            return None
        caption = None
        if "rewards/accuracies" in quantities:
            picked, caption = _drop_tied(picked, tied)
            caption = caption or None
        curve = Curve(title, y_title, picked.reset_index(drop=True), caption, reference)
        curves.append(curve)
        return curve

    labels = list(dict.fromkeys(rows["run"]))
    rm = [label for label in labels if runs.get(label, {}).get("kind") == "train_rm"]
    for title, y_title, quantities, reference in RM_CHARTS:
        shared(title, y_title, quantities, rows[rows["run"].isin(rm)], reference)
    # DPO-family runs grouped by loss type: a SimPO loss never shares an axis with DPO's.
    families: dict[tuple[str | None, str, str], list[str]] = {}
    for label in labels:
        if label not in rm:
            run = runs.get(label, {})
            families.setdefault((loss_type(run), *family(run)), []).append(label)
    for (loss, name, meaning), members in families.items():
        part = rows[rows["run"].isin(members)]
        short = LOSS_NAMES.get(loss or "", "DPO-family (loss type not recorded)")
        for title, y_title, quantities, reference in FAMILY:
            if quantities == ["loss"]:
                reference = START_LOSS.get(loss or "")
            curve = shared(
                title.format(family=name, loss=short), y_title, quantities, part, reference
            )
            if curve is not None and quantities == ["rewards/margins"]:
                curve.caption = f"{name}: {meaning}."
        for label in members:
            mine = part[part["run"] == label]
            for title, y_title, quantities in PER_RUN:
                picked = mine[mine["quantity"].isin(quantities)]
                if picked.empty:
                    continue
                picked = picked.assign(series=picked["quantity"].str.rsplit("/", n=1).str[-1])
                caption = f"{name}: {meaning}." if quantities[0].startswith("rewards/") else None
                curves.append(
                    Curve(
                        title.format(family=name, run=label.split(" ", 1)[0]),
                        y_title,
                        picked.reset_index(drop=True),
                        caption,
                    )
                )
        for title, y_title, quantities, reference in FAMILY_LAST:
            shared(title.format(loss=short), y_title, quantities, part, reference)
    return curves


def other_metrics(df: pd.DataFrame) -> list[str]:
    """Metric names no chart above draws (for the "Other metrics" picker)."""
    if df.empty:
        return []
    rows = split_names(df)
    return sorted(set(rows.loc[~rows["quantity"].isin(DRAWN), "metric"]))
