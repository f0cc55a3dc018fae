"""Flags people set on pairs (mislabelled, ambiguous, bad-prompt, ok), one per pair.

Revision ID: 0006
Revises: 0005

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "pair_flag",
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_pair_flag_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pair_id", name=op.f("pk_pair_flag")),
    )
    op.create_index("ix_pair_flag_label", "pair_flag", ["label"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_pair_flag_label", table_name="pair_flag")
    op.drop_table("pair_flag")
