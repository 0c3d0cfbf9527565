"""Cases: when the deadline watcher must next look at each (a due-time index).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Rows written before this revision have no value; the watcher looks at those at its next sweep
and fills it in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_cases_next_check_at", ["next_check_at"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_next_check_at")
        batch.drop_column("next_check_at")
