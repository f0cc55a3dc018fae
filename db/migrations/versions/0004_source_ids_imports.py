"""Source ids of pairs; token counts and seconds that imported rows may not know.

Revision ID: 0004
Revises: 0003

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Adding a nullable column and an index needs no table copy, so the pair table's
    # full-text triggers (SQLite) stay in place.
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_id", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_pair_dataset_source_id", ["dataset_id", "source_id"])
    with op.batch_alter_table("pair_score", schema=None) as batch_op:
        batch_op.alter_column("tokens_chosen", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("tokens_rejected", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("generation", schema=None) as batch_op:
        batch_op.alter_column("n_tokens", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("seconds", existing_type=sa.Float(), nullable=True)
    with op.batch_alter_table("generation_score", schema=None) as batch_op:
        batch_op.alter_column("n_tokens", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Downgrade schema (unknown counts become 0)."""
    op.execute("UPDATE generation_score SET n_tokens = 0 WHERE n_tokens IS NULL")
    op.execute("UPDATE generation SET n_tokens = 0 WHERE n_tokens IS NULL")
    op.execute("UPDATE generation SET seconds = 0 WHERE seconds IS NULL")
    op.execute("UPDATE pair_score SET tokens_chosen = 0 WHERE tokens_chosen IS NULL")
    op.execute("UPDATE pair_score SET tokens_rejected = 0 WHERE tokens_rejected IS NULL")
    with op.batch_alter_table("generation_score", schema=None) as batch_op:
        batch_op.alter_column("n_tokens", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("generation", schema=None) as batch_op:
        batch_op.alter_column("seconds", existing_type=sa.Float(), nullable=False)
        batch_op.alter_column("n_tokens", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("pair_score", schema=None) as batch_op:
        batch_op.alter_column("tokens_rejected", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("tokens_chosen", existing_type=sa.Integer(), nullable=False)
    # Not batch mode: copying the pair table would lose its full-text triggers (SQLite);
    # SQLite 3.35+ drops a column in place.
    op.drop_index("ix_pair_dataset_source_id", table_name="pair")
    op.drop_column("pair", "source_id")
