"""Run identity and ownership, response lengths, split beside category, prompt hashes,
probe and DPO per-pair tables, materialised value series; PostgreSQL text search.

Revision ID: 0003
Revises: 0002

"""

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_SEARCH = (
    "ALTER TABLE pair ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple', coalesce(prompt_text, '') || ' ' || coalesce(chosen, '') "
    "|| ' ' || coalesce(rejected, ''))) STORED",
    "CREATE INDEX ix_pair_search_vector ON pair USING gin (search_vector)",
)


def _prompt_hash(prompt: object) -> str:
    # The same rule as training.jobs.ingest.prompt_hash, written out so this migration
    # never changes when that code does.
    return hashlib.sha256(json.dumps(prompt, ensure_ascii=False).encode()).hexdigest()


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("model_fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("data_fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE run SET updated_at = coalesce(finished_at, started_at, created_at)")

    with op.batch_alter_table("checkpoint", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fingerprint", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_checkpoint_path", type_="unique")
        batch_op.create_unique_constraint("uq_checkpoint_path_fingerprint", ["path", "fingerprint"])

    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prompt_hash", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_pair_dataset_prompt", ["dataset_id", "prompt_hash"])
    pair = sa.table(
        "pair",
        sa.column("id", sa.Integer),
        sa.column("prompt", sa.JSON),
        sa.column("prompt_hash", sa.String),
    )
    rows = bind.execute(sa.select(pair.c.id, pair.c.prompt)).all()
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        bind.execute(
            pair.update()
            .where(pair.c.id == sa.bindparam("pid"))
            .values(prompt_hash=sa.bindparam("h")),
            [{"pid": pid, "h": _prompt_hash(prompt)} for pid, prompt in chunk],
        )

    with op.batch_alter_table("pair_score", schema=None) as batch_op:
        batch_op.add_column(sa.Column("split", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("chars_chosen", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("chars_rejected", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("response_tokens_chosen", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("response_tokens_rejected", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE pair_score SET split = (SELECT pair.split FROM pair WHERE pair.id = "
        "pair_score.pair_id), chars_chosen = (SELECT length(pair.chosen) FROM pair WHERE "
        "pair.id = pair_score.pair_id), chars_rejected = (SELECT length(pair.rejected) FROM "
        "pair WHERE pair.id = pair_score.pair_id)"
    )
    with op.batch_alter_table("pair_score", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pair_score_run_split", ["run_id", "split", "category", "gap"], unique=False
        )

    op.create_table(
        "probe_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("edit", sa.String(length=100), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("n_tokens", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_probe_score_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_probe_score_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_score")),
        sa.UniqueConstraint(
            "run_id",
            "pair_id",
            "edit",
            "side",
            name=op.f("uq_probe_score_run_id_pair_id_edit_side"),
        ),
    )
    with op.batch_alter_table("probe_score", schema=None) as batch_op:
        batch_op.create_index("ix_probe_score_run_edit", ["run_id", "edit"], unique=False)

    op.create_table(
        "dpo_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("logp_policy_chosen", sa.Float(), nullable=False),
        sa.Column("logp_policy_rejected", sa.Float(), nullable=False),
        sa.Column("logp_ref_chosen", sa.Float(), nullable=True),
        sa.Column("logp_ref_rejected", sa.Float(), nullable=True),
        sa.Column("tokens_chosen", sa.Integer(), nullable=False),
        sa.Column("tokens_rejected", sa.Integer(), nullable=False),
        sa.Column("reward_chosen", sa.Float(), nullable=False),
        sa.Column("reward_rejected", sa.Float(), nullable=False),
        sa.Column("gap", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_dpo_score_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_dpo_score_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dpo_score")),
        sa.UniqueConstraint("run_id", "pair_id", name=op.f("uq_dpo_score_run_id_pair_id")),
    )
    with op.batch_alter_table("dpo_score", schema=None) as batch_op:
        batch_op.create_index("ix_dpo_score_run_gap", ["run_id", "gap"], unique=False)

    op.create_table(
        "run_values",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=300), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_values_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "series", name=op.f("pk_run_values")),
    )

    if bind.dialect.name == "postgresql":
        for statement in PG_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_pair_search_vector")
        op.execute("ALTER TABLE pair DROP COLUMN IF EXISTS search_vector")
    op.drop_table("run_values")
    with op.batch_alter_table("dpo_score", schema=None) as batch_op:
        batch_op.drop_index("ix_dpo_score_run_gap")
    op.drop_table("dpo_score")
    with op.batch_alter_table("probe_score", schema=None) as batch_op:
        batch_op.drop_index("ix_probe_score_run_edit")
    op.drop_table("probe_score")
    with op.batch_alter_table("pair_score", schema=None) as batch_op:
        batch_op.drop_index("ix_pair_score_run_split")
        for name in (
            "response_tokens_rejected",
            "response_tokens_chosen",
            "chars_rejected",
            "chars_chosen",
            "split",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.drop_index("ix_pair_dataset_prompt")
        batch_op.drop_column("prompt_hash")
    with op.batch_alter_table("checkpoint", schema=None) as batch_op:
        batch_op.drop_constraint("uq_checkpoint_path_fingerprint", type_="unique")
        batch_op.create_unique_constraint("uq_checkpoint_path", ["path"])
        batch_op.drop_column("fingerprint")
    with op.batch_alter_table("run", schema=None) as batch_op:
        for name in (
            "heartbeat_at",
            "owner",
            "data_fingerprint",
            "model_fingerprint",
            "updated_at",
        ):
            batch_op.drop_column(name)
