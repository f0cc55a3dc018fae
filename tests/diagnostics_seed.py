"""A seeded store for the diagnostics tests: the shared seed (a score run without stored
response lengths, a generation-scoring run) plus a second score run on the same pairs
with response lengths and tokens stored and known gaps, and a third on part of them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from db.schema import Pair, PairScore, Run
from tests.backend.seed import Seeded, seed_store


@dataclass
class DiagSeeded:
    base: Seeded
    after_run: int  # every pair, lengths stored
    partial_run: int  # the first half of the pairs only


def after_gap(i: int) -> float:
    """Gaps of the second run: mostly right, some wrong, two ties."""
    return ((i * 5) % 13 - 3) / 3


def _score_run(s: Session, dataset_id: int, key: str) -> Run:
    run = Run(kind="score", key=key, status="done", dataset_id=dataset_id, config={})
    s.add(run)
    s.flush()
    return run


def seed_diagnostics(make_session: sessionmaker[Session], n: int = 40) -> DiagSeeded:
    base = seed_store(make_session, n)
    with make_session() as s:
        after = _score_run(s, base.dataset_id, "k-after")
        partial = _score_run(s, base.dataset_id, "k-partial")
        for i, pid in enumerate(base.pair_ids):
            pair = s.get(Pair, pid)
            g = after_gap(i)
            s.add(
                PairScore(
                    run_id=after.id,
                    pair_id=pid,
                    category=pair.category,
                    split=pair.split,
                    score_chosen=1.0 + g / 2,
                    score_rejected=1.0 - g / 2,
                    gap=g,
                    tokens_chosen=40,
                    tokens_rejected=30,
                    # Response-only lengths deliberately unlike the texts' lengths, so a
                    # test can tell which source was used.
                    chars_chosen=100 + (i % 7) * 10,
                    chars_rejected=130 - (i % 5) * 10,
                    response_tokens_chosen=20 + i % 7,
                    response_tokens_rejected=20 + i % 3,
                )
            )
            if i < n // 2:
                s.add(
                    PairScore(
                        run_id=partial.id,
                        pair_id=pid,
                        category=pair.category,
                        split=pair.split,
                        score_chosen=g,
                        score_rejected=0.0,
                        gap=-g if i % 4 == 0 else g,
                        tokens_chosen=40,
                        tokens_rejected=30,
                    )
                )
        s.commit()
        return DiagSeeded(base=base, after_run=after.id, partial_run=partial.id)
