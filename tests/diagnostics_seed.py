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


@dataclass
class CompareSeeded:
    diag: DiagSeeded
    other_dataset_run: int  # a score run on another dataset ("elsewhere")
    backwards_run: int  # a score run on the toy pairs that ranks most of them backwards


def backwards_gap(i: int) -> float:
    """Gaps of the backwards run: 3 of every 4 pairs wrong (negative), one right."""
    return 0.5 + i / 40 if i % 4 == 0 else -1.0 - i / 40


def seed_comparisons(make_session: sessionmaker[Session], n: int = 40) -> CompareSeeded:
    """The diagnostics seed, plus: the shared train_rm run made the base score run (before)
    and ``after_run`` (after, its child); a score run on another dataset; a score run by
    an untrained head (checkpoint kind ``base``) that ranks the toy pairs backwards; and
    the generation run's answers mostly cut at the token limit (3 of every 4)."""
    from db.schema import Checkpoint, Dataset, Generation

    diag = seed_diagnostics(make_session, n)
    with make_session() as s:
        train = s.get(Run, diag.base.train_run)
        train.summary = {
            "scores": {"before": {"run": diag.base.score_run}, "after": {"run": diag.after_run}}
        }
        s.get(Run, diag.after_run).parent_run_id = train.id
        backwards = _score_run(s, diag.base.dataset_id, "k-backwards")
        head = Checkpoint(name="tiny-untrained", path="/srv/tiny", kind="base")
        s.add(head)
        s.flush()
        backwards.checkpoint_id = head.id
        for g in s.query(Generation).filter(Generation.run_id == diag.base.generate_run):
            g.finish_reason = "length" if g.pair_id % 4 != 3 else "stop"
        for i, pid in enumerate(diag.base.pair_ids):
            pair = s.get(Pair, pid)
            g = backwards_gap(i)
            s.add(
                PairScore(
                    run_id=backwards.id,
                    pair_id=pid,
                    category=pair.category,
                    split=pair.split,
                    score_chosen=g,
                    score_rejected=0.0,
                    gap=g,
                    tokens_chosen=40,
                    tokens_rejected=30,
                )
            )
        ds = Dataset(name="elsewhere", source="elsewhere.jsonl", format="trl", options={})
        s.add(ds)
        s.flush()
        other = _score_run(s, ds.id, "k-elsewhere")
        pair = Pair(
            dataset_id=ds.id,
            split="train",
            source_row=0,
            prompt=[{"role": "user", "content": "hi"}],
            prompt_text="hi",
            chosen="hello",
            rejected="go away",
            content_hash="e" * 64,
        )
        s.add(pair)
        s.flush()
        s.add(
            PairScore(
                run_id=other.id,
                pair_id=pair.id,
                score_chosen=1.0,
                score_rejected=0.0,
                gap=1.0,
                tokens_chosen=5,
                tokens_rejected=5,
            )
        )
        s.commit()
        return CompareSeeded(diag=diag, other_dataset_run=other.id, backwards_run=backwards.id)
