"""Cases: matter key (R11/R12 duplicate detection) and an index for open cases.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("matter_key", sa.String(length=64), nullable=True))
        batch.create_index("ix_cases_matter_key", ["matter_key"])
        batch.create_index("ix_cases_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_status")
        batch.drop_index("ix_cases_matter_key")
        batch.drop_column("matter_key")
