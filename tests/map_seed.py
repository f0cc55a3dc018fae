"""A score run over two topics with kept states: the RM is right on cooking prompts and
wrong on tax prompts (10% of each flipped), states drawn around one centre per topic."""

from __future__ import annotations

import numpy as np

from db.schema import Dataset, Pair, PairScore, PairState, Run
from preflens import states

COOKING = "How long should I bake bread dough in the oven with yeast and flour?"
TAXES = "How do I file my income tax return and claim a deduction this year?"


def two_topic_store(make_session, n_per_topic: int = 60) -> tuple[int, dict[int, str]]:
    """A done score run: cooking prompts scored right (gap > 0), tax prompts wrong, with
    kept states drawn around two different centres."""
    rng = np.random.default_rng(7)
    centre = {"cooking": rng.normal(0, 1, 64), "taxes": rng.normal(0, 1, 64)}
    topic_of: dict[int, str] = {}
    with make_session() as s:
        ds = Dataset(name="topics", source="x", format="trl")
        s.add(ds)
        s.flush()
        run = Run(kind="score", key="k", status="done", dataset_id=ds.id, config={})
        s.add(run)
        s.flush()
        for i in range(2 * n_per_topic):
            topic = "cooking" if i % 2 == 0 else "taxes"
            text = (COOKING if topic == "cooking" else TAXES) + f" (case {i})"
            pair = Pair(
                dataset_id=ds.id,
                split="test",
                source_row=i,
                prompt=[{"role": "user", "content": text}],
                prompt_text=text,
                chosen="a" * (10 + i % 7),
                rejected="b" * 12,
                content_hash=f"h{i}",
            )
            s.add(pair)
            s.flush()
            topic_of[pair.id] = topic
            gap = 1.0 + rng.random() if topic == "cooking" else -1.0 - rng.random()
            if rng.random() < 0.1:  # some noise in each topic's correctness
                gap = -gap
            s.add(
                PairScore(
                    run_id=run.id,
                    pair_id=pair.id,
                    split="test",
                    score_chosen=gap,
                    score_rejected=0.0,
                    gap=gap,
                    chars_chosen=len(pair.chosen),
                    chars_rejected=len(pair.rejected),
                )
            )
            vecs = [centre[topic] + rng.normal(0, 0.3, 64) for _ in range(3)]
            s.add(
                PairState(
                    run_id=run.id,
                    pair_id=pair.id,
                    prompt=states.pack(vecs[0]),
                    chosen=states.pack(vecs[1]),
                    rejected=states.pack(vecs[2]),
                )
            )
        s.commit()
        return run.id, topic_of
