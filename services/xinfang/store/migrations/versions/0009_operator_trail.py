"""The operator audit trail: table operator_trail, append-only (decision 027).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

Triggers refuse UPDATE and DELETE on the table on both engines, so not even a slip in SQL run by
hand changes an entry (an operator with DDL rights can still drop them: that is what the
signatures and the chain are for).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_MESSAGE = "operator_trail is append-only / 操作审计记录不可修改或删除"


def upgrade() -> None:
    op.create_table(
        "operator_trail",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_operator_trail_at", "operator_trail", ["at"])
    op.create_index("ix_operator_trail_person", "operator_trail", ["person"])
    op.create_index("ix_operator_trail_action", "operator_trail", ["action"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION operator_trail_append_only() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{_MESSAGE}'; END $$ LANGUAGE plpgsql"
        )
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER operator_trail_no_{verb.lower()} BEFORE {verb} ON operator_trail"
                " FOR EACH ROW EXECUTE FUNCTION operator_trail_append_only()"
            )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER operator_trail_no_{verb.lower()} BEFORE {verb} ON operator_trail"
                f" BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )


def downgrade() -> None:
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS operator_trail_no_{verb}" + (
            " ON operator_trail" if op.get_bind().dialect.name == "postgresql" else ""
        ))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS operator_trail_append_only()")
    op.drop_index("ix_operator_trail_action", table_name="operator_trail")
    op.drop_index("ix_operator_trail_person", table_name="operator_trail")
    op.drop_index("ix_operator_trail_at", table_name="operator_trail")
    op.drop_table("operator_trail")
