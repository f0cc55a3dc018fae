"""Writers for ``preflens export``: a run's rows (dicts from ``db.read.export``) as CSV,
JSON lines, Parquet, or an LLM Comparator JSON file.

LLM Comparator (PAIR-code/llm-comparator) reads ``{"metadata", "models", "examples"}``;
each example has ``input_text``, ``tags``, ``output_text_a``, ``output_text_b``, a
side-by-side ``score`` in [-1.5, 1.5] (positive: A better), ``individual_rater_scores``
and ``custom_fields``. PrefLens has an RM score difference d = score_A - score_B
instead of a judge's verdict, and maps it with **score = 1.5 * tanh(d)**: the sign is
kept, d = 0 stays a tie, |d| = 1 gives about 1.14 and large differences approach 1.5.
The raw scores travel in ``custom_fields`` so nothing is lost. For a score run, A is the
chosen response and B the rejected one (d = gap).

The run's state travels beside every format in a JSON sidecar ``PATH.meta.json``
(``metadata_document``): the run, its kind and ``status``, whether the file is
``partial`` (a failed or still running run), the rows written and the run's total, the
columns, the format and whether CSV cells were neutralised. ``--metadata`` always writes
it; it is written without asking when the run is not done (so a partial CSV or JSONL is
never mistaken for a whole one) and whenever a sidecar is already there (so it is never
stale). LLM Comparator files also carry ``status`` and ``partial`` in their metadata.

CSV cells are neutralised against formula injection: a text cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading ``'``,
so a spreadsheet shows it as text instead of evaluating it (numbers are written as they
are). ``raw=True`` (``--csv-raw``) writes every cell unchanged, for exact round trips.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

FORMATS = ("csv", "jsonl", "parquet", "llm-comparator")
PARQUET_BATCH = 10_000


def comparator_score(diff: float) -> float:
    """An RM score difference mapped into LLM Comparator's [-1.5, 1.5]: 1.5 * tanh(diff)."""
    return 1.5 * math.tanh(diff)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would read as a formula, prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], path: Path, raw: bool = False
) -> int:
    """Rows as CSV (UTF-8, RFC 4180 quoting); text cells neutralised unless ``raw``."""
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow(row if raw else {k: neutralise(v) for k, v in row.items()})
            n += 1
    return n


def write_jsonl(rows: Iterable[dict[str, Any]], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_parquet(rows: Iterable[dict[str, Any]], columns: Sequence[str], path: Path) -> int:
    """Parquet through pyarrow, written in batches (the schema is inferred from the first
    batch; lengths are nullable integers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 0
    writer = None
    schema = None
    try:
        for batch in _batches(rows, PARQUET_BATCH):
            data = {c: [r[c] for r in batch] for c in columns}
            table = pa.table(data) if schema is None else pa.table(data, schema=schema)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(str(path), schema)
            writer.write_table(table)
            n += len(batch)
        if writer is None:  # no rows: an empty file with the column names
            pq.write_table(pa.table({c: pa.array([], pa.null()) for c in columns}), str(path))
    finally:
        if writer is not None:
            writer.close()
    return n


def comparator_document(
    rows: Iterable[dict[str, Any]], run_id: int, kind: str, state: dict[str, Any] | None = None
) -> dict:
    """The LLM Comparator JSON of a score run (A = chosen, B = rejected) or of a
    comparison of a score_generations run (A, B = the two policies); the metadata says
    the run's ``status`` and whether it is ``partial`` (``db.read.run_state``)."""
    examples = []
    models: list[str] = ["chosen", "rejected"] if kind == "score" else []
    for r in rows:
        if kind == "score":
            a_text, b_text = r["chosen"], r["rejected"]
            sa, sb, d = r["score_chosen"], r["score_rejected"], r["gap"]
            ca, cb = r["chars_chosen"], r["chars_rejected"]
        else:
            models = [r["policy_a"], r["policy_b"]]
            a_text, b_text = r["text_a"], r["text_b"]
            sa, sb, d = r["score_a"], r["score_b"], r["diff"]
            ca, cb = r["chars_a"], r["chars_b"]
        examples.append(
            {
                "input_text": r["prompt"],
                "tags": [r["category"]] if r["category"] else [],
                "output_text_a": a_text,
                "output_text_b": b_text,
                "score": comparator_score(d),
                "individual_rater_scores": [],
                "custom_fields": {
                    "pair_id": str(r["pair_id"]),
                    "split": r["split"],
                    "rm_score_diff": d,
                    "rm_scores": [sa, sb],
                    "chars": [ca, cb],
                },
            }
        )
    return {
        "metadata": {
            "source_path": f"preflens run {run_id}",
            "status": (state or {}).get("status"),
            "partial": (state or {}).get("partial"),
            "score_rule": "score = 1.5 * tanh(rm_score_a - rm_score_b)",
            "custom_fields_schema": [
                {"name": "pair_id", "type": "string"},
                {"name": "split", "type": "category"},
                {"name": "rm_score_diff", "type": "number"},
                {"name": "rm_scores", "type": "per_model_number"},
                {"name": "chars", "type": "per_model_number"},
            ],
        },
        "models": [{"name": m} for m in models],
        "examples": examples,
    }


def write_comparator(
    rows: Iterable[dict[str, Any]],
    run_id: int,
    kind: str,
    path: Path,
    state: dict[str, Any] | None = None,
) -> int:
    doc = comparator_document(rows, run_id, kind, state)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return len(doc["examples"])


METADATA_SUFFIX = ".meta.json"


def metadata_path(path: Path) -> Path:
    """The sidecar of an export file: ``PATH.meta.json`` beside it."""
    return path.with_name(path.name + METADATA_SUFFIX)


def metadata_document(
    run_id: int,
    kind: str,
    fmt: str,
    path: Path,
    columns: Sequence[str],
    state: dict[str, Any],
    csv_raw: bool = False,
) -> dict[str, Any]:
    """What a reader of an export file needs to know that the rows do not say:
    whose rows, and whether they are all of them (``db.read.run_state``'s fields)."""
    return {
        "preflens_export": 1,
        "file": path.name,
        "format": fmt,
        "run": run_id,
        "kind": kind,
        "status": state["status"],
        "partial": state["partial"],
        "rows": state["rows"],
        "rows_are": "pairs" if kind == "score" else "prompts",
        "run_total": state["total"],
        "run_progress": state["progress"],
        "error": state["error"],
        "label": state["label"],
        "columns": list(columns),
        "csv_neutralised": fmt == "csv" and not csv_raw,
    }


def write_metadata(doc: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
