"""One module per job: ingest, score, generate, score_generations, train_rm, train_dpo and
the demo that chains them. A job reads its inputs through ``db.read``, changes its run
only through ``db.runs`` and returns a ``JobResult``; it never prints (the command line
does)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import runs
from db.lookup import run_record
from db.schema import Generation, GenerationScore, Pair, Run
from db.session import writing

if TYPE_CHECKING:
    from training.loading import RewardModel


@dataclass
class JobResult:
    run: Run
    reused: bool  # the run was already complete; nothing was done
    done_now: int  # items (pairs, answers) processed by this call

    @classmethod
    def load(
        cls, make_session: sessionmaker[Session], run_id: int, reused: bool, done_now: int
    ) -> JobResult:
        """The result with the run as the store has it now."""
        with make_session() as session:
            return cls(run_record(session, run_id), reused, done_now)


def apply_num_threads() -> None:
    """Apply ``PREFLENS_NUM_THREADS`` to torch before a job runs a model (the command
    line and ``preflens.api`` both call it; unset leaves torch's own choice)."""
    from preflens.config import get_settings

    threads = get_settings().num_threads
    if threads:
        import torch

        torch.set_num_threads(threads)


def record_rm_checkpoint(
    make_session: sessionmaker[Session], run_id: int, rm: RewardModel, fingerprint: str
) -> None:
    """Link run ``run_id`` to the checkpoint row of the reward model it scores with (kind
    "base" when its head was initialised from a seed, "rm" for a trained head)."""
    kind = "base" if rm.head_initialized else "rm"
    with writing(make_session) as session:
        ckpt = runs.checkpoint_for(
            session, rm.path, name=str(rm.spec), kind=kind, fingerprint=fingerprint
        )
        session.get(Run, run_id).checkpoint_id = ckpt.id


def unscored_answers(
    make_session: sessionmaker[Session], run_id: int, generation_run: int
) -> list[Any]:
    """The answers of ``generation_run`` that run ``run_id`` has not scored yet, as
    (generation id, prompt, text) rows in id order."""
    with make_session() as session:
        scored = select(GenerationScore.generation_id).where(GenerationScore.run_id == run_id)
        return list(
            session.execute(
                select(Generation.id, Pair.prompt, Generation.text)
                .join(Pair, Pair.id == Generation.pair_id)
                .where(Generation.run_id == generation_run, Generation.id.not_in(scored))
                .order_by(Generation.id)
            ).all()
        )
