"""Strict per-source chains: own per-destination pointers and records parked on a chain gap.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

`chain_pointers`: the `seq` of the last own record sent to each destination (the next record's
`xinfang_prev_to`). `chain_parked`: a direct source's records that name a previous record this
node has not applied yet (decision 022). Both start empty: records written before this revision
carry no pointers and are not re-checked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "chain_pointers",
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("destination"),
    )
    op.create_table(
        "chain_parked",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("prev_seq", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "seq"),
    )
    op.create_index("ix_chain_parked_prev_seq", "chain_parked", ["prev_seq"])
    # the head before a record the rules refused, which the source's genuine record may replace
    op.add_column("chain_sources", sa.Column("refused_before_seq", sa.BigInteger(), nullable=True))
    op.add_column(
        "chain_sources", sa.Column("refused_before_hash", sa.String(length=64), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("chain_sources") as batch:
        batch.drop_column("refused_before_hash")
        batch.drop_column("refused_before_seq")
    op.drop_index("ix_chain_parked_prev_seq", table_name="chain_parked")
    op.drop_table("chain_parked")
    op.drop_table("chain_pointers")
