"""The demo pipeline behind ``preflens demo`` / ``make demo``.

Steps, each reused when already done: fetch the embedded model, write and ingest the
demo preference set, score its test split with the untrained reward model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from preflens.config import EMBEDDED_MODEL_ALIAS, get_settings

log = logging.getLogger(__name__)
DEMO_DATASET = "demo"
# Sized for a 2-core CPU: demo conversations are short; 256 tokens holds all of them.
DEMO_MAX_LENGTH = 256
DEMO_BATCH_SIZE = 8


def run_demo(make_session: sessionmaker[Session], out: Callable[[str], None]) -> int:
    from preflens.cli import print_ingest_report, print_score_summary
    from training.demo_data import write_demo_dataset
    from training.ingest import ingest
    from training.models import pull_embedded_model
    from training.score_run import run_score_job

    out("== 1/3 embedded model")
    path, created = pull_embedded_model()
    out(f"{'converted' if created else 'found'} {EMBEDDED_MODEL_ALIAS} at {path}")

    out("== 2/3 demo preference data")
    data_file = get_settings().data_dir.resolve() / "demo" / "demo_prefs.jsonl"
    data_file.parent.mkdir(parents=True, exist_ok=True)
    write_demo_dataset(data_file)
    print_ingest_report(ingest(make_session, data_file, fmt="trl", name=DEMO_DATASET))

    out("== 3/3 score the test split with the untrained reward model (random head, seed 0)")
    result = run_score_job(
        make_session,
        EMBEDDED_MODEL_ALIAS,
        DEMO_DATASET,
        "test",
        batch_size=DEMO_BATCH_SIZE,
        max_length=DEMO_MAX_LENGTH,
    )
    note = "reused the finished run" if result.reused else f"scored {result.done_now} pairs"
    out(f"score run {result.run.id}: {note}")
    print_score_summary(result.run.summary or {}, "  before training: ")
    out("Next: `preflens runs` lists the runs; `preflens datasets` the data.")
    return 0
