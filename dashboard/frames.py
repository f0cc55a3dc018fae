"""``db.read`` results as pandas DataFrames for the charts and tables, and number
formatting. Pure functions (no Streamlit), so the pages stay thin and these are tested
on their own. Every number passes through unchanged: the dashboard shows what the API
returns for the same view.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from preflens.headline import interval_text
from preflens.run_label import run_label as core_run_label

NONE = "—"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")
# Line breaks (and the other characters Python splits lines at): shown as a visible "\n",
# so data text can never start a Markdown line of its own (a heading, a list, a rule).
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


# ------------------------------------------------------------------ formatting
def fmt(value: float | None, digits: int = 3) -> str:
    """A number with ``digits`` decimals; a dash for None / NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    return f"{value:.{digits}f}"


def fmt_signed(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    return f"{value:+.{digits}f}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """A share (0-1) as a percentage."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    return f"{100 * value:.{digits}f}%"


def md_escape(text: Any) -> str:
    """Data text (dataset, policy, category names) made inert for Streamlit's Markdown
    (headers, captions, metric labels): every character Markdown could read as syntax
    (links, images, emphasis, HTML) is backslash-escaped. Model text never goes through
    Markdown at all: pages show it with ``st.text``. Line breaks become a visible
    ``\\n`` (a category ``"x\\n===\\n"`` would otherwise make the line above a heading)."""
    return _LINE_BREAK.sub(r"\\\\n", _MD_SPECIAL.sub(r"\\\1", str(text)))


def run_label(run: dict[str, Any]) -> str:
    """``#3 score · rm-demo · demo/test · max 256 tok`` (``preflens.run_label``: the one
    label of every page and the command line)."""
    return core_run_label(run)


def scorer_mismatch(scorer: dict[str, Any], live_rm: dict[str, Any]) -> str | None:
    """Why live scores from the backend's RM (``live_rm``: its ``describe()``) cannot be
    compared with a run's (``scorer``: ``read.run_scorer``), or None when they can: the
    same weights (and, for an untrained head, the same head seed) at the same max length."""
    if scorer.get("model_fingerprint") != live_rm.get("fingerprint"):
        return (
            "The marked run was scored by another reward model than the backend's: the "
            "percentiles and marks compare scores of different models."
        )
    if live_rm.get("head_initialized") and scorer.get("head_seed") != live_rm.get("head_seed"):
        return (
            f"The marked run's untrained head came from seed {scorer.get('head_seed')}, the "
            f"backend's from seed {live_rm.get('head_seed')}: their scores are different noise."
        )
    run_len, live_len = scorer.get("max_length"), live_rm.get("max_length")
    if run_len != live_len:
        return (
            f"Same reward model, but the marked run was scored at a max length of {run_len} "
            f"conversation tokens and the backend scores at {live_len}: long conversations "
            f"are cut differently. Restart it with `preflens serve --max-length {run_len}`."
        )
    return None


def run_stamp(run: dict[str, Any]) -> str:
    """What changes whenever a run or its rows are written (status, progress and the
    update time that every write moves, metrics written after the run finished
    included): part of the cache key of the run's numbers, so they follow every write."""
    return f"{run['status']}:{run['progress']}:{run.get('updated_at') or run.get('finished_at')}"


# ------------------------------------------------------------------ distributions
def hist_frame(hist: dict[str, Any], series: str) -> pd.DataFrame:
    """A ``read.histogram`` result as one row per bin: series, bin_start, bin_end, count."""
    edges, counts = hist["edges"], hist["counts"]
    return pd.DataFrame(
        {
            "series": [series] * len(counts),
            "bin_start": [float(e) for e in edges[:-1]],
            "bin_end": [float(e) for e in edges[1:]],
            "count": [int(c) for c in counts],
        }
    )


def cdf_frame(cdf: dict[str, Any], series: str) -> pd.DataFrame:
    """A ``read.cdf`` result as rows: series, x, p."""
    return pd.DataFrame({"series": [series] * len(cdf["x"]), "x": cdf["x"], "p": cdf["p"]})


BOX_FIELDS = (
    "n",
    "mean",
    "std",
    "min",
    "whisker_low",
    "q1",
    "median",
    "q3",
    "whisker_high",
    "max",
    "outliers_low",
    "outliers_high",
)


def box_frame(stats: Iterable[tuple[str, dict[str, Any]]]) -> pd.DataFrame:
    """``read.box_stats`` results, one row per (label, stats); empty series are left out."""
    rows = [
        {"series": label, **{k: s.get(k) for k in BOX_FIELDS}} for label, s in stats if s.get("n")
    ]
    return pd.DataFrame(rows, columns=["series", *BOX_FIELDS])


def common_range(stats: Iterable[dict[str, Any]]) -> tuple[float, float] | None:
    """The smallest [lo, hi] holding every series (from box stats' min and max), so
    several histograms share their bins; None when there are no values."""
    spans = [(s["min"], s["max"]) for s in stats if s.get("n")]
    if not spans:
        return None
    return min(lo for lo, _ in spans), max(hi for _, hi in spans)


def category_frame(summary: dict[str, Any], run: str) -> pd.DataFrame:
    """Per category of a score run: pairs, accuracy and mean gap (``score_run_summary``)."""
    rows = [
        {
            "run": run,
            "category": c["category"] if c["category"] is not None else "(none)",
            "pairs": c["pairs"],
            "accuracy": c["accuracy"],
            "gap_mean": c["gap_mean"],
        }
        for c in summary.get("categories", [])
    ]
    if all(c.get("category") is None for c in summary.get("categories", [])):
        rows = []  # a dataset without categories draws no "(none)" bar
    return pd.DataFrame(rows, columns=["run", "category", "pairs", "accuracy", "gap_mean"])


def score_table(summaries: Sequence[tuple[str, dict[str, Any]]]) -> pd.DataFrame:
    """Headline numbers of score runs side by side: one row per run."""
    keys = ("pairs", "accuracy", "reward_mean", "reward_std", "chosen_mean", "rejected_mean")
    keys += ("gap_mean", "truncated_responses")
    return pd.DataFrame(
        [{"run": label, **{k: s.get(k) for k in keys}} for label, s in summaries],
        columns=["run", *keys],
    )


# ------------------------------------------------------------------ training
def metrics_frame(result: dict[str, Any], labels: dict[int, str]) -> pd.DataFrame:
    """A ``read.metrics`` result as long rows: run, metric, step, value (the Training
    page's charts are worked out from these in ``dashboard.curves``)."""
    rows = []
    for entry in result["runs"]:
        label = labels.get(entry["run_id"], f"#{entry['run_id']}")
        for name, series in entry["series"].items():
            for step, value in zip(series["steps"], series["values"], strict=True):
                rows.append({"run": label, "metric": name, "step": step, "value": value})
    return pd.DataFrame(rows, columns=["run", "metric", "step", "value"])


def last_values_frame(summaries: Sequence[tuple[str, dict[str, Any]]]) -> pd.DataFrame:
    """Per training run and metric: points, last step, last value, min and max
    (``read.run_summary`` of a training run)."""
    rows = [
        {"run": label, "metric": name, **m}
        for label, s in summaries
        for name, m in sorted(s.get("metrics", {}).items())
    ]
    cols = ["run", "metric", "n", "last_step", "last", "min", "max"]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------ policies
def cut_label(finish_a: str, finish_b: str) -> str:
    cut_a, cut_b = finish_a == "length", finish_b == "length"
    if cut_a and cut_b:
        return "both cut at limit"
    if cut_a:
        return "A cut at limit"
    if cut_b:
        return "B cut at limit"
    return "neither cut"


def scatter_frame(scatter: dict[str, Any]) -> pd.DataFrame:
    """``read.generation_scatter`` points, plus ``cut`` (which answers hit the limit)."""
    cols = ["pair_id", "category", "score_a", "score_b", "tokens_a", "tokens_b"]
    cols += ["chars_a", "chars_b", "finish_a", "finish_b"]
    df = pd.DataFrame(scatter["points"], columns=cols)
    df["cut"] = [cut_label(a, b) for a, b in zip(df["finish_a"], df["finish_b"], strict=True)]
    return df


def length_frame(scatter: dict[str, Any]) -> pd.DataFrame:
    """Both policies' answers as long rows: policy, chars, tokens, score, finish."""
    parts = []
    for side in ("a", "b"):
        parts.append(
            pd.DataFrame(
                {
                    "policy": [scatter[side]] * len(scatter["points"]),
                    "chars": [p[f"chars_{side}"] for p in scatter["points"]],
                    "tokens": [p[f"tokens_{side}"] for p in scatter["points"]],
                    "score": [p[f"score_{side}"] for p in scatter["points"]],
                    "finish": [
                        "cut at limit" if p[f"finish_{side}"] == "length" else "ended"
                        for p in scatter["points"]
                    ],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def thin(df: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    """Every k-th row so at most ``max_rows`` remain (a chart of a huge comparison stays
    light; its numbers come from the full data)."""
    if len(df) <= max_rows:
        return df
    step = math.ceil(len(df) / max_rows)
    return df.iloc[::step].reset_index(drop=True)


def wins_frame(comparison: dict[str, Any]) -> pd.DataFrame:
    """Wins / ties / losses of A against B as rows: outcome, count, order."""
    a, b = comparison["a"], comparison["b"]
    return pd.DataFrame(
        {
            "outcome": [f"{a} wins", "tie", f"{b} wins"],
            "count": [comparison["wins"], comparison["ties"], comparison["losses"]],
            "order": [0, 1, 2],
        }
    )


def policy_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Per policy of a score_generations run: n, mean, std, lengths, answers cut at the
    limit, length-score correlations (``read.generation_summary``)."""
    keys = ("n", "mean", "std", "mean_chars", "mean_tokens", "cut_at_limit")
    keys += ("pearson_length_score", "spearman_length_score")
    return pd.DataFrame(
        [{"policy": p, **{k: s.get(k) for k in keys}} for p, s in summary["policies"].items()],
        columns=["policy", *keys],
    )


# ------------------------------------------------------------------ overview
def datasets_frame(datasets: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "id": d["id"],
            "name": d["name"],
            "format": d["format"],
            "source": d["source"],
            "pairs": d["pairs"],
            "splits": ", ".join(f"{k}: {v}" for k, v in sorted(d["splits"].items())),
            "categories": len(d["categories"]),
            "rejected rows": d["rejected"],
        }
        for d in datasets
    ]
    cols = ["id", "name", "format", "source", "pairs", "splits", "categories", "rejected rows"]
    return pd.DataFrame(rows, columns=cols)


def reasons_frame(datasets: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {"dataset": d["name"], "reason": reason, "rows": n}
        for d in datasets
        for reason, n in sorted(d["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return pd.DataFrame(rows, columns=["dataset", "reason", "rows"])


def runs_frame(runs: list[dict[str, Any]]) -> pd.DataFrame:
    # The columns that tell runs apart and how they went; the rest (parent, start time,
    # totals) is in `preflens runs` and /v1/runs. Fewer columns: the table fits the page.
    cols = ["id", "kind", "status", "progress", "dataset", "split", "model", "finished_at"]
    cols += ["error"]
    out = pd.DataFrame([{k: r.get(k) for k in cols} for r in runs], columns=cols)
    out["finished_at"] = [str(t)[:16].replace("T", " ") if t else None for t in out["finished_at"]]
    return out.rename(columns={"finished_at": "finished"})


def checkpoints_frame(checkpoints: list[dict[str, Any]]) -> pd.DataFrame:
    cols = ["id", "name", "kind", "base", "created_at"]
    rows = [
        {**{k: c.get(k) for k in cols}, "runs": ", ".join(f"#{r}" for r in c["runs"])}
        for c in checkpoints
    ]
    return pd.DataFrame(rows, columns=[*cols, "runs"])


def _last(metrics: dict[str, Any], name: str) -> tuple[float | None, int | None]:
    """(last value, its step) of one metric; (None, None) when it was never logged."""
    m = metrics.get(name) or {}
    return m.get("last"), m.get("last_step")


# The accuracy a training run is judged by: measured on its eval split, never a training
# window (a DPO run's train/rewards/accuracies is a mean over the last logged batches).
EVAL_ACCURACY = {"train_rm": "eval/accuracy", "train_dpo": "eval/rewards/accuracies"}


def training_headline(run: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    """A training run's headline: the last logged training loss, and the last accuracy on
    the eval split with where it comes from (or none, said so)."""
    loss, loss_step = _last(metrics, "train/loss")
    name = EVAL_ACCURACY.get(run["kind"], "eval/accuracy")
    accuracy, step = _last(metrics, name)
    split = (run.get("config") or {}).get("eval_split") or "eval"
    source = f"{name}, {split} split, step {step}" if accuracy is not None else "no eval logged"
    return {
        "last train loss": loss,
        "eval accuracy": accuracy,
        "accuracy from": source,
        "loss step": loss_step,
    }


def headline_row(
    run: dict[str, Any], summary: dict[str, Any], headline: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One row of the Overview's headline table from ``read.run_summary``; ``headline``
    (``db.read.headlines``: a score run's accuracy, a comparison's win rate) adds its 95%
    interval and verdicts."""
    row: dict[str, Any] = {"run": run_label(run), "status": run["status"]}
    if headline is not None:
        row["95% interval"] = interval_text(headline) or None
        row["verdicts"] = ", ".join(headline["verdicts"]) or None
    if run["kind"] == "score":
        row |= {
            "n": summary.get("pairs"),
            "accuracy": summary.get("accuracy"),
            "reward mean": summary.get("reward_mean"),
            "reward std": summary.get("reward_std"),
            "gap mean": summary.get("gap_mean"),
        }
    elif run["kind"] == "score_generations":
        comparisons = summary.get("comparisons") or []
        if comparisons:
            c = comparisons[0]
            row |= {
                "n": c["n"],
                "comparison": f"{c['a']} vs {c['b']}",
                "win rate": c["win_rate"],
                "mean diff": c["mean_diff"],
            }
    elif run["kind"] == "generate":
        policies = summary.get("policies") or {}
        row["n"] = sum(p["n"] for p in policies.values())
    else:
        row |= training_headline(run, summary.get("metrics") or {})
    return row


HEADLINE_COLUMNS = ["run", "status", "n", "accuracy", "comparison", "win rate", "95% interval"]
HEADLINE_COLUMNS += ["verdicts", "reward mean", "reward std", "gap mean", "mean diff"]
HEADLINE_COLUMNS += ["last train loss", "loss step"]
HEADLINE_COLUMNS += ["eval accuracy", "accuracy from"]


def headline_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=HEADLINE_COLUMNS)
