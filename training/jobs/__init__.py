"""One module per job: ingest, score, generate, score_generations, train_rm, train_dpo and
the demo that chains them. A job reads its inputs through ``db.read``, changes its run
only through ``db.runs`` and returns a ``JobResult``; it never prints (the command line
does)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from db.lookup import run_record
from db.schema import Run


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
