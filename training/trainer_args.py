"""The trainer arguments RM and DPO training share: the same schedule, logging,
evaluation and device choice (fp32 on CPU, bf16 on a GPU that supports it), from
config fields both job configs name alike."""

from __future__ import annotations

from typing import Any

import torch


def common_trainer_args(cfg: Any, output_dir: str, has_eval: bool, progress: bool) -> dict:
    """Keyword arguments for ``TrainingArguments`` or a TRL config built from ``cfg``
    (``epochs``, ``max_steps``, ``lr``, ``batch_size``, ``grad_accum``, ``scheduler``,
    ``warmup_ratio``, ``logging_steps``, ``eval_steps``, ``seed``)."""
    use_gpu = torch.cuda.is_available()
    return dict(
        output_dir=output_dir,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        learning_rate=cfg.lr,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_ratio,  # a value below 1 is a share of the steps
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if cfg.eval_steps and has_eval else "no",
        eval_steps=cfg.eval_steps,
        save_strategy="no",
        report_to=[],
        seed=cfg.seed,
        use_cpu=not use_gpu,
        bf16=use_gpu and torch.cuda.is_bf16_supported(),
        fp16=False,
        disable_tqdm=not progress,
        dataloader_num_workers=0,
    )
