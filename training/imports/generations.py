"""``preflens import-generations``: answers made elsewhere become a finished generation run.

Layouts (``--format``, else told from the columns):

- ``alpacaeval``: AlpacaEval's ``model_outputs.json``, rows of ``instruction`` (the
  prompt, one user message), ``output`` (the answer) and ``generator`` (the policy).
- ``align-anything``: align-anything's evaluation output ``{model_id}_brief_*.jsonl``,
  rows of ``prompt`` (text, often rendered through the chat template) and ``outputs``
  (a list of ``{index, text}``; the detailed files add ``finish_reason``). The policy is
  ``--policy``, else the ``model_id`` of the file name.
- ``jsonl``: PrefLens's own layout, rows of ``prompt`` (text or chat messages),
  ``policy``, ``response``, and optionally ``finish_reason`` (``stop`` or ``length``) and
  ``tokens`` (generated tokens).

Each prompt is matched to a pair of the dataset split by its messages (as ingest stores
them; whitespace around each message ignored if that finds nothing; for align-anything
also inside a templated prompt). A row whose prompt matches no pair, or whose policy has
answered that prompt already, is refused with its row number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import read, runs
from db.lookup import dataset_record
from db.read.inputs import PROMPT_SET
from db.schema import Dataset, Generation
from preflens.errors import DataFormatError, RowError
from preflens.fingerprint import file_fingerprint
from training.imports.common import (
    ImportReport,
    PromptIndex,
    choose_layout,
    each_row,
    import_rows,
)
from training.imports.prompt_sets import DEFAULT_SPLIT
from training.imports.prompt_sets import add_prompts as add_to_prompt_set
from training.imports.store import write_import_run
from training.jobs.ingest import prompt_hash
from training.readers.conversations import messages_field
from training.readers.fields import check_storable, describe, is_blank, show, storable

log = logging.getLogger(__name__)

LAYOUTS = {
    "alpacaeval": frozenset({"instruction", "output"}),
    "align-anything": frozenset({"prompt", "outputs"}),
    "jsonl": frozenset({"prompt", "response"}),
}
POLICY_MAX = 100  # db.schema Generation.policy String(100)
FINISH_REASONS = ("stop", "length")
UNKNOWN_FINISH = "unknown"  # the file does not say why the answer ended
_MODEL_ID = re.compile(r"^(.+?)_(?:brief|detailed)(?:_.*)?$")


def policy_name(value: Any, where: str) -> str:
    """A policy name that fits the store: non-blank text of at most ``POLICY_MAX``."""
    if not isinstance(value, str):
        raise RowError(f"{where} is {describe(value)}, expected a policy name")
    name = value.strip()
    if is_blank(name):
        raise RowError(f"{where} is empty")
    check_storable(name, where)
    if len(name) > POLICY_MAX:
        raise RowError(f"{where} is {len(name)} characters long, over the limit of {POLICY_MAX}")
    return name


def _answer(value: Any, key: str) -> str:
    """An answer as the file gives it (kept as is: an empty answer is an answer)."""
    if not isinstance(value, str):
        raise RowError(f"field `{key}` is {describe(value)}, expected text")
    return check_storable(value, f"field `{key}`")


def _finish(value: Any) -> str:
    if value is None:
        return UNKNOWN_FINISH
    if value not in FINISH_REASONS:
        raise RowError(f"`finish_reason` is {show(value)}, expected stop or length")
    return value


def _tokens(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RowError(f"`tokens` is {show(value)}, expected a whole number of tokens (0 or more)")
    return value


def read_row(fmt: str, row: Mapping[str, Any], policy: str | None) -> dict[str, Any]:
    """One row as {messages, text_prompt, policy, text, finish_reason, n_tokens}; a
    ``RowError`` says what is wrong with it. ``policy`` overrides the row's own."""
    if fmt == "alpacaeval":
        messages = messages_field(row, "instruction")
        text = _answer(row.get("output"), "output")
        name = policy or policy_name(row.get("generator"), "field `generator`")
        return {"messages": messages, "policy": name, "text": text, "finish": UNKNOWN_FINISH}
    if fmt == "align-anything":
        messages = messages_field(row, "prompt")
        outputs = row.get("outputs")
        if not isinstance(outputs, list) or not outputs:
            what = "an empty array" if outputs == [] else describe(outputs)
            raise RowError(f"field `outputs` is {what}, expected a list of outputs")
        if len(outputs) > 1:
            raise RowError(
                f"field `outputs` holds {len(outputs)} answers; PrefLens stores one answer per "
                "prompt and policy (import each sample under its own --policy)"
            )
        first = outputs[0]
        if not isinstance(first, Mapping):
            raise RowError(f"`outputs`[0] is {describe(first)}, expected an object")
        return {
            "messages": messages,
            "templated": isinstance(row.get("prompt"), str),
            "policy": policy,
            "text": _answer(first.get("text"), "outputs[0].text"),
            "finish": _finish(first.get("finish_reason")),
            "tokens": _tokens(
                len(first["token_ids"]) if isinstance(first.get("token_ids"), list) else None
            ),
        }
    messages = messages_field(row, "prompt")
    name = policy or policy_name(row.get("policy"), "field `policy`")
    return {
        "messages": messages,
        "policy": name,
        "text": _answer(row.get("response"), "response"),
        "finish": _finish(row.get("finish_reason")),
        "tokens": _tokens(row.get("tokens")),
    }


def _file_policy(path: Path) -> str | None:
    """align-anything names its output files ``{model_id}_brief_*``: the model id."""
    found = _MODEL_ID.match(path.stem)
    return found.group(1) if found else None


def _open_dataset(
    make_session: sessionmaker[Session], dataset: str | int, split: str | None, add_prompts: bool
) -> tuple[int | None, str, PromptIndex]:
    """(id, name, prompt index) of the dataset answers are matched to; with
    ``add_prompts`` a prompt set, which may not exist yet (id None)."""
    with make_session() as session:
        if add_prompts:
            ds = session.scalars(select(Dataset).where(Dataset.name == str(dataset))).first()
            if ds is None:
                return None, str(dataset), PromptIndex(session, -1, split)
            if ds.format != PROMPT_SET:
                raise DataFormatError(
                    f"dataset {ds.name!r} holds preference pairs, which --add-prompts never "
                    "changes; name a prompt set (a new --dataset NAME makes one)"
                )
        else:
            ds = dataset_record(session, dataset)
            if split is not None and not read.count_pairs(session, ds.id, split):
                raise read.empty_selection(session, ds, split)  # --split as every job checks it
        return ds.id, ds.name, PromptIndex(session, ds.id, split)


def import_generations(
    make_session: sessionmaker[Session],
    path: str | Path,
    dataset: str | int,
    split: str | None = None,
    *,
    policy: str | None = None,
    fmt: str | None = None,
    add_prompts: bool = False,
) -> ImportReport:
    """Import the answers in ``path`` as a finished ``generate`` run on ``dataset``/``split``
    (None: every split). Returns the report (``run_id`` None when no row could be stored).
    ``add_prompts``: ``dataset`` is a prompt set (``training.imports.prompt_sets``; made
    when new) and prompts it lacks are added to it instead of refused."""
    path = Path(path).expanduser()
    if policy is not None:
        try:
            policy = policy_name(policy, "--policy")
        except RowError as err:
            raise DataFormatError(err.reason) from None
    rows, fmt, detected = choose_layout(import_rows(path), LAYOUTS, fmt, str(path))
    if fmt == "align-anything" and policy is None:
        policy = _file_policy(path)
        if policy is None:
            raise DataFormatError(
                f"{path.name}: name the policy with --policy (align-anything files named "
                "{model_id}_brief_*.jsonl give it themselves)"
            )
    report = ImportReport("generations", fmt, detected, storable(str(path)))
    dataset_id, dataset_name, index = _open_dataset(make_session, dataset, split, add_prompts)
    where = f"dataset {dataset_name!r}" + (f" split {split!r}" if split else "")
    answered: dict[tuple[str, int | str], int] = {}
    stored: list[dict[str, Any]] = []
    new_prompts: dict[str, tuple[list[dict[str, str]], int]] = {}

    def handle(item) -> None:  # noqa: ANN001 - a SourceRow
        got = read_row(fmt, item.row, policy)
        pair_id: int | str | None = index.find(got["messages"])
        if pair_id is None and got.get("templated") and not add_prompts:
            pair_id = index.find_in_template(got["messages"][0]["content"])
        if pair_id is None and add_prompts:
            # Named by its hash until the prompt set has stored it and given it an id.
            pair_id = prompt_hash(got["messages"])
            new_prompts.setdefault(pair_id, (got["messages"], item.number))
        if pair_id is None:
            raise RowError(f"the prompt matches no prompt of {where}")
        key = (got["policy"], pair_id)
        if key in answered:
            raise RowError(
                f"policy {got['policy']!r} answered this prompt already (row {answered[key]})"
            )
        answered[key] = item.number
        report.per_policy[got["policy"]] = report.per_policy.get(got["policy"], 0) + 1
        stored.append(
            {
                "pair_id": pair_id,
                "policy": got["policy"],
                "text": got["text"],
                "n_tokens": got.get("tokens"),
                "finish_reason": got["finish"],
                "seconds": None,
            }
        )

    each_row(rows, report, handle)
    report.stored = report.items = len(stored)
    if not stored:
        return report
    if new_prompts:
        dataset_id, ids, report.added_prompts = add_to_prompt_set(
            make_session, dataset_name, report.source, new_prompts, split
        )
        for row in stored:
            if isinstance(row["pair_id"], str):
                index.split_of[ids[row["pair_id"]]] = split or DEFAULT_SPLIT
                row["pair_id"] = ids[row["pair_id"]]
    splits = {index.split_of[r["pair_id"]] for r in stored}
    if split is None and len(splits) == 1:
        split = splits.pop()  # every prompt is of one split: the run is of that split
    fingerprint = file_fingerprint(path)
    key = runs.job_key(
        imported=fingerprint, dataset=dataset_id, split=split, format=fmt, policy=policy
    )
    config = {
        "imported": True,
        "source": report.source,
        "format": fmt,
        "file_fingerprint": fingerprint,
        "policies": {name: f"imported ({fmt})" for name in report.per_policy},
    }
    write_import_run(
        make_session,
        report,
        "generate",
        key,
        Generation.__table__,
        stored,
        read.generate_run_summary,
        dataset_id=dataset_id,
        split=split,
        config=config,
        model_fingerprint=fingerprint,
        data_fingerprint=fingerprint,
    )
    log.info("answers of %s: run %s (reused: %s)", path, report.run_id, report.reused)
    return report
