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


EDITS = [
    {"name": "append_period", "description": "add a period at the end of the response"},
    {"name": "double_length", "description": "repeat the response twice"},
]


def seed_probe_and_dpo(make_session: sessionmaker[Session], base: Seeded) -> tuple[int, int]:
    """A probe run (two edits over 12 pairs, some flipping the order) and a score_dpo run
    over the same pairs (most implicit rewards right): the Probes page's two tabs."""
    from db.schema import DpoScore, ProbeScore

    pairs = base.pair_ids[:12]
    with make_session() as s:
        probe = Run(
            kind="probe",
            key="k-probe",
            status="done",
            dataset_id=base.dataset_id,
            config={"edits": EDITS, "model": "rm-toy"},
        )
        dpo = Run(
            kind="score_dpo",
            key="k-score-dpo",
            status="done",
            dataset_id=base.dataset_id,
            config={"beta": 0.1, "reference_free": False},
        )
        s.add_all([probe, dpo])
        s.flush()
        for i, pair_id in enumerate(pairs):
            chosen, rejected = 1.0 + i / 10, 0.5 - (i % 3) / 4
            scores = {
                ("original", "chosen"): chosen,
                ("original", "rejected"): rejected,
                ("append_period", "chosen"): chosen + 0.05,
                ("append_period", "rejected"): rejected + 0.05,
                ("double_length", "chosen"): chosen + 0.4,
                ("double_length", "rejected"): rejected + (1.5 if i % 2 else 0.2),
            }
            for (edit, side), score in scores.items():
                s.add(
                    ProbeScore(
                        run_id=probe.id,
                        pair_id=pair_id,
                        edit=edit,
                        side=side,
                        text=f"{edit} {side} {i}",
                        score=score,
                        n_tokens=20,
                    )
                )
            policy_c, policy_r = -40.0 + i, -45.0 - (i % 4)
            ref_c, ref_r = -41.0 + i, -44.0
            rc, rr = 0.1 * (policy_c - ref_c), 0.1 * (policy_r - ref_r)
            s.add(
                DpoScore(
                    run_id=dpo.id,
                    pair_id=pair_id,
                    category=None,
                    logp_policy_chosen=policy_c,
                    logp_policy_rejected=policy_r,
                    logp_ref_chosen=ref_c,
                    logp_ref_rejected=ref_r,
                    tokens_chosen=20,
                    tokens_rejected=22,
                    reward_chosen=rc,
                    reward_rejected=rr,
                    gap=rc - rr,
                )
            )
        s.commit()
        return probe.id, dpo.id
