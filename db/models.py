"""Typed ORM models of the store.

Tables: ``dataset``, ``pair``, ``rejected_row``, ``checkpoint``, ``run``, ``pair_score``,
``metric``, ``generation`` and ``generation_score``. Indexes are named for the queries
that need them: score gap within a run, category within a run, pairs of a dataset split.
Text search over prompts and responses uses an FTS5 table on SQLite (created by the
migration) and LIKE elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base

RUN_STATUSES = ("pending", "running", "done", "failed")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Dataset(Base):
    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(50))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    pairs: Mapped[list[Pair]] = relationship(back_populates="dataset")


class Pair(Base):
    __tablename__ = "pair"
    __table_args__ = (
        UniqueConstraint("dataset_id", "content_hash"),
        Index("ix_pair_dataset_split", "dataset_id", "split"),
        Index("ix_pair_dataset_category", "dataset_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    split: Mapped[str] = mapped_column(String(50))
    source_row: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # The prompt flattened to text, for search and display without parsing JSON.
    prompt_text: Mapped[str] = mapped_column(Text)
    chosen: Mapped[str] = mapped_column(Text)
    rejected: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))

    dataset: Mapped[Dataset] = relationship(back_populates="pairs")


class RejectedRow(Base):
    __tablename__ = "rejected_row"
    __table_args__ = (UniqueConstraint("dataset_id", "raw_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    source_row: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    # The raw row as text (cut at 10k characters) so a user can see what was wrong.
    raw: Mapped[str] = mapped_column(Text)
    raw_hash: Mapped[str] = mapped_column(String(64))


class Checkpoint(Base):
    __tablename__ = "checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(Text, unique=True)
    base: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))  # base | rm | policy
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Run(Base):
    __tablename__ = "run"
    __table_args__ = (Index("ix_run_kind_key", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # score | train_rm | train_dpo | ...
    # Hash of everything that defines the job; the same command finds and resumes it.
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    total: Mapped[int | None] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoint.id"))
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    split: Mapped[str | None] = mapped_column(String(50))
    # The run this one derives from: the score run after training points at the training
    # run, a generation-scoring run at the generation run.
    parent_run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)

    checkpoint: Mapped[Checkpoint | None] = relationship()
    dataset: Mapped[Dataset | None] = relationship()


class PairScore(Base):
    __tablename__ = "pair_score"
    __table_args__ = (
        UniqueConstraint("run_id", "pair_id"),
        Index("ix_pair_score_run_gap", "run_id", "gap"),
        Index("ix_pair_score_run_category", "run_id", "category", "gap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    # Copied from the pair so per-category views of a run need no join.
    category: Mapped[str | None] = mapped_column(String(100))
    score_chosen: Mapped[float] = mapped_column(Float)
    score_rejected: Mapped[float] = mapped_column(Float)
    gap: Mapped[float] = mapped_column(Float)  # score_chosen - score_rejected
    tokens_chosen: Mapped[int] = mapped_column(Integer)
    tokens_rejected: Mapped[int] = mapped_column(Integer)
    truncated_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    truncated_rejected: Mapped[bool] = mapped_column(Boolean, default=False)


class Metric(Base):
    __tablename__ = "metric"
    __table_args__ = (
        # Doubles as the index for "one run's curve of one metric, by step".
        UniqueConstraint("run_id", "name", "step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)


class Generation(Base):
    """One policy's answer to one pair's prompt, within a generation run."""

    __tablename__ = "generation"
    __table_args__ = (
        UniqueConstraint("run_id", "pair_id", "policy"),
        Index("ix_generation_run_policy", "run_id", "policy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    policy: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    n_tokens: Mapped[int] = mapped_column(Integer)
    finish_reason: Mapped[str] = mapped_column(String(20))  # stop | length
    seconds: Mapped[float] = mapped_column(Float)


class GenerationScore(Base):
    """A reward model's score of one stored generation, within a generation-scoring run."""

    __tablename__ = "generation_score"
    __table_args__ = (
        UniqueConstraint("run_id", "generation_id"),
        Index("ix_generation_score_run_score", "run_id", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    generation_id: Mapped[int] = mapped_column(ForeignKey("generation.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    n_tokens: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
