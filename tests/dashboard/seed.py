"""A store for the dashboard tests: ``tests.backend.seed`` (a dataset, a score run, a
training run, a generation comparison) plus what the dashboard's pages also show: a
pair whose texts try HTML, script and Markdown, rejected rows, an "after training" score
run paired with the first through the training run's summary, a DPO run's curves,
checkpoints and a score run still running."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from db import read, runs
from db.schema import Checkpoint, Metric, Pair, RejectedRow, Run
from tests.backend.seed import Seeded, add_pair_score, gap_of, seed_store

XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = '<img src=x onerror="window.__xss=2">'
XSS_REJECTED = f"Sure. {XSS_SCRIPT} {XSS_IMG} done"
XSS_CHOSEN = "See [this link](javascript:window.__xss=3) and **bold** <b>tags</b>."
XSS_GAP = 9.5  # the largest gap of the first score run: first when sorted by largest gap


@dataclass
class DashboardSeed:
    base: Seeded
    xss_pair: int
    after_run: int
    dpo_run: int
    running_run: int
    simpo_run: int


def seed_dashboard_store(make_session: sessionmaker[Session]) -> DashboardSeed:
    base = seed_store(make_session)
    with make_session() as s:
        xss = Pair(
            dataset_id=base.dataset_id,
            split="test",
            source_row=999,
            prompt=[{"role": "user", "content": "Render this: <b>hi</b> [x](http://example.com)"}],
            prompt_text="user: Render this: <b>hi</b> [x](http://example.com)",
            chosen=XSS_CHOSEN,
            rejected=XSS_REJECTED,
            category="safety",
            content_hash=hashlib.sha256(b"xss").hexdigest(),
        )
        s.add(xss)
        s.flush()
        first = s.get(Run, base.score_run)
        add_pair_score(s, first.id, xss, XSS_GAP)
        # Committed before summaries are read: a finished run's summary stores its value
        # series through a second connection, which would wait on this transaction.
        s.commit()
        first.summary = read.score_summary(s, first.id)
        first.total = len(base.pair_ids) + 1

        s.add_all(
            [
                RejectedRow(
                    dataset_id=base.dataset_id,
                    source_row=7,
                    reason="empty response (chosen)",
                    raw='{"chosen": ""}',
                    raw_hash="r1",
                ),
                RejectedRow(
                    dataset_id=base.dataset_id,
                    source_row=12,
                    reason="empty response (chosen)",
                    raw='{"chosen": " "}',
                    raw_hash="r2",
                ),
                RejectedRow(
                    dataset_id=base.dataset_id,
                    source_row=30,
                    reason="invalid JSON",
                    raw="{oops",
                    raw_hash="r3",
                ),
            ]
        )
        rm_ckpt = s.get(Checkpoint, base.rm_checkpoint)  # made by the training run
        dpo_ckpt = Checkpoint(
            name="dpo-toy", path="/srv/ckpt/dpo-toy", base="tiny", kind="policy", config={}
        )
        s.add(dpo_ckpt)
        s.flush()

        train = s.get(Run, base.train_run)
        for step in range(1, 6):
            s.add(Metric(run_id=train.id, step=step, name="train/margin", value=0.1 * step))
            s.add(Metric(run_id=train.id, step=step, name="train/learning_rate", value=1e-4 / step))
        s.add(Metric(run_id=train.id, step=5, name="eval/loss", value=0.55))

        after = Run(
            kind="score",
            key="k-after",
            status="done",
            progress=1.0,
            dataset_id=base.dataset_id,
            total=len(base.pair_ids),
            parent_run_id=train.id,
            checkpoint_id=rm_ckpt.id,
            config={"model": "rm-toy"},
        )
        s.add(after)
        s.flush()
        pairs = [s.get(Pair, pid) for pid in base.pair_ids]
        for i, p in enumerate(pairs):
            add_pair_score(s, after.id, p, gap_of(i) + 1.0)
        s.commit()
        after.summary = read.score_summary(s, after.id)
        train.summary = {
            "steps": 5,
            "train_loss": 0.4,
            "scores": {
                "before": {"run": first.id, **first.summary},
                "after": {"run": after.id, **after.summary},
            },
        }

        simpo = Run(  # reference-free: its "rewards" are beta x average log-prob
            kind="train_dpo",
            key="k-simpo",
            status="done",
            progress=1.0,
            dataset_id=base.dataset_id,
            config={"loss": "simpo", "beta": 2.0, "model": "simpo-toy"},
        )
        s.add(simpo)
        s.flush()
        for step in (1, 2, 3):
            for name, value in {
                "train/loss": 1.0 - 0.1 * step,
                "train/rewards/chosen": -2.0 + 0.1 * step,
                "train/rewards/rejected": -2.2 - 0.1 * step,
                "train/rewards/margins": 0.2 + 0.2 * step,
                "train/rewards/accuracies": 0.5 + 0.1 * step,
            }.items():
                s.add(Metric(run_id=simpo.id, step=step, name=name, value=value))

        dpo = Run(
            kind="train_dpo",
            key="k-dpo",
            status="done",
            progress=1.0,
            dataset_id=base.dataset_id,
            checkpoint_id=dpo_ckpt.id,
            config={"loss": "sigmoid", "beta": 0.1},
        )
        s.add(dpo)
        s.flush()
        # The first logged step: the policy still equals the reference, every reward 0,
        # and the trainer's accuracy (ties counted as wrong) is 0.
        for name in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"):
            s.add(Metric(run_id=dpo.id, step=1, name=f"train/{name}", value=0.0))
        s.add(Metric(run_id=dpo.id, step=1, name="train/loss", value=0.6931))
        for step in range(2, 14, 2):
            values = {
                "train/loss": 0.69 - 0.03 * step,
                "train/rewards/chosen": 0.02 * step,
                "train/rewards/rejected": -0.03 * step,
                "train/rewards/margins": 0.05 * step,
                "train/rewards/accuracies": min(0.5 + 0.04 * step, 1.0),
                "train/learning_rate": 5e-5,
            }
            for name, value in values.items():
                s.add(Metric(run_id=dpo.id, step=step, name=name, value=value))
        for step, accuracy in ((6, 0.55), (12, 0.625)):  # evaluation on the eval split
            values = {
                "eval/loss": 0.7 - 0.01 * step,
                "eval/rewards/chosen": 0.01 * step,
                "eval/rewards/rejected": -0.01 * step,
                "eval/rewards/margins": 0.02 * step,
                "eval/rewards/accuracies": accuracy,
            }
            for name, value in values.items():
                s.add(Metric(run_id=dpo.id, step=step, name=name, value=value))

        running = Run(
            kind="score",
            key="k-running",
            status="running",
            progress=0.4,
            dataset_id=base.dataset_id,
            split="train",
            total=10,
            config={"model": "rm-toy"},
            owner=runs.owner_id(),  # this (live) process: the run shows as running
            heartbeat_at=datetime.now(UTC),
        )
        s.add(running)
        s.flush()
        for i, p in enumerate(pairs[:4]):
            add_pair_score(s, running.id, p, gap_of(i) * 2)
        s.commit()
        ids = (xss.id, after.id, dpo.id, running.id, simpo.id)
    return DashboardSeed(base, *ids)


__all__ = ["DashboardSeed", "seed_dashboard_store", "XSS_SCRIPT", "XSS_IMG"]
