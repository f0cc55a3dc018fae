"""A generation comparison whose answers mostly hit the token limit (the Policies page
must warn before its win rate), added to a seeded store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from db.schema import Generation, GenerationScore, Run
from tests.backend.seed import Seeded

MAX_NEW_TOKENS = 64
PROMPTS = 8
CUT = {"base": 6, "dpo": 7}  # answers of the PROMPTS cut at the limit, per policy


@dataclass
class MostlyCut:
    generate_run: int
    gen_score_run: int
    pair_ids: list[int]


def seed_mostly_cut(make_session: sessionmaker[Session], base: Seeded) -> MostlyCut:
    """A generate run (max_new_tokens 64) and its score_generations run over the first
    ``PROMPTS`` pairs, where ``CUT[policy]`` answers of each policy end at the limit."""
    pairs = base.pair_ids[:PROMPTS]
    with make_session() as s:
        gen = Run(
            kind="generate",
            key="k-gen-cut",
            status="done",
            dataset_id=base.dataset_id,
            config={"policies": {"base": "tiny", "dpo": "tiny"}, "max_new_tokens": MAX_NEW_TOKENS},
        )
        s.add(gen)
        s.flush()
        scored = Run(
            kind="score_generations",
            key="k-gs-cut",
            status="done",
            dataset_id=base.dataset_id,
            parent_run_id=gen.id,
            config={"policies": ["base", "dpo"], "tie_margin": 0.0, "rm": "tiny"},
        )
        s.add(scored)
        s.flush()
        for i, pair_id in enumerate(pairs):
            for policy, score in (("base", i / 8), ("dpo", i / 8 + (0.3 if i % 3 else -0.2))):
                cut = i < CUT[policy]
                g = Generation(
                    run_id=gen.id,
                    pair_id=pair_id,
                    policy=policy,
                    text=f"{policy} answer {i} " + ("and so on " * 20 if cut else "done."),
                    n_tokens=MAX_NEW_TOKENS if cut else 12,
                    finish_reason="length" if cut else "stop",
                    seconds=0.1,
                )
                s.add(g)
                s.flush()
                s.add(
                    GenerationScore(
                        run_id=scored.id,
                        generation_id=g.id,
                        score=score,
                        n_tokens=40,
                        truncated=False,
                    )
                )
        s.commit()
        return MostlyCut(gen.id, scored.id, pairs)
