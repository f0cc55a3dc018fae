"""Initial schema: datasets, pairs, rejected rows, checkpoints, runs, pair scores, metrics.

Revision ID: 0001
Revises:

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

FTS_CREATE = (
    "CREATE VIRTUAL TABLE pair_fts USING fts5("
    "prompt_text, chosen, rejected, content='pair', content_rowid='id')",
    "CREATE TRIGGER pair_fts_ai AFTER INSERT ON pair BEGIN "
    "INSERT INTO pair_fts(rowid, prompt_text, chosen, rejected) "
    "VALUES (new.id, new.prompt_text, new.chosen, new.rejected); END",
    "CREATE TRIGGER pair_fts_ad AFTER DELETE ON pair BEGIN "
    "INSERT INTO pair_fts(pair_fts, rowid, prompt_text, chosen, rejected) "
    "VALUES ('delete', old.id, old.prompt_text, old.chosen, old.rejected); END",
    "CREATE TRIGGER pair_fts_au AFTER UPDATE ON pair BEGIN "
    "INSERT INTO pair_fts(pair_fts, rowid, prompt_text, chosen, rejected) "
    "VALUES ('delete', old.id, old.prompt_text, old.chosen, old.rejected); "
    "INSERT INTO pair_fts(rowid, prompt_text, chosen, rejected) "
    "VALUES (new.id, new.prompt_text, new.chosen, new.rejected); END",
)


def _has_fts5() -> bool:
    rows = op.get_bind().exec_driver_sql("PRAGMA compile_options").fetchall()
    return any("FTS5" in row[0] for row in rows)


# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("base", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint")),
        sa.UniqueConstraint("path", name=op.f("uq_checkpoint_path")),
    )
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=50), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("name", name=op.f("uq_dataset_name")),
    )
    op.create_table(
        "pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("split", sa.String(length=50), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.JSON(), nullable=False),
        sa.Column("prompt_text", sa.Text(), nullable=False),
        sa.Column("chosen", sa.Text(), nullable=False),
        sa.Column("rejected", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_pair_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair")),
        sa.UniqueConstraint(
            "dataset_id", "content_hash", name=op.f("uq_pair_dataset_id_content_hash")
        ),
    )
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.create_index("ix_pair_dataset_category", ["dataset_id", "category"], unique=False)
        batch_op.create_index("ix_pair_dataset_split", ["dataset_id", "split"], unique=False)

    op.create_table(
        "rejected_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("raw_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_rejected_row_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_row")),
        sa.UniqueConstraint(
            "dataset_id", "raw_hash", name=op.f("uq_rejected_row_dataset_id_raw_hash")
        ),
    )
    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("checkpoint_id", sa.Integer(), nullable=True),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("split", sa.String(length=50), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"], ["checkpoint.id"], name=op.f("fk_run_checkpoint_id_checkpoint")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_run_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run")),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index("ix_run_kind_key", ["kind", "key"], unique=False)

    op.create_table(
        "metric",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_metric_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric")),
        sa.UniqueConstraint("run_id", "name", "step", name=op.f("uq_metric_run_id_name_step")),
    )
    op.create_table(
        "pair_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("score_chosen", sa.Float(), nullable=False),
        sa.Column("score_rejected", sa.Float(), nullable=False),
        sa.Column("gap", sa.Float(), nullable=False),
        sa.Column("tokens_chosen", sa.Integer(), nullable=False),
        sa.Column("tokens_rejected", sa.Integer(), nullable=False),
        sa.Column("truncated_chosen", sa.Boolean(), nullable=False),
        sa.Column("truncated_rejected", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_pair_score_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_pair_score_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_score")),
        sa.UniqueConstraint("run_id", "pair_id", name=op.f("uq_pair_score_run_id_pair_id")),
    )
    with op.batch_alter_table("pair_score", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pair_score_run_category", ["run_id", "category", "gap"], unique=False
        )
        batch_op.create_index("ix_pair_score_run_gap", ["run_id", "gap"], unique=False)

    if op.get_bind().dialect.name == "sqlite" and _has_fts5():
        # External-content FTS5 index over prompt and responses, kept in step by triggers.
        for statement in FTS_CREATE:
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("pair_fts_ai", "pair_fts_ad", "pair_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS pair_fts")
    with op.batch_alter_table("pair_score", schema=None) as batch_op:
        batch_op.drop_index("ix_pair_score_run_gap")
        batch_op.drop_index("ix_pair_score_run_category")

    op.drop_table("pair_score")
    op.drop_table("metric")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index("ix_run_kind_key")

    op.drop_table("run")
    op.drop_table("rejected_row")
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.drop_index("ix_pair_dataset_split")
        batch_op.drop_index("ix_pair_dataset_category")

    op.drop_table("pair")
    op.drop_table("dataset")
    op.drop_table("checkpoint")
