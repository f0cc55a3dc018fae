"""Seed a store with known rows through the ORM: a dataset, a score run with known gaps,
a training run's metrics, a generation run and its scores."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from db import read
from db.schema import Checkpoint, Dataset, Generation, GenerationScore, Metric, Pair, PairScore, Run

CATEGORIES = ("safety", "helpfulness", "factuality")
WORDS = ("apple", "banana", "cherry", "dragonfruit", "elderberry")


@dataclass
class Seeded:
    dataset_id: int
    pair_ids: list[int]
    score_run: int
    train_run: int
    generate_run: int
    gen_score_run: int
    rm_checkpoint: int
    gaps: dict[int, float] = field(default_factory=dict)  # pair id -> chosen - rejected
    gen_gaps: dict[int, float] = field(default_factory=dict)  # pair id -> dpo - base
    categories: dict[int, str | None] = field(default_factory=dict)
    splits: dict[int, str] = field(default_factory=dict)
    words: dict[int, str] = field(default_factory=dict)


def gap_of(i: int) -> float:
    """Gaps with repeats (so ties of the sort key are exercised) and both signs."""
    return ((i * 7) % 17 - 8) / 4


def add_pair(session: Session, dataset_id: int, i: int) -> Pair:
    word = WORDS[i % len(WORDS)]
    prompt = f"Question {i} about the {word} harvest?"
    pair = Pair(
        dataset_id=dataset_id,
        split="test" if i % 3 == 0 else "train",
        source_row=i + 1,
        prompt=[{"role": "user", "content": prompt}],
        prompt_text=f"user: {prompt}",
        chosen=f"A careful answer number {i}." + " More detail." * (i % 4),
        rejected=f"A careless reply {i}.",
        category=CATEGORIES[i % 3] if i % 5 else None,
        content_hash=hashlib.sha256(f"{i}".encode()).hexdigest(),
    )
    session.add(pair)
    session.flush()
    return pair


def add_pair_score(session: Session, run_id: int, pair: Pair, gap: float) -> None:
    chosen = 0.5 + gap / 2
    session.add(
        PairScore(
            run_id=run_id,
            pair_id=pair.id,
            category=pair.category,
            score_chosen=chosen,
            score_rejected=chosen - gap,
            gap=gap,
            tokens_chosen=20 + pair.id % 7,
            tokens_rejected=15,
            truncated_chosen=pair.id % 11 == 0,
            truncated_rejected=False,
        )
    )


def seed_store(make_session: sessionmaker[Session], n: int = 40) -> Seeded:
    with make_session() as s:
        ds = Dataset(name="toy", source="toy.jsonl", format="trl", options={})
        s.add(ds)
        s.flush()
        pairs = [add_pair(s, ds.id, i) for i in range(n)]
        score = Run(
            kind="score",
            key="k-score",
            status="running",
            dataset_id=ds.id,
            split=None,
            total=n,
            config={"model": "tiny", "model_path": "/srv/x"},
        )
        s.add(score)
        s.flush()
        gaps = {}
        for i, p in enumerate(pairs):
            gaps[p.id] = gap_of(i)
            add_pair_score(s, score.id, p, gaps[p.id])
        s.flush()
        score.summary = read.score_summary(s, score.id)
        score.status, score.progress = "done", 1.0

        ckpt = Checkpoint(
            name="rm-toy", path="/srv/ckpts/rm-toy", base="/srv/models/tiny", kind="rm"
        )
        s.add(ckpt)
        s.flush()
        train = Run(
            kind="train_rm",
            key="k-train",
            status="done",
            dataset_id=ds.id,
            config={},
            checkpoint_id=ckpt.id,
        )
        s.add(train)
        s.flush()
        for step in range(1, 6):
            s.add(Metric(run_id=train.id, step=step, name="train/loss", value=1.0 / step))
            s.add(Metric(run_id=train.id, step=step, name="train/accuracy", value=0.5 + step / 20))
        s.add(Metric(run_id=train.id, step=5, name="eval/accuracy", value=0.7))

        gen = Run(
            kind="generate",
            key="k-gen",
            status="done",
            dataset_id=ds.id,
            split="test",
            config={"policies": {"base": "tiny", "dpo": "tiny"}},
        )
        s.add(gen)
        s.flush()
        gscore = Run(
            kind="score_generations",
            key="k-gs",
            status="done",
            dataset_id=ds.id,
            split="test",
            parent_run_id=gen.id,
            config={"policies": ["base", "dpo"], "tie_margin": 0.0, "rm": "tiny"},
        )
        s.add(gscore)
        s.flush()
        gen_gaps = {}
        for i, p in enumerate(pairs[:20]):
            base_score = (i % 5) / 2
            dpo_score = base_score + gap_of(i + 3) / 2
            gen_gaps[p.id] = dpo_score - base_score
            for policy, sc, text in (
                ("base", base_score, f"Base says {i}" + "." * i),
                ("dpo", dpo_score, f"DPO says {WORDS[i % 5]} {i}"),
            ):
                g = Generation(
                    run_id=gen.id,
                    pair_id=p.id,
                    policy=policy,
                    text=text,
                    n_tokens=5 + i,
                    finish_reason="length" if i % 4 == 0 else "stop",
                    seconds=0.1,
                )
                s.add(g)
                s.flush()
                s.add(
                    GenerationScore(
                        run_id=gscore.id,
                        generation_id=g.id,
                        score=sc,
                        n_tokens=30 + i,
                        truncated=False,
                    )
                )
        s.commit()
        return Seeded(
            dataset_id=ds.id,
            pair_ids=[p.id for p in pairs],
            score_run=score.id,
            train_run=train.id,
            generate_run=gen.id,
            gen_score_run=gscore.id,
            rm_checkpoint=ckpt.id,
            gaps=gaps,
            gen_gaps=gen_gaps,
            categories={p.id: p.category for p in pairs},
            splits={p.id: p.split for p in pairs},
            words={p.id: WORDS[i % 5] for i, p in enumerate(pairs)},
        )


def add_score_run(
    make_session: sessionmaker[Session], dataset_id: int, pair_ids: list[int], gaps, key: str
) -> int:
    """A finished score run with one row per pair (``add_pair_score``); its id."""
    with make_session() as s:
        run = Run(kind="score", key=key, status="done", dataset_id=dataset_id)
        s.add(run)
        s.flush()
        for pid, gap in zip(pair_ids, gaps, strict=True):
            add_pair_score(s, run.id, s.get(Pair, pid), gap)
        s.commit()
        return run.id


def add_better_run(make_session: sessionmaker[Session], seeded: Seeded) -> int:
    """A second finished score run on the seeded pairs that ranks them better than chance
    (the seeded run ranks them backwards, so it is no suspicion signal); its id."""
    gaps = [1.0 + gap_of(i) / 4 for i in range(len(seeded.pair_ids))]
    return add_score_run(make_session, seeded.dataset_id, seeded.pair_ids, gaps, "k-better")
