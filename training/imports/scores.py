"""``preflens import-scores``: a reward model's scores made elsewhere become a finished run.

Layouts (``--format``, else told from the columns):

- ``rewardbench``: RewardBench's per-example results (``id``, ``subset``,
  ``scores_chosen``, ``scores_rejected``; a JSON object of columns as RewardBench writes
  it, or one row per line; a score given as a one-element list is that number). Pairs
  are found by the dataset's source ``id`` column (kept by ``preflens ingest``).
- ``jsonl``: PrefLens's own layout: ``score_chosen`` and ``score_rejected`` with the pair
  named by ``pair_id`` (PrefLens's id), ``id`` (the dataset's source id), or ``prompt``,
  ``chosen`` and ``rejected`` (read as ``preflens ingest`` reads a TRL row).
- ``align-anything``: align-anything's ``eval_data_with_score.json`` (``prompt``,
  ``response``, ``score``): scores of the answers of a generation run
  (``--generation-run``), stored as a ``score_generations`` run.

The first two make a ``score`` run. Rows that name no pair (or no answer) of the
selection, or a pair scored already by an earlier row, are refused with their row number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db import read, runs
from db.lookup import MAX_ID, dataset_record, run_record
from db.ownership import shown_status
from db.schema import Generation, GenerationScore, Pair, PairScore
from preflens.errors import DataFormatError, RowError
from preflens.fingerprint import file_fingerprint
from training.formats import read_trl, source_id
from training.imports.common import (
    ImportReport,
    PromptIndex,
    choose_layout,
    each_row,
    import_rows,
    number,
)
from training.imports.generations import policy_name
from training.imports.store import write_import_run
from training.jobs.ingest import content_hash
from training.readers.conversations import messages_field
from training.readers.fields import describe, show, storable

log = logging.getLogger(__name__)

LAYOUTS = {
    "rewardbench": frozenset({"id", "scores_chosen", "scores_rejected"}),
    "jsonl": frozenset({"score_chosen", "score_rejected"}),
    "align-anything": frozenset({"prompt", "response", "score"}),
}


class PairIndex:
    """The pairs of a dataset split by PrefLens id, source id and content hash."""

    def __init__(self, session: Session, dataset_id: int, split: str | None):
        stmt = select(
            Pair.id,
            Pair.source_id,
            Pair.content_hash,
            Pair.category,
            Pair.split,
            func.length(Pair.chosen),  # characters, as the score job stores them
            func.length(Pair.rejected),
        ).where(Pair.dataset_id == dataset_id)
        if split is not None:
            stmt = stmt.where(Pair.split == split)
        self.pairs: dict[int, tuple] = {}
        self.by_source: dict[str, list[int]] = {}
        self.by_content: dict[str, int] = {}
        for pid, sid, digest, category, pair_split, chars_c, chars_r in session.execute(stmt):
            self.pairs[pid] = (category, pair_split, chars_c, chars_r)
            if sid is not None:
                self.by_source.setdefault(sid, []).append(pid)
            self.by_content[digest] = pid

    def by_source_id(self, row: Mapping[str, Any]) -> int:
        sid = source_id(row)
        if sid is None:
            raise RowError(f"field `id` is {describe(row.get('id'))}, expected a pair's id")
        found = self.by_source.get(sid, [])
        if not found:
            raise RowError(f"no pair of the selection has source id {sid!r}")
        if len(found) > 1:
            raise RowError(f"{len(found)} pairs of the selection have source id {sid!r}")
        return found[0]

    def find(self, row: Mapping[str, Any]) -> int:
        """The pair a ``jsonl`` row names (``pair_id``, else ``id``, else its texts)."""
        if row.get("pair_id") is not None:
            pid = row["pair_id"]
            if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= MAX_ID:
                raise RowError(f"field `pair_id` is {show(pid)}, expected a pair id (1 or more)")
            if pid not in self.pairs:
                raise RowError(f"pair {pid} is not in the selection")
            return pid
        if row.get("id") is not None:
            return self.by_source_id(row)
        if not {"prompt", "chosen", "rejected"} <= row.keys():
            raise RowError("name the pair: `pair_id`, `id`, or `prompt`, `chosen` and `rejected`")
        pid = self.by_content.get(content_hash(read_trl(row)))
        if pid is None:
            raise RowError("no pair of the selection has this prompt, chosen and rejected")
        return pid


def _score_rows(fmt: str, pairs: PairIndex, report: ImportReport, rows) -> list[dict]:  # noqa: ANN001
    seen: dict[int, int] = {}
    stored: list[dict[str, Any]] = []
    names = (
        ("scores_chosen", "scores_rejected")
        if fmt == "rewardbench"
        else ("score_chosen", "score_rejected")
    )

    def handle(item) -> None:  # noqa: ANN001 - a SourceRow
        row = item.row
        pid = pairs.by_source_id(row) if fmt == "rewardbench" else pairs.find(row)
        sc, sr = number(row, names[0]), number(row, names[1])
        if pid in seen:
            raise RowError(f"pair {pid} was scored already (row {seen[pid]})")
        seen[pid] = item.number
        category, split, chars_c, chars_r = pairs.pairs[pid]
        stored.append(
            {
                "pair_id": pid,
                "category": category,
                "split": split,
                "score_chosen": sc,
                "score_rejected": sr,
                "gap": sc - sr,
                "tokens_chosen": None,
                "tokens_rejected": None,
                "chars_chosen": chars_c,
                "chars_rejected": chars_r,
                "response_tokens_chosen": None,
                "response_tokens_rejected": None,
                "truncated_chosen": False,
                "truncated_rejected": False,
            }
        )

    each_row(rows, report, handle)
    return stored


def _answer_rows(session: Session, gen_run: int, index: PromptIndex, report, rows) -> list[dict]:  # noqa: ANN001
    """align-anything scores: each row's prompt names a pair, its response the answers of
    the generation run to that prompt with the same text (every policy that gave it)."""
    answers: dict[int, list[tuple[int, str, str]]] = {}
    for gid, pid, policy, text in session.execute(
        select(Generation.id, Generation.pair_id, Generation.policy, Generation.text).where(
            Generation.run_id == gen_run
        )
    ):
        answers.setdefault(pid, []).append((gid, policy, text.strip()))
    seen: dict[int, int] = {}
    stored: list[dict[str, Any]] = []

    def handle(item) -> None:  # noqa: ANN001 - a SourceRow
        row = item.row
        messages = messages_field(row, "prompt")
        pid = index.find(messages)
        if pid is None and isinstance(row["prompt"], str):
            pid = index.find_in_template(row["prompt"])
        if pid is None:
            raise RowError("the prompt matches no prompt the generation run answered")
        response = row.get("response")
        if not isinstance(response, str):
            raise RowError(f"field `response` is {describe(response)}, expected text")
        score = number(row, "score")
        hits = [(g, p) for g, p, text in answers.get(pid, []) if text == response.strip()]
        if not hits:
            raise RowError(f"the response is none of the run's answers to pair {pid}'s prompt")
        for gid, policy in hits:
            if gid in seen:
                raise RowError(f"the answer of {policy!r} was scored already (row {seen[gid]})")
        for gid, _ in hits:
            seen[gid] = item.number
            stored.append(
                {"generation_id": gid, "score": score, "n_tokens": None, "truncated": False}
            )

    each_row(rows, report, handle)
    return stored


def import_scores(
    make_session: sessionmaker[Session],
    path: str | Path,
    dataset: str | int,
    model_name: str,
    *,
    split: str | None = None,
    fmt: str | None = None,
    generation_run: int | None = None,
) -> ImportReport:
    """Import the scores in ``path`` as a finished ``score`` run of ``dataset``/``split``
    (or, align-anything, a ``score_generations`` run of ``generation_run``) made by the
    reward model ``model_name``. ``run_id`` is None when no row could be stored."""
    path = Path(path).expanduser()
    try:
        model_name = policy_name(model_name, "--model-name")
    except RowError as err:
        raise DataFormatError(err.reason) from None
    rows, fmt, detected = choose_layout(import_rows(path), LAYOUTS, fmt, str(path))
    report = ImportReport("scores", fmt, detected, storable(str(path)))
    fingerprint = file_fingerprint(path)
    config = {
        "imported": True,
        "model": model_name,
        "source": report.source,
        "format": fmt,
        "file_fingerprint": fingerprint,
    }
    with make_session() as session:
        ds = dataset_record(session, dataset)
        dataset_id = ds.id
        if split is not None and not read.count_pairs(session, dataset_id, split):
            raise read.empty_selection(session, ds, split)  # --split as every job checks it
        if fmt == "align-anything":
            if generation_run is None:
                raise DataFormatError(
                    "align-anything scores are scores of a generation run's answers: "
                    "pass --generation-run ID (`preflens runs` lists them)"
                )
            gen = run_record(session, generation_run)
            if gen.kind != "generate" or gen.status != "done" or gen.dataset_id != dataset_id:
                raise DataFormatError(
                    f"run {generation_run} is a {shown_status(gen)} {gen.kind} run of dataset "
                    f"{gen.dataset_id}; pass a finished generation run of dataset {ds.name!r}"
                )
            split = gen.split
            index = PromptIndex(session, dataset_id, split)
            stored = _answer_rows(session, generation_run, index, report, rows)
            config["rm"] = model_name
            config["policies"] = list((gen.config or {}).get("policies") or [])
            config["tie_margin"] = 0.0
        else:
            stored = _score_rows(fmt, PairIndex(session, dataset_id, split), report, rows)
    report.stored, report.items = report.rows - len(report.refused), len(stored)
    if not stored:
        return report
    kind = "score_generations" if fmt == "align-anything" else "score"
    if kind == "score" and split is None and len({r["split"] for r in stored}) == 1:
        # Every scored pair is of one split: the run is of that split, so it compares
        # with PrefLens's own runs of it (paired comparisons need the same split).
        split = stored[0]["split"]
    key = runs.job_key(
        imported=fingerprint,
        dataset=dataset_id,
        split=split,
        model=model_name,
        format=fmt,
        generation_run=generation_run,
    )
    table = GenerationScore.__table__ if kind == "score_generations" else PairScore.__table__
    summarize = read.generation_summary if kind == "score_generations" else read.score_summary
    write_import_run(
        make_session,
        report,
        kind,
        key,
        table,
        stored,
        summarize,
        dataset_id=dataset_id,
        split=split,
        config=config,
        parent_run_id=generation_run if kind == "score_generations" else None,
        model_fingerprint=fingerprint,
        data_fingerprint=fingerprint,
    )
    log.info("scores of %s: run %s (reused: %s)", path, report.run_id, report.reused)
    return report
