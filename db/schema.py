"""Typed ORM models of the store.

Tables: ``dataset``, ``pair``, ``rejected_row``, ``checkpoint``, ``run``, ``pair_score``,
``metric``, ``generation``, ``generation_score``, ``pair_state`` (kept vectors), ``run_map``
and ``map_point`` (a run's map), ``pair_flag`` (people's flags on pairs). Indexes are named
for the queries that need them: score gap within a run, category within a run, pairs of a
dataset split. Text search over prompts and responses uses an FTS5 table on SQLite
(created by the migration) and LIKE elsewhere.
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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base

RUN_STATUSES = ("pending", "running", "done", "failed")
# Shown, never stored: a running run whose owner process is gone.
DERIVED_STATUSES = ("interrupted",)


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
        Index("ix_pair_dataset_prompt", "dataset_id", "prompt_hash"),
        Index("ix_pair_dataset_source_id", "dataset_id", "source_id"),
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
    # Hash of the prompt messages alone: splits are assigned per prompt, so pairs that
    # share a prompt never land on both sides of a train/test split.
    prompt_hash: Mapped[str | None] = mapped_column(String(64))
    # The row's own ``id`` in its source, when it has one (RewardBench results name the
    # pairs they scored by it).
    source_id: Mapped[str | None] = mapped_column(String(200))

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
    """A model's weights as they were when a run used or made them: one row per (path,
    fingerprint), so retraining into the same folder adds a version and old runs keep
    pointing at the weights that made their numbers."""

    __tablename__ = "checkpoint"
    __table_args__ = (UniqueConstraint("path", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")
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
    # Moved by every write to the run or its rows (cache keys follow it).
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    # What the run measured: fingerprints of the model's weights and of the data items.
    model_fingerprint: Mapped[str | None] = mapped_column(String(64))
    data_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The process working on a running run ("host:pid") and its last sign of life.
    owner: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    checkpoint: Mapped[Checkpoint | None] = relationship()
    dataset: Mapped[Dataset | None] = relationship()


class PairScore(Base):
    __tablename__ = "pair_score"
    __table_args__ = (
        UniqueConstraint("run_id", "pair_id"),
        Index("ix_pair_score_run_gap", "run_id", "gap"),
        Index("ix_pair_score_run_category", "run_id", "category", "gap"),
        Index("ix_pair_score_run_split", "run_id", "split", "category", "gap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    # Copied from the pair so per-category and per-split views of a run need no join.
    category: Mapped[str | None] = mapped_column(String(100))
    split: Mapped[str | None] = mapped_column(String(50))
    score_chosen: Mapped[float] = mapped_column(Float)
    score_rejected: Mapped[float] = mapped_column(Float)
    gap: Mapped[float] = mapped_column(Float)  # score_chosen - score_rejected
    # Tokens of the templated conversation as scored (system + prompt + response, capped);
    # null for scores imported from elsewhere (the scorer's tokenizer is not known).
    tokens_chosen: Mapped[int | None] = mapped_column(Integer)
    tokens_rejected: Mapped[int | None] = mapped_column(Integer)
    # The response alone: characters and tokens (without template or prompt).
    chars_chosen: Mapped[int | None] = mapped_column(Integer)
    chars_rejected: Mapped[int | None] = mapped_column(Integer)
    response_tokens_chosen: Mapped[int | None] = mapped_column(Integer)
    response_tokens_rejected: Mapped[int | None] = mapped_column(Integer)
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
    # Generated tokens and seconds: null for imported answers whose file does not say.
    n_tokens: Mapped[int | None] = mapped_column(Integer)
    finish_reason: Mapped[str] = mapped_column(String(20))  # stop | length
    seconds: Mapped[float | None] = mapped_column(Float)


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
    n_tokens: Mapped[int | None] = mapped_column(Integer)  # null: imported score
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)


class ProbeScore(Base):
    """A reward model's score of one counterfactual edit of one side of a pair, within a
    probe run (edit ``original`` is the unedited response)."""

    __tablename__ = "probe_score"
    __table_args__ = (
        UniqueConstraint("run_id", "pair_id", "edit", "side"),
        Index("ix_probe_score_run_edit", "run_id", "edit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    edit: Mapped[str] = mapped_column(String(100))
    side: Mapped[str] = mapped_column(String(10))  # chosen | rejected
    text: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    n_tokens: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)


class DpoScore(Base):
    """Per pair of a score-dpo run: summed log-probs of each response under the policy and
    the reference (null when the run is reference-free), response tokens, and the
    implicit rewards beta x (log pi - log ref)."""

    __tablename__ = "dpo_score"
    __table_args__ = (
        UniqueConstraint("run_id", "pair_id"),
        Index("ix_dpo_score_run_gap", "run_id", "gap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    category: Mapped[str | None] = mapped_column(String(100))
    logp_policy_chosen: Mapped[float] = mapped_column(Float)
    logp_policy_rejected: Mapped[float] = mapped_column(Float)
    logp_ref_chosen: Mapped[float | None] = mapped_column(Float)
    logp_ref_rejected: Mapped[float | None] = mapped_column(Float)
    tokens_chosen: Mapped[int] = mapped_column(Integer)
    tokens_rejected: Mapped[int] = mapped_column(Integer)
    reward_chosen: Mapped[float] = mapped_column(Float)
    reward_rejected: Mapped[float] = mapped_column(Float)
    gap: Mapped[float] = mapped_column(Float)  # reward_chosen - reward_rejected


class RunValues(Base):
    """One series of a finished run's values, sorted ascending and stored as packed
    little-endian float64 (quantiles, CDF, histogram and percentile then need one read
    and a binary search instead of a scan of the run's rows)."""

    __tablename__ = "run_values"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    series: Mapped[str] = mapped_column(String(300), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PairState(Base):
    """Compact vectors of one pair kept by ``score --keep-states``: the hidden state the
    reward head reads (last real token) for each side, and the state at the last token the
    two sides share (the prompt), each a fixed seeded random projection to at most 64
    dims, packed as little-endian float16 (``preflens.states``)."""

    __tablename__ = "pair_state"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    pair_id: Mapped[int] = mapped_column(
        ForeignKey("pair.id", ondelete="CASCADE"), primary_key=True
    )
    prompt: Mapped[bytes] = mapped_column(LargeBinary)
    chosen: Mapped[bytes] = mapped_column(LargeBinary)
    rejected: Mapped[bytes] = mapped_column(LargeBinary)


class GenerationState(Base):
    """The compact vector of one scored answer kept by ``score-generations --keep-states``:
    the hidden state the reward head read (last real token of prompt + answer), projected
    and packed as ``PairState``'s vectors are (``preflens.states``)."""

    __tablename__ = "generation_state"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("generation.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[bytes] = mapped_column(LargeBinary)


class RunMap(Base):
    """The one stored map of a score run (``preflens map``): what was mapped, how, and the
    clusters with their names and statistics; a new map of the run replaces it."""

    __tablename__ = "run_map"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    representation: Mapped[str] = mapped_column(String(20))  # prompt | diff | chosen
    method: Mapped[str] = mapped_column(String(20))  # umap | pca
    clusterer: Mapped[str] = mapped_column(String(20))  # hdbscan | kmeans
    n: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    clusters: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MapPoint(Base):
    """One pair's place on its run's map: 2D coordinates and cluster (-1: noise)."""

    __tablename__ = "map_point"
    __table_args__ = (Index("ix_map_point_run_cluster", "run_id", "cluster"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    pair_id: Mapped[int] = mapped_column(
        ForeignKey("pair.id", ondelete="CASCADE"), primary_key=True
    )
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    cluster: Mapped[int] = mapped_column(Integer)


FLAG_LABELS = ("mislabelled", "ambiguous", "bad-prompt", "ok")


class PairFlag(Base):
    """A person's verdict on one pair (``FLAG_LABELS``) with a note, who set it (the API
    key's name, ``cli`` or ``api`` when no key is set) and when; setting a new flag on
    the pair replaces the old one."""

    __tablename__ = "pair_flag"
    __table_args__ = (Index("ix_pair_flag_label", "label"),)

    pair_id: Mapped[int] = mapped_column(
        ForeignKey("pair.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
