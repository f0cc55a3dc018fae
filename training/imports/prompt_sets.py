"""Prompt sets: datasets of prompts without preference pairs (``Dataset.format`` is
``prompts``), made by ``preflens import-generations --add-prompts`` for answers to prompts
that no preference dataset holds.

Generations hang off pairs, so a prompt is stored as a pair whose ``chosen`` and
``rejected`` are empty; commands that need preference pairs (score, train, probe,
export-dataset) refuse a prompt set (``db.read.inputs.require_pairs``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import runs
from db.read.inputs import PROMPT_SET
from db.schema import Dataset, Pair
from db.session import writing
from training.formats import PairRecord
from training.jobs.ingest import content_hash, prompt_hash, prompt_text

DEFAULT_SPLIT = "prompts"


def add_prompts(
    make_session: sessionmaker[Session],
    name: str,
    source: str,
    prompts: dict[str, tuple[list[dict[str, str]], int]],
    split: str | None,
) -> tuple[int, dict[str, int], int]:
    """Add ``prompts`` (prompt hash -> (messages, file row)) to prompt set ``name``,
    creating it when new, in one transaction. Returns (dataset id, prompt hash -> pair id,
    prompts newly added)."""
    with writing(make_session) as session:
        ds = session.scalars(select(Dataset).where(Dataset.name == name)).first()
        if ds is None:
            ds = Dataset(name=name, source=source, format=PROMPT_SET, options={})
            session.add(ds)
            session.flush()
        before = _count(session, ds.id)
        rows: list[dict[str, Any]] = []
        hashes: dict[str, str] = {}
        for digest, (messages, row) in prompts.items():
            pair_hash = content_hash(PairRecord(messages, "", ""))
            hashes[pair_hash] = digest
            rows.append(
                {
                    "dataset_id": ds.id,
                    "split": split or DEFAULT_SPLIT,
                    "source_row": row,
                    "prompt": messages,
                    "prompt_text": prompt_text(messages),
                    "chosen": "",
                    "rejected": "",
                    "category": None,
                    "content_hash": pair_hash,
                    "prompt_hash": prompt_hash(messages),
                }
            )
        runs.insert_new(session, Pair.__table__, rows)
        found = session.execute(
            select(Pair.content_hash, Pair.id).where(
                Pair.dataset_id == ds.id, Pair.content_hash.in_(list(hashes))
            )
        ).all()
        added = _count(session, ds.id) - before
        return ds.id, {hashes[h]: pid for h, pid in found}, added


def _count(session: Session, dataset_id: int) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).where(Pair.dataset_id == dataset_id)) or 0
