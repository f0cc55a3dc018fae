"""Reward-model training on a tiny model and an easy synthetic preference."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from sqlalchemy import select

from db.schema import Checkpoint, Metric, Run
from tests.factories import write_jsonl
from training.jobs.ingest import ingest
from training.jobs.train_rm import RMTrainConfig, pairwise_loss, train_rm
from training.loading import freeze_all_but_last

WORDS = ["apple", "river", "stone", "cloud", "window", "garden", "paper", "music"]


def easy_rows(n: int, split: str, start: int = 0) -> list[dict]:
    """Chosen responses say "thanks", rejected ones "no": learnable from one token."""
    rows = []
    for i in range(start, start + n):
        w = WORDS[i % len(WORDS)]
        rows.append(
            {
                "prompt": f"Tell me about the {w} number {i}.",
                "chosen": f"The {w} is nice, thanks.",
                "rejected": f"The {w} is nice, no.",
                "split": split,
            }
        )
    return rows


@pytest.fixture
def easy(store, tmp_path):
    rows = easy_rows(32, "train") + easy_rows(16, "test", start=100)
    ingest(store, write_jsonl(tmp_path / "easy.jsonl", rows), name="easy", progress=False)
    return "easy"


def test_pairwise_loss_matches_definition():
    rewards = torch.tensor([2.0, 0.0, 1.0, 1.0])  # chosen 2, 0; rejected 1, 1
    loss, correct, margin = pairwise_loss(rewards)
    expected = (
        -(
            torch.log(torch.sigmoid(torch.tensor(1.0)))
            + torch.log(torch.sigmoid(torch.tensor(-1.0)))
        )
        / 2
    )
    assert loss.item() == pytest.approx(expected.item())
    assert correct.tolist() == [1.0, 0.0] and margin.tolist() == [1.0, -1.0]


def test_training_raises_accuracy_and_writes_everything(store, easy, tiny_lm, tmp_path):
    out = tmp_path / "rm"
    cfg = RMTrainConfig(
        dataset=easy,
        model=str(tiny_lm),
        output=str(out),
        lr=3e-3,
        batch_size=8,
        epochs=6,
        logging_steps=4,
        eval_steps=12,
        max_length=64,
        warmup_ratio=0.0,
    )
    result = train_rm(store, cfg, progress=False)
    run = result.run
    assert run.status == "done" and run.kind == "train_rm"
    scores = run.summary["scores"]
    before, after = scores["before"], scores["after"]
    assert before["pairs"] == after["pairs"] == 16
    assert after["accuracy"] > before["accuracy"] and after["accuracy"] >= 0.9
    with store() as s:
        names = set(s.scalars(select(Metric.name).where(Metric.run_id == run.id)))
        assert {
            "train/loss",
            "train/accuracy",
            "train/margin",
            "train/learning_rate",
            "eval/loss",
            "eval/accuracy",
        } <= names
        lrs = s.scalars(
            select(Metric.value)
            .where(Metric.run_id == run.id, Metric.name == "train/learning_rate")
            .order_by(Metric.step)
        ).all()
        assert lrs[-1] < max(lrs)  # cosine decay
        after_run = s.get(Run, after["run"])
        assert after_run.parent_run_id == run.id
        ckpt = s.scalars(select(Checkpoint).where(Checkpoint.kind == "rm")).one()
        assert ckpt.path == str(out.resolve())
    record = json.loads((out / "run.json").read_text())
    assert record["config"]["lr"] == 3e-3 and len(record["dataset_hash"]) == 64
    assert record["base_model_path"] == str(tiny_lm.resolve())
    assert "score.weight" in load_file(out / "model.safetensors")
    again = train_rm(store, cfg, progress=False)
    assert again.reused and again.run.id == run.id


def test_over_long_pairs_are_truncated_and_counted(store, easy, tiny_lm, tmp_path):
    cfg = RMTrainConfig(
        dataset=easy,
        model=str(tiny_lm),
        output=str(tmp_path / "rm2"),
        max_steps=1,
        max_length=12,
        score_before=False,
        score_after=False,
    )
    run = train_rm(store, cfg, progress=False).run
    assert run.summary["train_pairs"] == 32 and run.summary["truncated_pairs"] == 32


def test_freeze_all_but_last(tiny_lm):
    from training.loading import load_reward_model

    model = load_reward_model(str(tiny_lm), device="cpu").model
    freeze_all_but_last(model, 1)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(n.startswith("model.layers.1.") for n in trainable)
    assert not any(n.startswith("model.layers.0.") for n in trainable)
    assert "score.weight" in trainable and "model.embed_tokens.weight" not in trainable
