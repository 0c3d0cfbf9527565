"""Outbox: rows the broker will never accept are set aside with their reason.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

A row with `set_aside_at` is no longer in the relay's queue; `xinfang outbox resend` clears both
columns once the cause is fixed. Existing rows have neither (nothing was set aside before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("set_aside_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("set_aside_reason")
        batch.drop_column("set_aside_at")
