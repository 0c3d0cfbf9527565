"""Protected columns: room for field ciphertext (issue 15 item 3).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

cases.query_code and accounts.totp_secret are stored as `xf1.` field ciphertext
(privacy/columns.py), longer than their old VARCHAR(32)/(64): both become TEXT. The values
themselves are sealed by the node (its keys are never in the database, so a migration cannot):
the re-encryption sweep seals clear values at start-up, and matter keys stored unkeyed are
re-derived from the events (store.case_events.SqlCaseReads.ids_to_rekey).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("query_code", type_=sa.Text(), existing_type=sa.String(length=32),
                           existing_nullable=False)  # fmt: skip
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column("totp_secret", type_=sa.Text(), existing_type=sa.String(length=64),
                           existing_nullable=True)  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column("totp_secret", type_=sa.String(length=64), existing_type=sa.Text(),
                           existing_nullable=True)  # fmt: skip
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("query_code", type_=sa.String(length=32), existing_type=sa.Text(),
                           existing_nullable=False)  # fmt: skip
